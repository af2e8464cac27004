"""helpers.scratch.conv against torch.nn.functional and autograd: many random shapes, strides and
paddings, forward and backward, every error."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from helpers.scratch.conv import conv2d, conv2d_backward
from helpers.scratch.gradcheck import gradient_check
from helpers.scratch.shapes import same_padding

SETTINGS = settings(max_examples=150, deadline=None, derandomize=True)


def torch_conv(x, w, b=None, stride=1, padding=0):
    """Reference: torch.nn.functional.conv2d on float64 copies (batched, 4-D)."""
    xt = torch.from_numpy(np.asarray(x, dtype=np.float64))
    wt = torch.from_numpy(np.asarray(w, dtype=np.float64))
    bt = None if b is None else torch.from_numpy(np.asarray(b, dtype=np.float64))
    return F.conv2d(xt, wt, bt, stride=stride, padding=padding).numpy()


@st.composite
def conv_case(draw):
    n = draw(st.integers(1, 3))
    c = draw(st.integers(1, 4))
    k = draw(st.integers(1, 4))
    kh, kw = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    ph, pw = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    h = draw(st.integers(max(1, kh - 2 * ph), 12))
    w = draw(st.integers(max(1, kw - 2 * pw), 12))
    sh, sw = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    seed = draw(st.integers(0, 2**31 - 1))
    return n, c, k, h, w, kh, kw, (sh, sw), (ph, pw), seed


@SETTINGS
@given(conv_case(), st.booleans())
def test_conv2d_matches_torch_on_random_shapes(case, with_bias):
    n, c, k, h, w, kh, kw, stride, padding, seed = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w))
    weight = rng.standard_normal((k, c, kh, kw))
    bias = rng.standard_normal(k) if with_bias else None
    got = conv2d(x, weight, bias, stride=stride, padding=padding)
    expected = torch_conv(x, weight, bias, stride=stride, padding=padding)
    assert got.shape == expected.shape
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


@SETTINGS
@given(
    st.integers(1, 12), st.integers(1, 12), st.integers(1, 5), st.integers(1, 5),
    st.integers(1, 3), st.integers(1, 3), st.integers(0, 2**31 - 1),
)
def test_same_padding_output_is_ceil_and_matches_torch_padding(h, w, kh, kw, sh, sw, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((2, h, w))
    weight = rng.standard_normal((3, 2, kh, kw))
    got = conv2d(x, weight, stride=(sh, sw), padding="same")
    assert got.shape == (3, -(-h // sh), -(-w // sw))
    # PyTorch's padding="same" only allows stride 1, so pad explicitly: (left, right, top, bottom)
    (pt, pb), (pl, pr) = same_padding(h, kh, sh), same_padding(w, kw, sw)
    xp = F.pad(torch.from_numpy(x[None]), (pl, pr, pt, pb))
    expected = F.conv2d(xp, torch.from_numpy(weight), stride=(sh, sw)).numpy()[0]
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)


def test_same_padding_stride_one_equals_torch_same():
    rng = np.random.default_rng(0)
    for kh, kw in [(3, 3), (4, 2), (5, 1), (2, 6)]:
        x = rng.standard_normal((1, 2, 9, 7))
        weight = rng.standard_normal((3, 2, kh, kw))
        expected = F.conv2d(torch.from_numpy(x), torch.from_numpy(weight), padding="same").numpy()
        np.testing.assert_allclose(conv2d(x, weight, padding="same"), expected, atol=1e-10)


@pytest.mark.parametrize("kh,kw,stride", [(3, 3, 1), (2, 4, 2), (5, 3, (2, 1))])
def test_full_padding_is_kernel_minus_one_each_side(kh, kw, stride):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 3, 6, 5))
    weight = rng.standard_normal((4, 3, kh, kw))
    expected = torch_conv(x, weight, stride=stride, padding=(kh - 1, kw - 1))
    np.testing.assert_allclose(conv2d(x, weight, stride=stride, padding="full"), expected, atol=1e-10)


def test_valid_padding_is_zero_padding():
    rng = np.random.default_rng(2)
    x, weight = rng.standard_normal((1, 2, 7, 6)), rng.standard_normal((3, 2, 3, 2))
    np.testing.assert_array_equal(conv2d(x, weight, padding="valid"), conv2d(x, weight))


def test_output_drops_the_axes_the_input_did_not_have():
    rng = np.random.default_rng(3)
    img2, img3, img4 = rng.standard_normal((6, 5)), rng.standard_normal((3, 6, 5)), rng.standard_normal((2, 3, 6, 5))
    k2, k3, k4 = rng.standard_normal((3, 3)), rng.standard_normal((3, 3, 3)), rng.standard_normal((4, 3, 3, 3))
    assert conv2d(img2, k2).shape == (4, 3)
    assert conv2d(img3, k3).shape == (4, 3)
    assert conv2d(img3, k4).shape == (4, 4, 3)
    assert conv2d(img4, k3).shape == (2, 4, 3)
    assert conv2d(img4, k4).shape == (2, 4, 4, 3)
    assert conv2d(img2, k4[:, :1]).shape == (4, 4, 3)
    # every form agrees with the 4-D computation
    np.testing.assert_allclose(conv2d(img4, k4), torch_conv(img4, k4), atol=1e-10)
    np.testing.assert_allclose(conv2d(img3, k4), torch_conv(img3[None], k4)[0], atol=1e-10)
    np.testing.assert_allclose(conv2d(img4, k3), torch_conv(img4, k3[None])[:, 0], atol=1e-10)
    np.testing.assert_allclose(conv2d(img2, k2), torch_conv(img2[None, None], k2[None, None])[0, 0], atol=1e-10)


def test_bias_scalar_and_per_filter():
    x = np.arange(16.0).reshape(4, 4)
    k = np.ones((2, 2))
    np.testing.assert_allclose(conv2d(x, k, bias=-5), conv2d(x, k) - 5)
    w = np.ones((3, 1, 2, 2))
    out = conv2d(x[None], w, bias=[1.0, 2.0, 3.0])
    np.testing.assert_allclose(out - conv2d(x[None], w), np.broadcast_to(np.array([1, 2, 3.0])[:, None, None], out.shape))


def test_integer_inputs_give_exact_integer_maps():
    x = np.array([[1, 1, 1, 0, 0], [0, 1, 1, 1, 0], [0, 0, 1, 1, 1], [0, 0, 1, 1, 0], [0, 1, 1, 0, 0]])
    out = conv2d(x, [[1, 0, 1], [0, 1, 0], [1, 0, 1]])
    assert np.issubdtype(out.dtype, np.integer)
    np.testing.assert_array_equal(out, torch_conv(x[None, None], np.array([[[[1, 0, 1], [0, 1, 0], [1, 0, 1]]]]))[0, 0])


def test_accepts_cpu_tensors():
    x = torch.randn(1, 2, 5, 5, dtype=torch.float64)
    w = torch.randn(3, 2, 3, 3, dtype=torch.float64)
    np.testing.assert_allclose(conv2d(x, w, padding=1), F.conv2d(x, w, padding=1).numpy(), atol=1e-10)


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        (dict(x=np.ones(5), weight=np.ones((3, 3))), ValueError, r"x must be 2-D.*got shape \(5,\)"),
        (dict(x=np.ones((1, 1, 1, 5, 5)), weight=np.ones((3, 3))), ValueError, "x must be 2-D"),
        (dict(x=np.ones((5, 5)), weight=np.ones(3)), ValueError, r"weight must be 2-D.*\(3,\)"),
        (dict(x=np.ones((3, 5, 5)), weight=np.ones((2, 3, 3))), ValueError, "channel mismatch: x has 3"),
        (dict(x=np.ones((3, 5, 5)), weight=np.ones((3, 3))), ValueError, "channel mismatch"),
        (dict(x=np.ones((4, 4)), weight=np.ones((5, 5))), ValueError, "kernel 5x5 is larger than the padded input 4x4"),
        (dict(x=np.ones((4, 4)), weight=np.ones((7, 3)), padding=1), ValueError, "kernel 7x3 is larger than the padded input 6x6"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), stride=0), ValueError, "stride must be at least 1"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), stride=(1, -2)), ValueError, "stride must be at least 1"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), stride=1.5), TypeError, "stride must be an int"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), padding="sane"), ValueError, "padding must be .*'sane'"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), padding=-1), ValueError, "padding must be at least 0"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), padding=(1, 2, 3)), ValueError, "padding must be"),
        (dict(x=np.ones((5, 5)), weight=np.ones((3, 3)), padding=1.0), TypeError, "padding must be an int"),
        (dict(x=np.ones((5, 5)), weight=np.ones((2, 1, 3, 3)), bias=[1, 2, 3]), ValueError, r"bias must be .*\(2\).*\(3,\)"),
        (dict(x=[["a", "b"]], weight=np.ones((1, 1))), TypeError, "x must hold numbers"),
        (dict(x=np.ones((5, 5)), weight=np.ones((0, 3))), ValueError, "empty"),
    ],
)
def test_conv2d_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        conv2d(**kwargs)


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
