"""helpers.models.blocks: shapes and parameter counts by formula; outputs against torchvision's blocks."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torchvision.models.densenet import _DenseBlock
from torchvision.models.efficientnet import MBConv as TVMBConv
from torchvision.models.efficientnet import MBConvConfig
from torchvision.models.googlenet import Inception as TVInception
from torchvision.models.mobilenetv2 import InvertedResidual as TVInvertedResidual
from torchvision.models.resnet import BasicBlock as TVBasicBlock
from torchvision.models.resnet import Bottleneck as TVBottleneck
from torchvision.ops import SqueezeExcitation

from helpers.models.attention import SEBlock
from helpers.models.blocks import (
    BasicBlock,
    Bottleneck,
    DenseBlock,
    DepthwiseSeparable,
    Inception,
    InvertedResidual,
    MBConv,
    conv_bn,
)
from helpers.scratch.shapes import count_params


def bn(c: int) -> int:
    """BatchNorm2d's learnable parameters: a scale and a shift per channel."""
    return 2 * c


def copy_weights(src: nn.Module, dst: nn.Module) -> None:
    """Copy every parameter and buffer of ``src`` into ``dst``, in registration order, shapes checked."""
    a, b = src.state_dict(), dst.state_dict()
    assert len(a) == len(b), (list(a), list(b))
    with torch.no_grad():
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            assert va.shape == vb.shape, f"{ka} {tuple(va.shape)} vs {kb} {tuple(vb.shape)}"
            vb.copy_(va)


def randomised(module: nn.Module, seed: int = 0) -> nn.Module:
    """``module`` in eval mode with random BatchNorm statistics and affine terms (not the identity)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in module.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.1)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.1)
    return module.eval()


def same_output(ours: nn.Module, reference: nn.Module, x: torch.Tensor) -> None:
    reference = randomised(reference)
    for m in reference.modules():  # torchvision's GoogLeNet uses eps 0.001; ours PyTorch's default
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-5
    copy_weights(reference, ours)
    ours.eval()
    with torch.no_grad():
        torch.testing.assert_close(ours(x), reference(x), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("c_in,c_out,k,stride,groups", [(3, 8, 3, 1, 1), (8, 8, 3, 2, 8), (4, 6, 1, 1, 2),
                                                        (5, 10, 5, 2, 5)])
def test_conv_bn_shape_and_params(c_in, c_out, k, stride, groups):
    block = conv_bn(c_in, c_out, k, stride, groups)
    y = block(torch.randn(2, c_in, 9, 10))
    assert y.shape == (2, c_out, -(-9 // stride), -(-10 // stride))
    assert count_params(block) == k * k * (c_in // groups) * c_out + bn(c_out)
    assert (y >= 0).all()  # ReLU last


def test_conv_bn_bad_groups():
    with pytest.raises(ValueError, match="groups=3 must divide c_in=4"):
        conv_bn(4, 6, groups=3)


def test_inception_params_formula_and_shape():
    c_in, c1, c3r, c3, c5r, c5, pp = 192, 64, 96, 128, 16, 32, 32  # GoogLeNet's inception (3a)
    block = Inception(c_in, c1, c3r, c3, c5r, c5, pp)
    expected = (c_in * c1 + bn(c1) + c_in * c3r + bn(c3r) + 9 * c3r * c3 + bn(c3)
                + c_in * c5r + bn(c5r) + 25 * c5r * c5 + bn(c5) + c_in * pp + bn(pp))
    assert count_params(block) == expected
    assert block(torch.randn(1, c_in, 7, 7)).shape == (1, c1 + c3 + c5 + pp, 7, 7)


def test_inception_matches_torchvision_with_its_3x3_branch():
    args = (16, 8, 6, 12, 4, 6, 5)
    ours, ref = Inception(*args, k5=3), TVInception(*args)
    assert count_params(ours) == count_params(ref)
    same_output(ours, ref, torch.randn(2, 16, 7, 6))


@pytest.mark.parametrize("c_in,c_out,stride", [(8, 8, 1), (8, 16, 2), (6, 10, 1)])
def test_basic_block_matches_torchvision(c_in, c_out, stride):
    down = None
    if stride != 1 or c_in != c_out:
        down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    ref = TVBasicBlock(c_in, c_out, stride, downsample=down)
    ours = BasicBlock(c_in, c_out, stride)
    shortcut = c_in * c_out + bn(c_out) if down is not None else 0
    assert count_params(ours) == 9 * c_in * c_out + 9 * c_out * c_out + 2 * bn(c_out) + shortcut
    assert count_params(ours) == count_params(ref)
    same_output(ours, ref, torch.randn(2, c_in, 8, 8))


@pytest.mark.parametrize("c_in,width,stride", [(16, 4, 1), (8, 4, 2), (32, 8, 1)])
def test_bottleneck_matches_torchvision(c_in, width, stride):
    c_out = 4 * width
    down = None
    if stride != 1 or c_in != c_out:
        down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))
    ref, ours = TVBottleneck(c_in, width, stride, downsample=down), Bottleneck(c_in, width, stride)
    assert count_params(ours) == count_params(ref)
    same_output(ours, ref, torch.randn(2, c_in, 6, 6))


def test_dense_block_matches_torchvision():
    c_in, growth, layers, bn_size = 8, 4, 3, 2
    ours = DenseBlock(c_in, growth, layers, bn_size)
    ref = _DenseBlock(layers, c_in, bn_size, growth, drop_rate=0.0)
    mid = bn_size * growth
    expected = sum(bn(c_in + i * growth) + (c_in + i * growth) * mid + bn(mid) + 9 * mid * growth
                   for i in range(layers))
    assert count_params(ours) == expected == count_params(ref)
    x = torch.randn(2, c_in, 5, 5)
    assert ours(x).shape == (2, c_in + layers * growth, 5, 5)
    same_output(ours, ref, x)
    torch.testing.assert_close(ours(x)[:, :c_in], x)  # the input is passed on unchanged


@pytest.mark.parametrize("c_in,c_out,stride", [(8, 16, 1), (4, 12, 2)])
def test_depthwise_separable_params_and_depthwise_conv(c_in, c_out, stride):
    block = DepthwiseSeparable(c_in, c_out, stride).eval()
    assert count_params(block) == 9 * c_in + bn(c_in) + c_in * c_out + bn(c_out)
    x = torch.randn(2, c_in, 8, 8)
    assert block(x).shape == (2, c_out, 8 // stride, 8 // stride)
    # the depthwise conv filters each channel on its own: one single-channel conv per channel
    dw = block.depthwise[0]
    per_channel = torch.cat([F.conv2d(x[:, c:c + 1], dw.weight[c:c + 1], stride=stride, padding=1)
                             for c in range(c_in)], dim=1)
    torch.testing.assert_close(dw(x), per_channel)


@pytest.mark.parametrize("c_in,c_out,stride,t", [(8, 8, 1, 6), (8, 12, 2, 6), (16, 8, 1, 1), (8, 8, 1, 1)])
def test_inverted_residual_matches_torchvision(c_in, c_out, stride, t):
    ours, ref = InvertedResidual(c_in, c_out, stride, t), TVInvertedResidual(c_in, c_out, stride, t)
    hidden = c_in * t
    expand = c_in * hidden + bn(hidden) if t != 1 else 0
    assert count_params(ours) == expand + 9 * hidden + bn(hidden) + hidden * c_out + bn(c_out)
    assert count_params(ours) == count_params(ref)
    assert ours.use_skip == ref.use_res_connect
    same_output(ours, ref, torch.randn(2, c_in, 8, 8))


@pytest.mark.parametrize("c_in,c_out,stride,t,k", [(16, 16, 1, 6, 3), (16, 24, 2, 6, 5), (32, 16, 1, 1, 3)])
def test_mbconv_matches_torchvision(c_in, c_out, stride, t, k):
    ours = MBConv(c_in, c_out, stride, t, kernel_size=k)
    ref = TVMBConv(MBConvConfig(t, k, stride, c_in, c_out, 1), stochastic_depth_prob=0.0,
                   norm_layer=nn.BatchNorm2d)
    hidden, squeeze = c_in * t, max(1, c_in // 4)
    expand = c_in * hidden + bn(hidden) if t != 1 else 0
    se = 2 * hidden * squeeze + squeeze + hidden
    assert count_params(ours) == expand + k * k * hidden + bn(hidden) + se + hidden * c_out + bn(c_out)
    assert count_params(ours) == count_params(ref)
    same_output(ours, ref, torch.randn(2, c_in, 8, 8))


def test_se_block_matches_torchvision_squeeze_excitation():
    """helpers.attention.SEBlock is torchvision.ops.SqueezeExcitation with Linear for 1x1 conv."""
    channels, reduction = 12, 4
    ours, ref = SEBlock(channels, reduction), SqueezeExcitation(channels, channels // reduction)
    assert count_params(ours) == count_params(ref)
    with torch.no_grad():
        for fc, conv in ((ours.fc1, ref.fc1), (ours.fc2, ref.fc2)):
            fc.weight.copy_(conv.weight[:, :, 0, 0])
            fc.bias.copy_(conv.bias)
    x = torch.randn(3, channels, 5, 4)
    torch.testing.assert_close(ours(x), ref(x))


def test_basic_block_attention_reweights_the_residual():
    torch.manual_seed(0)
    block = BasicBlock(8, 8, attention=SEBlock(8, 2)).eval()
    plain = BasicBlock(8, 8).eval()
    copy_weights(nn.Sequential(*list(block.residual)[:2]), nn.Sequential(*list(plain.residual)))
    x = torch.randn(2, 8, 5, 5)
    with torch.no_grad():
        residual = plain.residual(x)
        expected = torch.relu(block.residual[2](residual) + x)
        torch.testing.assert_close(block(x), expected)
        assert not torch.allclose(block(x), plain(x))


@pytest.mark.parametrize("make", [lambda: BasicBlock(4, 4, stride=3), lambda: Bottleneck(4, 4, stride=0),
                                  lambda: InvertedResidual(4, 4, stride=4), lambda: DepthwiseSeparable(4, 4, 3)])
def test_bad_stride_raises(make):
    with pytest.raises(ValueError, match="stride must be 1 or 2"):
        make()


def test_bad_sizes_raise():
    with pytest.raises(ValueError, match="num_layers must be a positive int; got 0"):
        DenseBlock(4, 4, 0)
    with pytest.raises(TypeError, match="expand_ratio must be an int; got float"):
        InvertedResidual(4, 4, 1, 2.5)
    with pytest.raises(ValueError, match=r"se_ratio must be in \(0, 1\]; got 0"):
        MBConv(4, 4, se_ratio=0)
