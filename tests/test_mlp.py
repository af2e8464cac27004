"""helpers.mlp: the MLP builder against its formula, and the pixel shuffle against its inverse."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from helpers.models.mlp import mlp, mlp_param_count, weights_and_biases
from helpers.scratch.pixels import pixel_permutation, shuffle_pixels, unshuffle_pixels
from helpers.scratch.shapes import count_params

SIZES = [[13, 8, 6, 1], [4, 8, 6, 3], [784, 128, 64, 10], [3, 1], [1, 1, 1], [5, 7, 2, 9, 4]]


@pytest.mark.parametrize("sizes", SIZES, ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_formula_matches_the_real_model(sizes, bias):
    model = mlp(sizes, bias=bias)
    assert count_params(model) == mlp_param_count(sizes, bias=bias)


@pytest.mark.parametrize(
    "sizes, expected",
    [([13, 8, 6, 1], 173), ([4, 8, 6, 3], 115), ([784, 128, 64, 10], 109_386),
     ([3072, 1536, 768, 384, 128, 10], 6_246_410)],
)
def test_lecture_counts(sizes, expected):
    assert mlp_param_count(sizes) == expected
    assert count_params(mlp(sizes, device="meta")) == expected


def test_structure_and_forward():
    model = mlp([6, 5, 4, 3])
    kinds = [type(m) for m in model]
    assert kinds == [nn.Linear, nn.ReLU, nn.Linear, nn.ReLU, nn.Linear]
    assert model(torch.zeros(2, 6)).shape == (2, 3)
    assert [m.bias for m in mlp([3, 2, 1], bias=False) if isinstance(m, nn.Linear)] == [None, None]


def test_meta_device_allocates_nothing_but_counts():
    model = mlp([256 * 256 * 3, 1000], bias=False, device="meta")
    assert all(p.is_meta for p in model.parameters())
    assert count_params(model) == 196_608_000


def test_weights_and_biases_split():
    assert weights_and_biases(mlp([784, 128, 64, 10])) == (109_184, 202)
    assert weights_and_biases(mlp([4, 3], bias=False)) == (12, 0)
    conv = nn.Conv2d(3, 10, 5)
    assert weights_and_biases(conv) == (750, 10)
    with pytest.raises(TypeError, match="model"):
        weights_and_biases([1, 2])


@pytest.mark.parametrize(
    "sizes, error, match",
    [([5], ValueError, "at least two"), ([5, 0], ValueError, r"sizes\[1\]"),
     ([5, 2.0], TypeError, r"sizes\[1\]"), ("784", TypeError, "sizes"), (784, TypeError, "sizes"),
     ([True, 3], TypeError, r"sizes\[0\]")],
)
def test_bad_sizes(sizes, error, match):
    with pytest.raises(error, match=match):
        mlp_param_count(sizes)
    with pytest.raises(error, match=match):
        mlp(sizes)


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
