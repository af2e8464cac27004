"""helpers.scratch.shapes: each formula against what PyTorch layers actually produce."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from helpers.scratch.conv import conv2d
from helpers.scratch.shapes import (
    conv_output_size,
    conv_params,
    count_params,
    dense_params,
    pool_params,
    receptive_field,
    same_padding,
)

SETTINGS = settings(max_examples=200, deadline=None, derandomize=True)


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 4), st.integers(0, 3), st.integers(1, 3))
def test_conv_output_size_matches_torch(size, kernel, stride, padding, dilation):
    span = dilation * (kernel - 1) + 1
    if span > size + 2 * padding:
        with pytest.raises(ValueError, match="larger than the padded input"):
            conv_output_size(size, kernel, stride, padding, dilation)
        return
    layer = nn.Conv1d(1, 1, kernel, stride=stride, padding=padding, dilation=dilation)
    expected = layer(torch.zeros(1, 1, size)).shape[-1]
    assert conv_output_size(size, kernel, stride, padding, dilation) == expected


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 7), st.integers(1, 5))
def test_same_padding_gives_ceil_output(size, kernel, stride):
    before, after = same_padding(size, kernel, stride)
    assert 0 <= after - before <= 1
    out = conv_output_size(size, kernel, stride, (before, after))
    if kernel >= stride:  # with F < S the lecture's total can go negative and is clamped to 0
        assert out == math.ceil(size / stride)
        # the lecture's formula, written out
        total = stride * math.ceil(size / stride) - size + kernel - stride
        assert (before, after) == (math.floor(total / 2), math.ceil(total / 2))
    assert conv_output_size(size, kernel, stride, "same") == out


def test_same_padding_when_stride_is_one_matches_torch():
    for size in range(1, 12):
        for kernel in range(1, 8):
            layer = nn.Conv1d(1, 1, kernel, padding="same")
            assert layer(torch.zeros(1, 1, size)).shape[-1] == conv_output_size(size, kernel, 1, "same") == size


def test_padding_modes_and_pairs():
    assert conv_output_size(5, 3, padding="valid") == 3
    assert conv_output_size(5, 3, padding="full") == 7
    assert conv_output_size(5, 3, 2) == 2
    assert conv_output_size(5, 3, 1) == 3
    assert conv_output_size((28, 20), (5, 3), (1, 2), ((2, 2), (0, 1))) == (28, 10)
    assert conv_output_size((224, 224), 3) == (222, 222)
    assert conv_output_size((5, 5), 3, 2, 1) == (3, 3)


def test_conv_output_size_agrees_with_numpy_conv2d():
    rng = np.random.default_rng(0)
    for _ in range(50):
        h, w, kh, kw = rng.integers(3, 12), rng.integers(3, 12), rng.integers(1, 4), rng.integers(1, 4)
        s, p = int(rng.integers(1, 3)), rng.choice(["valid", "same", "full", 1, 2])
        p = p if isinstance(p, str) and not p.isdigit() else int(p)
        out = conv2d(rng.standard_normal((h, w)), rng.standard_normal((kh, kw)), stride=s, padding=p)
        assert out.shape == conv_output_size((int(h), int(w)), (int(kh), int(kw)), s, p)


@pytest.mark.parametrize(
    "args,error,match",
    [
        ((0, 3), ValueError, "size must be at least 1"),
        ((5, 0), ValueError, "kernel_size must be at least 1"),
        ((5, 3, 0), ValueError, "stride must be at least 1"),
        ((5, 3, 1, -1), ValueError, "padding .* must be at least 0"),
        ((5, 3, 1, "sideways"), ValueError, "padding must be an int, a pair, or one of"),
        ((5, 6), ValueError, "kernel of size 6 .* larger than the padded input 5"),
        ((5, 3, 1.5), TypeError, "stride must be an int"),
        ((5.0, 3), TypeError, "size must be an int"),
        (((5, 5, 5), 3), ValueError, r"size must be an int or a pair"),
        ((5, 3, 1, (1, 2, 3)), ValueError, r"padding along .* must be an int or \(before, after\)"),
    ],
)
def test_conv_output_size_errors(args, error, match):
    with pytest.raises(error, match=match):
        conv_output_size(*args)


def test_layer_formulas_match_torch_layers():
    for c, k, f in [(1, 6, 5), (6, 16, 5), (3, 32, 3), (32, 64, 3), (3, 10, 5)]:
        assert conv_params(c, k, f) == count_params(nn.Conv2d(c, k, f)) == (f * f * c + 1) * k
        assert conv_params(c, k, f, bias=False) == count_params(nn.Conv2d(c, k, f, bias=False))
    assert conv_params(32, 64, (3, 1), groups=4) == count_params(nn.Conv2d(32, 64, (3, 1), groups=4))
    assert conv_params(32, 32, 3, groups=32) == count_params(nn.Conv2d(32, 32, 3, groups=32))
    for n_in, n_out in [(256, 120), (120, 84), (84, 10), (4096, 128)]:
        assert dense_params(n_in, n_out) == count_params(nn.Linear(n_in, n_out)) == (n_in + 1) * n_out
        assert dense_params(n_in, n_out, bias=False) == n_in * n_out
    assert pool_params() == count_params(nn.MaxPool2d(2)) == count_params(nn.AvgPool2d(3)) == 0
    with pytest.raises(ValueError, match="divisible by groups"):
        conv_params(6, 4, 3, groups=4)


def test_count_params_trainable_and_frozen():
    model = nn.Sequential(nn.Conv2d(1, 6, 5), nn.ReLU(), nn.Flatten(), nn.Linear(6 * 24 * 24, 10))
    total = sum(p.numel() for p in model.parameters())
    assert count_params(model) == total == 156 + 34570
    model[0].requires_grad_(False)
    assert count_params(model) == 34570
    assert count_params(model, trainable_only=False) == total
    # meta tensors: a 196,608,000-weight layer counted without allocating it
    assert count_params(nn.Linear(256 * 256 * 3, 1000, bias=False, device="meta")) == 196_608_000
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        count_params([1, 2, 3])


def test_receptive_field_against_autograd():
    """The input pixels that influence one output pixel of a real conv stack."""
    layers = [(3, 1), (3, 2), (3, 1), (2, 2), (3, 1)]
    net = nn.Sequential(*[nn.Conv2d(1, 1, f, stride=s, bias=False) for f, s in layers])
    for conv in net:
        nn.init.constant_(conv.weight, 1.0)
    x = torch.zeros(1, 1, 64, 64, requires_grad=True)
    y = net(x)
    y[0, 0, y.shape[-2] // 2, y.shape[-1] // 2].backward()
    rows = torch.nonzero(x.grad[0, 0].abs().sum(dim=1)).flatten()
    expected = receptive_field(layers)
    assert int(rows.max() - rows.min() + 1) == expected[-1]
    assert expected == [3, 5, 9, 11, 19]
    with pytest.raises(TypeError, match=r"layers\[1\] must be a pair"):
        receptive_field([(3, 1), 3])
