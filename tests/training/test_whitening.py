"""helpers.training.whitening: patches, their covariance's eigenvectors, and a first layer that
whitens them (checked against a loop and against torch.linalg)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.training.whitening import image_patches, init_whitening, patch_covariance, whitening_filters


def test_image_patches_match_a_loop():
    x = torch.randn(2, 3, 5, 4)
    p = image_patches(x, 2)
    assert p.shape == (2 * 4 * 3, 3, 2, 2)
    expected = torch.stack([x[n, :, i:i + 2, j:j + 2] for n in range(2) for i in range(4) for j in range(3)])
    torch.testing.assert_close(p, expected)


def test_patch_covariance_is_the_second_moment():
    p = torch.randn(50, 2, 2, 2)
    flat = p.reshape(50, -1).double()
    torch.testing.assert_close(patch_covariance(p), flat.T @ flat / 50)


@pytest.mark.parametrize("seed", [0, 1])
def test_filters_whiten_the_patches(seed):
    g = torch.Generator().manual_seed(seed)
    mix = torch.randn(12, 12, generator=g)
    patches = (torch.randn(20_000, 12, generator=g) @ mix).reshape(-1, 3, 2, 2)  # correlated
    values, filters = whitening_filters(patches, eps=0.0)
    assert filters.shape == (12, 3, 2, 2) and values.shape == (12,)
    assert torch.all(values[:-1] >= values[1:])  # largest first
    torch.testing.assert_close(values.double(), torch.linalg.eigvalsh(patch_covariance(patches)).flip(0),
                               rtol=1e-5, atol=1e-6)
    white = patches.reshape(len(patches), -1).double() @ filters.reshape(12, -1).double().T
    torch.testing.assert_close(white.T @ white / len(white), torch.eye(12, dtype=torch.float64), atol=1e-4, rtol=0)


def test_eps_shrinks_small_directions():
    patches = torch.randn(1000, 1, 2, 2) * torch.tensor([10.0, 1.0, 0.1, 0.01]).view(1, 1, 2, 2)
    _, f0 = whitening_filters(patches, eps=0.0)
    _, f1 = whitening_filters(patches, eps=1.0)
    assert f1.flatten(1).norm(dim=1)[-1] < f0.flatten(1).norm(dim=1)[-1] / 10


def test_init_whitening_sets_filters_and_their_negatives():
    conv = nn.Conv2d(3, 24, 2)
    images = torch.randn(20, 3, 8, 8)
    values = init_whitening(conv, images)
    v, f = whitening_filters(image_patches(images, 2))
    torch.testing.assert_close(values, v)
    torch.testing.assert_close(conv.weight[:12], f)
    torch.testing.assert_close(conv.weight[12:], -f)


def test_bad_input_is_named():
    with pytest.raises(TypeError, match="float tensor"):
        image_patches(torch.zeros(1, 3, 4, 4, dtype=torch.uint8), 2)
    with pytest.raises(ValueError, match="size must lie in"):
        image_patches(torch.zeros(1, 3, 4, 4), 5)
    with pytest.raises(ValueError, match="output channels"):
        init_whitening(nn.Conv2d(3, 12, 2), torch.zeros(1, 3, 4, 4))
    with pytest.raises(ValueError, match="eps must be"):
        whitening_filters(torch.randn(10, 1, 2, 2), eps=-1)
