"""helpers.models.mlp: the MLP builder against its formula."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from helpers.models.mlp import mlp, mlp_param_count, weights_and_biases
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
