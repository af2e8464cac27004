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
