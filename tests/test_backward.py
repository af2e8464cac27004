"""Hand-written gradients against torch.autograd and finite differences."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.scratch.functional import (cross_entropy, cross_entropy_backward, relu, relu_backward, sigmoid, sigmoid_backward, softmax)
from helpers.scratch.gradcheck import gradient_check, numerical_gradient
from helpers.scratch.conv import conv2d, conv2d_backward
from helpers.scratch.pool import avg_pool2d, avg_pool2d_backward, max_pool2d, max_pool2d_backward
from helpers.scratch.shapes import same_padding

SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)


@st.composite
def conv_case(draw):
    kh, kw = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    ph, pw = draw(st.integers(0, 2)), draw(st.integers(0, 2))
    return dict(
        n=draw(st.integers(1, 3)), c=draw(st.integers(1, 3)), k=draw(st.integers(1, 3)),
        h=draw(st.integers(max(1, kh - 2 * ph), 10)), w=draw(st.integers(max(1, kw - 2 * pw), 10)),
        kh=kh, kw=kw, stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))),
        padding=(ph, pw), seed=draw(st.integers(0, 2**31 - 1)),
    )


def autograd_conv(x, w, g, stride, padding):
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.zeros(w.shape[0], dtype=torch.float64, requires_grad=True)
    if isinstance(padding, str):  # torch has no strided "same"/"full": pad explicitly
        (pt, pb), (pl, pr) = _explicit(padding, x.shape[-2:], w.shape[-2:], stride)
        y = F.conv2d(F.pad(xt, (pl, pr, pt, pb)), wt, bt, stride=stride)
    else:
        y = F.conv2d(xt, wt, bt, stride=stride, padding=padding)
    y.backward(torch.tensor(g))
    return xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()


def _explicit(mode, size, kernel, stride):
    if mode == "same":
        return tuple(same_padding(size[i], kernel[i], stride[i]) for i in range(2))
    return tuple((kernel[i] - 1, kernel[i] - 1) for i in range(2))


@SETTINGS
@given(conv_case())
def test_conv2d_backward_matches_autograd(case):
    rng = np.random.default_rng(case["seed"])
    x = rng.standard_normal((case["n"], case["c"], case["h"], case["w"]))
    w = rng.standard_normal((case["k"], case["c"], case["kh"], case["kw"]))
    out = conv2d(x, w, stride=case["stride"], padding=case["padding"])
    g = rng.standard_normal(out.shape)
    got = conv2d_backward(x, w, g, stride=case["stride"], padding=case["padding"])
    for mine, ref in zip(got, autograd_conv(x, w, g, case["stride"], case["padding"])):
        np.testing.assert_allclose(mine, ref, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize("mode", ["same", "full", "valid"])
@pytest.mark.parametrize("stride", [1, 2, (2, 3)])
def test_conv2d_backward_padding_modes(mode, stride):
    rng = np.random.default_rng(7)
    x, w = rng.standard_normal((2, 3, 9, 8)), rng.standard_normal((4, 3, 3, 2))
    stride = (stride, stride) if isinstance(stride, int) else stride
    g = rng.standard_normal(conv2d(x, w, stride=stride, padding=mode).shape)
    ref = autograd_conv(x, w, g, stride, mode if mode != "valid" else 0)
    for mine, expected in zip(conv2d_backward(x, w, g, stride=stride, padding=mode), ref):
        np.testing.assert_allclose(mine, expected, rtol=1e-9, atol=1e-10)


def test_conv2d_backward_finite_differences():
    rng = np.random.default_rng(3)
    x, w = rng.standard_normal((1, 2, 5, 6)), rng.standard_normal((2, 2, 3, 2))
    g = rng.standard_normal(conv2d(x, w, stride=2, padding=1).shape)

    def loss_x(x_):
        return float((conv2d(x_, w, stride=2, padding=1) * g).sum())

    def loss_w(w_):
        return float((conv2d(x, w_, stride=2, padding=1) * g).sum())

    gx, gw, _ = conv2d_backward(x, w, g, stride=2, padding=1)
    assert gradient_check(loss_x, x, gx) < 1e-7
    assert gradient_check(loss_w, w, gw) < 1e-7


def test_conv2d_backward_errors():
    x, w = np.ones((1, 1, 4, 4)), np.ones((1, 1, 2, 2))
    with pytest.raises(ValueError, match=r"grad_out must have the forward output's shape \(1, 1, 3, 3\)"):
        conv2d_backward(x, w, np.ones((1, 1, 2, 2)))
    with pytest.raises(ValueError, match="needs 4-D arrays"):
        conv2d_backward(x[0, 0], w[0, 0], np.ones((3, 3)))


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


def test_activations_and_loss_against_torch():
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, 4)) * 3
    g = rng.standard_normal((5, 4))
    y = rng.integers(0, 4, 5)
    zt = torch.tensor(z, requires_grad=True)
    np.testing.assert_allclose(relu(z), F.relu(zt).detach().numpy())
    np.testing.assert_allclose(sigmoid(z), torch.sigmoid(zt).detach().numpy())
    np.testing.assert_allclose(softmax(z), F.softmax(zt, dim=-1).detach().numpy())
    loss = F.cross_entropy(zt, torch.tensor(y))
    assert cross_entropy(z, y) == pytest.approx(loss.item(), rel=1e-12)
    loss.backward()
    np.testing.assert_allclose(cross_entropy_backward(z, y), zt.grad.numpy(), atol=1e-12)
    for fn, back in [(F.relu, relu_backward), (torch.sigmoid, sigmoid_backward)]:
        zt = torch.tensor(z, requires_grad=True)
        fn(zt).backward(torch.tensor(g))
        np.testing.assert_allclose(back(z, g), zt.grad.numpy(), atol=1e-12)
    assert sigmoid(np.array([-1000.0, 1000.0])).tolist() == [0.0, 1.0]  # no overflow warning
    np.testing.assert_allclose(softmax(np.array([1000.0, 1000.0])), [0.5, 0.5])


def test_lecture_softmax_example():
    p = softmax(np.array([-3.9, -9.3, 12.6]))
    np.testing.assert_allclose(p, [6.8256e-8, 3.0828e-10, 0.99999993], rtol=1e-4)


def test_loss_errors():
    with pytest.raises(ValueError, match="target must hold one integer class per row"):
        cross_entropy(np.zeros((3, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match=r"target classes must be in 0..1"):
        cross_entropy(np.zeros((2, 2)), np.array([0, 2]))
    with pytest.raises(ValueError, match="logits must be 2-D"):
        cross_entropy_backward(np.zeros(3), np.array([0]))
    with pytest.raises(ValueError, match="grad_out must have x's shape"):
        relu_backward(np.zeros(3), np.zeros(2))


def test_numerical_gradient_known_function_and_no_side_effects():
    x = np.array([1.0, -2.0, 3.0])
    before = x.copy()
    np.testing.assert_allclose(numerical_gradient(lambda v: float((v**2).sum()), x), 2 * x, atol=1e-6)
    np.testing.assert_array_equal(x, before)
    assert gradient_check(lambda v: float((v**3).sum()), x, 3 * x**2) < 1e-8
    assert gradient_check(lambda v: float((v**3).sum()), x, 3 * x**2 + 0.1) > 1e-3  # a wrong gradient is caught
    with pytest.raises(ValueError, match="analytic gradient has shape"):
        gradient_check(lambda v: 0.0, x, np.zeros(2))
