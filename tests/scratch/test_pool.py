"""helpers.scratch.pool against torch.nn.functional and autograd: forward and backward, every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.scratch.pool import (
    avg_pool2d,
    avg_pool2d_backward,
    max_pool2d,
    max_pool2d_backward,
)

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    h, w = draw(st.integers(kh, 13)), draw(st.integers(kw, 13))
    stride = draw(st.one_of(st.none(), st.integers(1, 3), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    n, c = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return n, c, h, w, (kh, kw), stride, draw(st.integers(0, 2**31 - 1))


@SETTINGS
@given(pool_case())
def test_pooling_matches_torch(case):
    n, c, h, w, kernel, stride, seed = case
    x = np.random.default_rng(seed).standard_normal((n, c, h, w))
    xt = torch.from_numpy(x)
    np.testing.assert_allclose(max_pool2d(x, kernel, stride), F.max_pool2d(xt, kernel, stride).numpy())
    np.testing.assert_allclose(avg_pool2d(x, kernel, stride), F.avg_pool2d(xt, kernel, stride).numpy(), atol=1e-12)


def test_pooling_keeps_the_input_dimensions():
    x = np.random.default_rng(4).standard_normal((3, 7, 6))
    assert max_pool2d(x, 2).shape == (3, 3, 3)
    assert avg_pool2d(x[0], 3, 1).shape == (5, 4)
    np.testing.assert_allclose(max_pool2d(x[0], 2), max_pool2d(x, 2)[0])
    np.testing.assert_allclose(max_pool2d(x[None], 2)[0], max_pool2d(x, 2))


def test_max_pool_lecture_cache_example():
    np.testing.assert_array_equal(max_pool2d(np.array([[1, 5], [2, 0]]), 2), [[5]])


@pytest.mark.parametrize("pool", [max_pool2d, avg_pool2d])
def test_pooling_errors(pool):
    with pytest.raises(ValueError, match="kernel_size 3x3 is larger than the input 2x2"):
        pool(np.ones((2, 2)), 3)
    with pytest.raises(ValueError, match="kernel_size must be at least 1"):
        pool(np.ones((4, 4)), 0)
    with pytest.raises(ValueError, match="stride must be at least 1"):
        pool(np.ones((4, 4)), 2, stride=0)
    with pytest.raises(TypeError, match="kernel_size must be an int or a pair"):
        pool(np.ones((4, 4)), "2")
    with pytest.raises(ValueError, match="x must be 2-D"):
        pool(np.ones(4), 2)


SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)


@st.composite
def pool_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    return dict(n=draw(st.integers(1, 2)), c=draw(st.integers(1, 3)), h=draw(st.integers(kh, 11)),
                w=draw(st.integers(kw, 11)), kernel=(kh, kw), stride=stride, seed=draw(st.integers(0, 2**31 - 1)))


@SETTINGS
@given(pool_case())
def test_pool_backward_matches_autograd(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    for forward, backward, torch_pool in [
        (max_pool2d, max_pool2d_backward, F.max_pool2d),
        (avg_pool2d, avg_pool2d_backward, F.avg_pool2d),
    ]:
        g = rng.standard_normal(forward(x, case["kernel"], case["stride"]).shape)
        xt = torch.tensor(x, requires_grad=True)
        torch_pool(xt, case["kernel"], case["stride"]).backward(torch.tensor(g))
        got = backward(x, g, case["kernel"], case["stride"])
        np.testing.assert_allclose(got, xt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_pool_backward_lecture_examples_and_dimensions():
    # cache [[1,5],[2,0]] -> the gradient goes to the 5 only
    np.testing.assert_array_equal(max_pool2d_backward(np.array([[1, 5], [2, 0]]), np.array([[3.0]]), 2), [[0, 3], [0, 0]])
    np.testing.assert_array_equal(avg_pool2d_backward(np.zeros((2, 2)), np.array([[4.0]]), 2), [[1, 1], [1, 1]])
    x = np.random.default_rng(0).standard_normal((3, 6, 6))
    g = np.ones((3, 3, 3))
    assert max_pool2d_backward(x, g, 2).shape == (3, 6, 6)
    # non-overlapping max pooling: exactly one nonzero per window
    assert (max_pool2d_backward(x, g, 2) != 0).sum() == 27
    with pytest.raises(ValueError, match=r"grad_out must have the pooled output's shape \(3, 3, 3\)"):
        max_pool2d_backward(x, np.ones((3, 2, 2)), 2)
