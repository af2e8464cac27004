"""helpers.scratch.pixels: the pixel shuffle against its inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.scratch.pixels import pixel_permutation, shuffle_pixels, unshuffle_pixels


@pytest.mark.parametrize("shape", [(4, 5), (3, 4, 3), (1, 1), (6, 2, 1)])
def test_shuffle_then_unshuffle_is_identity(shape):
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=shape, dtype=np.uint8)
    perm = pixel_permutation(shape[0], shape[1], seed=3)
    shuffled = shuffle_pixels(image, perm)
    assert shuffled.shape == image.shape and shuffled.dtype == image.dtype
    np.testing.assert_array_equal(unshuffle_pixels(shuffled, perm), image)
    # same pixels (with their channels together), in another order
    flat = image.reshape(shape[0] * shape[1], -1)
    np.testing.assert_array_equal(shuffled.reshape(len(flat), -1), flat[perm])


def test_shuffle_keeps_values_moves_positions():
    image = np.arange(12).reshape(3, 4)
    perm = pixel_permutation(3, 4, seed=0)
    shuffled = shuffle_pixels(image, perm)
    assert sorted(shuffled.ravel()) == list(range(12))
    assert not np.array_equal(shuffled, image)
    np.testing.assert_array_equal(pixel_permutation(3, 4, seed=0), perm)  # fixed by the seed


def test_a_dense_layer_does_not_care_about_the_shuffle():
    """Permuting the inputs and the weight columns together leaves a dense layer's output unchanged."""
    torch.manual_seed(0)
    image = np.random.default_rng(0).random((5, 6)).astype(np.float32)
    perm = pixel_permutation(5, 6, seed=2)
    layer = nn.Linear(30, 4)
    x = torch.from_numpy(image.reshape(-1))
    x_shuffled = torch.from_numpy(shuffle_pixels(image, perm).reshape(-1))
    w_perm = layer.weight.detach()[:, perm]
    torch.testing.assert_close(x_shuffled @ w_perm.T + layer.bias, layer(x))


@pytest.mark.parametrize(
    "image, perm, match",
    [(np.zeros((2, 3)), np.arange(5), "permutation of 0..5"),
     (np.zeros((2, 3)), np.array([0, 0, 1, 2, 3, 4]), "permutation"),
     (np.zeros(6), np.arange(6), "shape"),
     (np.zeros((1, 2, 3, 4)), np.arange(2), "shape")],
)
def test_bad_permutations(image, perm, match):
    with pytest.raises(ValueError, match=match):
        shuffle_pixels(image, perm)
    with pytest.raises(ValueError, match=match):
        unshuffle_pixels(image, perm)


@pytest.mark.parametrize("height, width", [(0, 3), (3, -1), (2.0, 3)])
def test_bad_permutation_size(height, width):
    with pytest.raises(ValueError, match="height|width"):
        pixel_permutation(height, width)
