"""helpers.train and helpers.models on tiny problems whose answers are known (CPU, no data files).
"""

from __future__ import annotations
import numpy as np
import pytest
import torch
from helpers.training.inputs import augment_batch, flip_and_crop


def test_augmentation_is_a_flip_or_a_shift_of_the_same_image():
    g = torch.Generator().manual_seed(0)
    x = torch.rand(64, 3, 16, 16, generator=g)
    flipped = augment_batch(x, ("flip",), torch.Generator().manual_seed(1))
    same = (flipped == x).flatten(1).all(1)
    mirrored = (flipped == x.flip(3)).flatten(1).all(1)
    assert (same | mirrored).all() and same.any() and mirrored.any()
    cropped = augment_batch(x, ("crop",), torch.Generator().manual_seed(2))
    assert cropped.shape == x.shape
    # a pad-and-crop shift keeps the image's centre pixels, moved by at most 4
    for i in range(8):
        centre = x[i, :, 6:10, 6:10]
        found = any(torch.equal(cropped[i, :, 6 + dy:10 + dy, 6 + dx:10 + dx], centre)
                    for dy in range(-4, 5) for dx in range(-4, 5))
        assert found


def test_flip_and_crop_matches_numpy_pad_and_slice():
    g = torch.Generator().manual_seed(3)
    x = torch.rand(5, 2, 6, 7, generator=g)
    flip = torch.tensor([True, False, True, False, False])
    dy, dx = torch.tensor([0, 1, 2, 4, 2]), torch.tensor([4, 0, 2, 3, 1])
    got = flip_and_crop(x, flip, dy, dx, pad=2).numpy()
    for i in range(5):
        img = x[i].numpy()[:, :, ::-1] if flip[i] else x[i].numpy()
        padded = np.pad(img, ((0, 0), (2, 2), (2, 2)), mode="reflect")
        np.testing.assert_array_equal(got[i], padded[:, dy[i]:dy[i] + 6, dx[i]:dx[i] + 7])
    assert torch.equal(flip_and_crop(x, torch.zeros(5, dtype=torch.bool), torch.full((5,), 2),
                                     torch.full((5,), 2), pad=2), x)  # centre crop, no flip: unchanged
    with pytest.raises(ValueError, match=r"dy must have shape \(5,\)"):
        flip_and_crop(x, flip, dy[:3], dx, pad=2)
    with pytest.raises(ValueError, match=r"must lie in 0..4"):
        flip_and_crop(x, flip, dy + 1, dx, pad=2)


def test_to_input_is_the_formula_bit_for_bit_and_keeps_the_memory_format():
    from helpers.training.inputs import to_input

    g = torch.Generator().manual_seed(4)
    x = torch.randint(0, 256, (6, 3, 5, 5), dtype=torch.uint8, generator=g)
    assert torch.equal(to_input(x), (x.float() / 255 - 0.5) / 0.25)  # the in-place ops round alike
    assert to_input(x).dtype == torch.float32 and torch.equal(x, x.clone())  # x itself untouched
    last = x.contiguous(memory_format=torch.channels_last)
    assert to_input(last).is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(to_input(last), to_input(x))


def test_augment_batch_reads_nothing_back_to_the_host(monkeypatch):
    """flip_and_crop's range checks read dy and dx back (int(tensor): a sync per value on a GPU);
    augment_batch draws them in range itself and skips them, with the same result."""
    x = torch.rand(16, 3, 8, 8, generator=torch.Generator().manual_seed(5))
    expected = augment_batch(x, ("flip", "crop"), torch.Generator().manual_seed(6))

    def no_read_back(*args, **kwargs):
        raise AssertionError("augment_batch read a tensor back to the host")

    for name in ("__int__", "__bool__", "item", "tolist"):
        monkeypatch.setattr(torch.Tensor, name, no_read_back)
    got = augment_batch(x, ("flip", "crop"), torch.Generator().manual_seed(6))
    monkeypatch.undo()
    assert torch.equal(got, expected)
    g = torch.Generator().manual_seed(6)  # the same draws, through the public, checked function
    flip = torch.rand(16, generator=g) < 0.5
    dy, dx = torch.randint(0, 9, (16,), generator=g), torch.randint(0, 9, (16,), generator=g)
    assert torch.equal(flip_and_crop(x, flip, dy, dx, pad=4), expected)
