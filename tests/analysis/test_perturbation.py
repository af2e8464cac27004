"""helpers.analysis.perturbation: occlusion and LIME for several classes from shared forward passes."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from captum.attr import Occlusion
from torch import nn

from helpers.analysis.perturbation import lime_maps, occlusion_maps, superpixels


def small_cnn() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(2), nn.Flatten(),
                         nn.Linear(32, 5)).double()


def test_occlusion_is_captums_for_every_target():
    model = small_cnn()
    x = torch.randn(1, 3, 16, 16, dtype=torch.float64)
    ours = occlusion_maps(model, x, [1, 3], window=4, stride=2, batch_size=7)
    assert ours.shape == (2, 16, 16)
    for row, target in enumerate([1, 3]):
        theirs = Occlusion(model).attribute(x, target=target, sliding_window_shapes=(3, 4, 4),
                                            strides=(3, 2, 2), baselines=0.0)
        np.testing.assert_allclose(ours[row], theirs[0, 0].numpy(), atol=1e-10)
        np.testing.assert_allclose(theirs[0, 0].numpy(), theirs[0, 2].numpy())  # all channels alike


def linear_model(weight: torch.Tensor) -> nn.Module:
    """logit_t = sum(weight[t] * x): each pixel adds exactly weight * value."""
    model = nn.Sequential(nn.Flatten(), nn.Linear(weight[0].numel(), len(weight), bias=False)).double()
    with torch.no_grad():
        model[1].weight.copy_(weight.reshape(len(weight), -1))
    return model


def test_lime_recovers_each_segments_contribution_for_each_class():
    torch.manual_seed(1)
    x = torch.rand(1, 3, 12, 12, dtype=torch.float64)
    weight = torch.randn(3, 3, 12, 12, dtype=torch.float64)
    segments = (np.arange(12)[:, None] // 4) * 3 + (np.arange(12)[None, :] // 4)  # 9 squares 4x4
    maps = lime_maps(linear_model(weight), x, segments, [0, 2], samples=60, ridge=1e-9, seed=0)
    assert maps.shape == (2, 12, 12)
    for row, t in enumerate([0, 2]):
        contribution = (weight[t] * x[0]).sum(0).numpy()  # (12, 12)
        per_segment = np.array([contribution[segments == s].sum() for s in range(9)])
        np.testing.assert_allclose(maps[row], per_segment[segments], atol=1e-6)
    again = lime_maps(linear_model(weight), x, segments, [0, 2], samples=60, ridge=1e-9, seed=0)
    np.testing.assert_array_equal(maps, again)


def test_superpixels_label_every_pixel():
    rng = np.random.default_rng(0)
    image = np.zeros((64, 64, 3), dtype=np.uint8)
    image[:, 32:] = 200  # two flat halves
    image = np.clip(image + rng.integers(0, 10, image.shape), 0, 255).astype(np.uint8)
    labels = superpixels(image, 16)
    assert labels.shape == (64, 64) and labels.min() == 0
    assert set(np.unique(labels)) == set(range(labels.max() + 1)) and 4 <= labels.max() + 1 <= 40
    assert not np.intersect1d(labels[:, :30], labels[:, 34:]).size  # no segment crosses the edge
    np.testing.assert_array_equal(superpixels(torch.as_tensor(image).permute(2, 0, 1), 16), labels)


def test_errors_name_the_problem():
    model = small_cnn()
    with pytest.raises(TypeError, match=r"one float image \(1, C, H, W\)"):
        occlusion_maps(model, torch.zeros(2, 3, 8, 8, dtype=torch.float64), 0)
    with pytest.raises(ValueError, match="window"):
        occlusion_maps(model, torch.zeros(1, 3, 8, 8, dtype=torch.float64), 0, window=9)
    with pytest.raises(ValueError, match="segments must be"):
        lime_maps(model, torch.zeros(1, 3, 8, 8, dtype=torch.float64), np.zeros((4, 4), int), 0)
    with pytest.raises(ValueError, match="RGB"):
        superpixels(np.zeros((8, 8)))
