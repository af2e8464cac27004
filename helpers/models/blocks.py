"""The building blocks of the classic CNN architectures (Part VII), each in a few lines of ``torch.nn``.

Every block maps ``(N, C_in, H, W)`` to ``(N, C_out, H_out, W_out)``; the class says how ``C_out``
and the size follow from its arguments. Convolutions are followed by BatchNorm and have no bias
(as in torchvision's reference models, so the parameter counts can be compared with them).

* :class:`Inception` -- GoogLeNet (2014): parallel 1x1, 3x3, 5x5 and pool branches, concatenated.
* :class:`BasicBlock`, :class:`Bottleneck` -- ResNet (2015): ``y = relu(F(x) + shortcut(x))``.
* :class:`DenseBlock` -- DenseNet (2017): each layer sees the concatenation of all earlier maps.
* :class:`DepthwiseSeparable` -- MobileNet v1 (2017): a 3x3 depthwise conv, then a 1x1 conv.
* :class:`InvertedResidual` -- MobileNet v2 (2018): expand 1x1, depthwise 3x3, linear project 1x1.
* :class:`MBConv` -- EfficientNet (2019): the inverted residual with SiLU and squeeze-and-excitation.
"""

from __future__ import annotations

import torch
from torch import nn
from torchvision.ops import SqueezeExcitation
from helpers.models.attention import positive_int as _positive  # one argument check for both modules

__all__ = ["conv_bn", "Inception", "BasicBlock", "Bottleneck", "DenseBlock", "DepthwiseSeparable", "InvertedResidual", "MBConv"]


def _stride(stride: object) -> int:
    if stride not in (1, 2) or isinstance(stride, bool):
        raise ValueError(f"stride must be 1 or 2; got {stride!r}")
    return int(stride)


def conv_bn(c_in: int, c_out: int, kernel_size: int = 3, stride: int = 1, groups: int = 1,
            act: type[nn.Module] | None = nn.ReLU) -> nn.Sequential:
    """``Conv2d(bias=False)`` with "same" padding ``k // 2``, BatchNorm, then ``act`` (None: no activation).

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_out, ceil(H / stride), ceil(W / stride))`` for odd ``k``.
    Parameters: ``k*k*(c_in/groups)*c_out`` weights + ``2*c_out`` BatchNorm scales and shifts.
    """
    for value, name in ((c_in, "c_in"), (c_out, "c_out"), (kernel_size, "kernel_size"), (groups, "groups")):
        _positive(value, name)
    if c_in % groups or c_out % groups:
        raise ValueError(f"groups={groups} must divide c_in={c_in} and c_out={c_out}")
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, kernel_size, stride, kernel_size // 2,
                                         groups=groups, bias=False), nn.BatchNorm2d(c_out)]
    if act is not None:
        layers.append(act())
    return nn.Sequential(*layers)


class Inception(nn.Module):
    """GoogLeNet's inception module: four branches side by side, concatenated along channels.

    Branches: ``1x1 -> c1``; ``1x1 -> c3_reduce, 3x3 -> c3``; ``1x1 -> c5_reduce, k5 x k5 -> c5``;
    ``3x3 max-pool (stride 1), 1x1 -> pool_proj``. The 1x1 "reduce" convs shrink the channels
    before the expensive 3x3 and 5x5 convs. ``k5 = 5`` as in the paper; torchvision's GoogLeNet
    uses ``k5 = 3`` there (a slip kept for its weights), so pass ``k5=3`` to match it.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c1 + c3 + c5 + pool_proj, H, W)``.
    """

    def __init__(self, c_in: int, c1: int, c3_reduce: int, c3: int, c5_reduce: int, c5: int,
                 pool_proj: int, *, k5: int = 5):
        super().__init__()
        self.out_channels = c1 + c3 + c5 + pool_proj
        self.branch1 = conv_bn(c_in, c1, 1)
        self.branch2 = nn.Sequential(conv_bn(c_in, c3_reduce, 1), conv_bn(c3_reduce, c3, 3))
        self.branch3 = nn.Sequential(conv_bn(c_in, c5_reduce, 1), conv_bn(c5_reduce, c5, k5))
        self.branch4 = nn.Sequential(nn.MaxPool2d(3, stride=1, padding=1), conv_bn(c_in, pool_proj, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch1, self.branch2, self.branch3, self.branch4)
        return torch.cat([b(x) for b in branches], dim=1)  # (N, c1 + c3 + c5 + pool_proj, H, W)


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Module:
    """Identity when the shapes agree, else a 1x1 conv (with ``stride``) + BatchNorm to match them."""
    if stride == 1 and c_in == c_out:
        return nn.Identity()
    return conv_bn(c_in, c_out, 1, stride, act=None)


class BasicBlock(nn.Module):
    """ResNet's basic block: ``y = relu(BN(conv3x3(relu(BN(conv3x3(x))))) + shortcut(x))``.

    The block learns the *residual* ``F(x) = y - x``; the identity path lets the gradient reach
    earlier layers unchanged. The first conv carries the ``stride``. ``attention`` (a module
    keeping the shape, e.g. :class:`helpers.models.attention.SEBlock` of ``c_out`` channels) re-weights
    ``F(x)`` before the addition, as SE-ResNet and CBAM do.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_out, H / stride, W / stride)``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1, attention: nn.Module | None = None):
        super().__init__()
        stride = _stride(stride)
        layers = [conv_bn(c_in, c_out, 3, stride), conv_bn(c_out, c_out, 3, act=None)]
        self.residual = nn.Sequential(*layers, *([attention] if attention is not None else []))
        self.shortcut = _shortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual(x) + self.shortcut(x))  # (N, c_out, H', W')


class Bottleneck(nn.Module):
    """ResNet-50's bottleneck: 1x1 (reduce to ``width``), 3x3 (``stride``), 1x1 (expand), plus shortcut.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, width * expansion, H / stride, W / stride)``. The stride
    sits on the 3x3 conv, as in torchvision ("ResNet v1.5").
    """

    def __init__(self, c_in: int, width: int, stride: int = 1, expansion: int = 4):
        super().__init__()
        stride, c_out = _stride(stride), width * _positive(expansion, "expansion")
        self.residual = nn.Sequential(conv_bn(c_in, width, 1), conv_bn(width, width, 3, stride),
                                      conv_bn(width, c_out, 1, act=None))
        self.shortcut = _shortcut(c_in, c_out, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(self.residual(x) + self.shortcut(x))  # (N, width * expansion, H', W')


class DenseBlock(nn.Module):
    """DenseNet's dense block: layer ``i`` sees the concatenation of the input and all earlier outputs.

    Each layer is ``BN-ReLU-conv1x1 (bn_size * growth) - BN-ReLU-conv3x3 (growth)`` (pre-activation,
    as in the paper) and adds ``growth`` new channels.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_in + num_layers * growth, H, W)``.
    """

    def __init__(self, c_in: int, growth: int, num_layers: int, bn_size: int = 4):
        super().__init__()
        _positive(num_layers, "num_layers")
        mid = _positive(bn_size, "bn_size") * _positive(growth, "growth")
        self.out_channels = c_in + num_layers * growth
        self.layers = nn.ModuleList(
            nn.Sequential(nn.BatchNorm2d(c_in + i * growth), nn.ReLU(),
                          nn.Conv2d(c_in + i * growth, mid, 1, bias=False),
                          nn.BatchNorm2d(mid), nn.ReLU(), nn.Conv2d(mid, growth, 3, padding=1, bias=False))
            for i in range(num_layers))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        features = [x]
        for layer in self.layers:
            features.append(layer(torch.cat(features, dim=1)))  # (N, growth, H, W) each
        return torch.cat(features, dim=1)  # (N, c_in + num_layers * growth, H, W)


class DepthwiseSeparable(nn.Module):
    """MobileNet v1's block: a 3x3 *depthwise* conv (one filter per channel), then a 1x1 *pointwise* conv.

    Weights: ``9*c_in + c_in*c_out`` instead of a full 3x3 conv's ``9*c_in*c_out`` (plus BatchNorm).

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_out, H / stride, W / stride)``.
    """

    def __init__(self, c_in: int, c_out: int, stride: int = 1):
        super().__init__()
        self.depthwise = conv_bn(c_in, c_in, 3, _stride(stride), groups=c_in)
        self.pointwise = conv_bn(c_in, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))  # (N, c_out, H', W')


class InvertedResidual(nn.Module):
    """MobileNet v2's block: expand (1x1, ``t * c_in`` channels), depthwise 3x3, project (1x1, linear).

    "Inverted": thin at the ends, wide in the middle, the opposite of ResNet's bottleneck. The
    projection has no activation (a linear bottleneck); the skip is used when ``stride == 1`` and
    ``c_in == c_out``. Activation ReLU6; with ``expand_ratio=1`` the expansion is left out.
    ``kernel_size`` (odd) is the depthwise kernel: 3 in MobileNet v2, 3 or 5 in EfficientNet.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_out, H / stride, W / stride)``.
    """

    act: type[nn.Module] = nn.ReLU6

    def __init__(self, c_in: int, c_out: int, stride: int = 1, expand_ratio: int = 6, *,
                 kernel_size: int = 3):
        super().__init__()
        stride, hidden = _stride(stride), c_in * _positive(expand_ratio, "expand_ratio")
        self.use_skip = stride == 1 and c_in == c_out
        layers = [conv_bn(c_in, hidden, 1, act=self.act)] if expand_ratio != 1 else []
        layers.append(conv_bn(hidden, hidden, kernel_size, stride, groups=hidden, act=self.act))  # depthwise
        layers.extend(self._middle(c_in, hidden))
        layers.append(conv_bn(hidden, c_out, 1, act=None))  # linear projection
        self.block = nn.Sequential(*layers)

    def _middle(self, c_in: int, hidden: int) -> list[nn.Module]:
        return []  # MBConv puts squeeze-and-excitation here

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.block(x)  # (N, c_out, H', W')
        return x + y if self.use_skip else y


class MBConv(InvertedResidual):
    """EfficientNet's MBConv: the inverted residual with SiLU and squeeze-and-excitation.

    SE sits after the depthwise conv, on the ``t * c_in`` expanded channels, with a hidden width of
    ``max(1, int(c_in * se_ratio))`` and SiLU inside (``torchvision.ops.SqueezeExcitation``; the
    same gate as :class:`helpers.models.attention.SEBlock` with SiLU in place of ReLU). Stochastic depth
    (training only) is left out.

    Shapes: ``(N, c_in, H, W)`` -> ``(N, c_out, H / stride, W / stride)``.
    """

    act = nn.SiLU

    def __init__(self, c_in: int, c_out: int, stride: int = 1, expand_ratio: int = 6, *,
                 kernel_size: int = 3, se_ratio: float = 0.25):
        if not 0 < se_ratio <= 1:
            raise ValueError(f"se_ratio must be in (0, 1]; got {se_ratio}")
        self.se_ratio = se_ratio
        super().__init__(c_in, c_out, stride, expand_ratio, kernel_size=kernel_size)

    def _middle(self, c_in: int, hidden: int) -> list[nn.Module]:
        return [SqueezeExcitation(hidden, max(1, int(c_in * self.se_ratio)), activation=nn.SiLU)]
