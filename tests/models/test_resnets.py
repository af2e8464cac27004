"""helpers.models.resnets: the small CIFAR ResNet, the conv stacks and their gradient norms."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from helpers.models.attention import cbam_params, se_params
from helpers.models.blocks import BasicBlock
from helpers.models.resnets import CifarResNet, ConvStack, conv_gradient_norms
from helpers.scratch.shapes import count_params


@pytest.mark.parametrize("attention", [None, "se", "cbam"])
@pytest.mark.parametrize("blocks", [1, 2])
def test_cifar_resnet_shape(attention, blocks):
    model = CifarResNet((8, 16, 32), blocks, attention=attention)
    assert model(torch.randn(2, 3, 32, 32)).shape == (2, 10)
    assert sum(isinstance(m, BasicBlock) for m in model.modules()) == 3 * blocks
    assert model.features(torch.randn(1, 3, 32, 32)).shape == (1, 32, 8, 8)


def test_cifar_resnet_params_by_formula():
    w = (16, 32, 64)
    plain = count_params(CifarResNet(w))
    stem = 27 * w[0] + 2 * w[0]
    blocks = 0
    for c_in, c_out in zip((w[0],) + w[:-1], w):
        blocks += 9 * c_in * c_out + 9 * c_out * c_out + 4 * c_out
        if c_in != c_out:
            blocks += c_in * c_out + 2 * c_out  # 1x1 projection shortcut + BatchNorm
    assert plain == stem + blocks + (w[-1] + 1) * 10
    assert count_params(CifarResNet(w, attention="se")) - plain == sum(se_params(c, 8) for c in w)
    assert count_params(CifarResNet(w, attention="cbam", reduction=4)) - plain == sum(cbam_params(c, 4) for c in w)


def test_cifar_resnet_bad_arguments():
    with pytest.raises(ValueError, match="attention must be one of"):
        CifarResNet(attention="eca")
    with pytest.raises(ValueError, match="widths must give 3 stage widths"):
        CifarResNet((8, 16))
    with pytest.raises(ValueError, match="blocks must be a positive int; got 0"):
        CifarResNet(blocks=0)
    with pytest.raises(ValueError, match=r"expects images \(N, 3, H, W\)"):
        CifarResNet()(torch.randn(2, 1, 32, 32))


def test_conv_stack_forward_by_hand():
    torch.manual_seed(0)
    for skip in (False, True):
        model = ConvStack(3, 4, skip=skip)
        x = torch.randn(2, 3, 6, 6)
        h = model.stem(x)
        for conv in model.convs:
            h = h + F.relu(conv(h)) if skip else F.relu(conv(h))
        torch.testing.assert_close(model(x), model.head(h.mean(dim=(2, 3))))
    assert count_params(ConvStack(5, 8)) == count_params(ConvStack(5, 8, skip=True))


def test_conv_gradient_norms_against_autograd():
    torch.manual_seed(0)
    model = ConvStack(4, 4, skip=True)
    x, y = torch.randn(3, 3, 5, 5), torch.tensor([0, 1, 2])
    weights = [model.stem.weight] + [c.weight for c in model.convs]
    grads = torch.autograd.grad(F.cross_entropy(model(x), y), weights)
    np.testing.assert_allclose(conv_gradient_norms(model, x, y), [float(g.norm()) for g in grads], rtol=1e-6)


def test_skips_keep_the_first_layer_gradient():
    """Plain deep stack: the first layer's gradient is orders of magnitude below the last's."""
    x, y = torch.randn(8, 3, 8, 8, generator=torch.Generator().manual_seed(1)), torch.arange(8) % 10
    ratios = {}
    for skip in (False, True):
        torch.manual_seed(0)
        g = conv_gradient_norms(ConvStack(20, 8, skip=skip), x, y)
        ratios[skip] = g[1] / g[-1]
    assert ratios[False] < 1e-4 < 1e-2 < ratios[True]


def test_conv_gradient_norms_errors():
    with pytest.raises(ValueError, match=r"x must be \(N, C, H, W\) and target \(N,\)"):
        conv_gradient_norms(ConvStack(2), torch.randn(3, 5, 5), torch.zeros(3, dtype=torch.long))
    with pytest.raises(ValueError, match="has no Conv2d layers"):
        conv_gradient_norms(nn.Sequential(nn.Flatten(), nn.Linear(3, 2)), torch.randn(2, 3, 1, 1),
                            torch.zeros(2, dtype=torch.long))
    with pytest.raises(ValueError, match="depth must be a positive int"):
        ConvStack(0)
