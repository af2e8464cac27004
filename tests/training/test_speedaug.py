"""helpers.training.speedaug: alternating and random flips, whole-set shifts, and test-time
augmentation on hand-made models whose answer is known."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.training.inputs import flip_and_crop
from helpers.training.speedaug import epoch_flips, epoch_images, tta_logits


def test_alternating_flips_toggle_every_epoch():
    g = torch.Generator().manual_seed(0)
    first = epoch_flips(1000, 0, "alternating", g)
    assert 0.4 < first.float().mean() < 0.6
    assert torch.equal(epoch_flips(1000, 1, "alternating", g, first=first), ~first)
    assert torch.equal(epoch_flips(1000, 2, "alternating", g, first=first), first)


def test_random_and_no_flips():
    g = torch.Generator().manual_seed(0)
    a, b = epoch_flips(1000, 1, "random", g), epoch_flips(1000, 2, "random", g)
    assert 0.4 < (a != b).float().mean() < 0.6  # about half repeat
    assert not epoch_flips(10, 3, "none", g).any()
    with pytest.raises(ValueError, match="mode must be one of"):
        epoch_flips(10, 0, "sometimes", g)
    with pytest.raises(ValueError, match="need `first`"):
        epoch_flips(10, 1, "alternating", g)


def test_epoch_images_flip_then_shift_like_flip_and_crop():
    x = torch.randn(7, 3, 6, 6)
    flips = torch.tensor([True, False] * 3 + [True])
    out = epoch_images(x, flips, 2, torch.Generator().manual_seed(5))
    g = torch.Generator().manual_seed(5)  # the same draws as inside
    dy, dx = (torch.randint(0, 5, (7,), generator=g) for _ in range(2))
    torch.testing.assert_close(out, flip_and_crop(x, flips, dy, dx, 2))
    torch.testing.assert_close(epoch_images(x, flips, 0, g), torch.where(flips[:, None, None, None], x.flip(3), x))
    with pytest.raises(ValueError, match="pad must be"):
        epoch_images(x, flips, -1, g)


class _LeftHalf(nn.Module):
    """Logit 0 = mean of the left half of the image, logit 1 = 0: mirroring changes the answer."""

    def forward(self, x):
        left = x[:, :, :, : x.shape[3] // 2].mean((1, 2, 3))
        return torch.stack([left, torch.zeros_like(left)], 1)


def test_tta_levels_average_the_views():
    x = torch.zeros(1, 1, 4, 4)
    x[..., :2] = 1.0  # left half bright
    model = _LeftHalf()
    torch.testing.assert_close(tta_logits(model, x, 0), model(x))
    torch.testing.assert_close(tta_logits(model, x, 1), 0.5 * model(x) + 0.5 * model(x.flip(3)))
    level2 = tta_logits(model, x, 2)
    padded = nn.functional.pad(x, (1, 1, 1, 1), mode="reflect")
    views = [x, padded[..., :4, :4], padded[..., 2:, 2:]]
    mirror = [0.5 * model(v) + 0.5 * model(v.flip(3)) for v in views]
    torch.testing.assert_close(level2, 0.5 * mirror[0] + 0.25 * mirror[1] + 0.25 * mirror[2])
    assert tta_logits(model, torch.randn(5, 1, 4, 4), 2, batch_size=2).shape == (5, 2)
    many = torch.randn(300, 1, 4, 4)  # default: batches of eval_batch_size("cpu") = 128
    torch.testing.assert_close(tta_logits(model, many, 2), tta_logits(model, many, 2, batch_size=300))
    with pytest.raises(ValueError, match="level must be one of"):
        tta_logits(model, x, 3)
