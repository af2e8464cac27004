"""Convolutions in 1, 2 and 3 dimensions: shapes, parameter counts, small models.

* :func:`conv_output_shape` and :func:`conv_params_nd` -- the lecture's formulas, per axis and for
  a kernel of any rank (a ``Conv1d``, ``Conv2d`` and ``Conv3d`` differ only in how many axes);
* :class:`ConvNetND` -- one small classifier for signals (``dims=1``), images (2) or volumes (3);
* :class:`TinyUNet` -- a tiny fully convolutional encoder-decoder that labels every pixel;

:func:`helpers.training.loop.fit` trains them on float tensors of any rank, with one label per
example ``(N,)`` or per pixel/voxel ``(N, ...)``; :mod:`helpers.analysis.segmentation` scores masks.
"""

from __future__ import annotations

import math
from typing import Sequence
import torch
import torch.nn.functional as F
from torch import nn
from helpers.scratch.shapes import conv_output_size, conv_params, PaddingArg

__all__ = ["conv_output_shape", "conv_params_nd", "ConvNetND", "TinyUNet"]


_CONV = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}


_NORM = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


_POOL = {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d}


_AXES = {1: "L", 2: "H, W", 3: "D, H, W"}


def _per_axis(value, rank: int, name: str) -> tuple:
    """An int (or mode string) for every axis, or a sequence with one entry per axis."""
    if isinstance(value, (tuple, list)):
        if len(value) != rank:
            raise ValueError(f"{name} must be one value or one per axis ({rank}); got {value!r}")
        return tuple(value)
    return (value,) * rank


def conv_output_shape(size: Sequence[int], kernel_size, stride=1, padding: PaddingArg = 0,
                      dilation=1) -> tuple[int, ...]:
    """Output size of a convolution (or pooling) over any number of axes: ``(L,)``, ``(H, W)``, ``(D, H, W)``.

    Each axis follows ``floor((I + 2P - D*(F - 1) - 1) / S) + 1`` on its own
    (:func:`helpers.scratch.shapes.conv_output_size`); ``kernel_size``, ``stride``, ``padding`` and
    ``dilation`` are one value for every axis or one per axis.
    """
    if not isinstance(size, (tuple, list)) or not size:
        raise TypeError(f"size must be a tuple of ints, one per axis, e.g. (64,) or (16, 32, 32); got {size!r}")
    rank = len(size)
    ks, ss = _per_axis(kernel_size, rank, "kernel_size"), _per_axis(stride, rank, "stride")
    ps, ds = _per_axis(padding, rank, "padding"), _per_axis(dilation, rank, "dilation")
    return tuple(conv_output_size(size[i], ks[i], ss[i], ps[i], ds[i]) for i in range(rank))


def conv_params_nd(in_channels: int, out_channels: int, kernel_size, dims: int, *, bias: bool = True,
                   groups: int = 1) -> int:
    """Learnable parameters of a ``dims``-D conv layer: ``(F_1*...*F_dims * C/groups + 1) * K``.

    The 2-D formula ``(F*F*C + 1)*K`` with the kernel's area replaced by its volume (``F`` for
    ``Conv1d``, ``F^3`` for a cubic ``Conv3d`` kernel).
    """
    if dims not in _CONV:
        raise ValueError(f"dims must be 1, 2 or 3; got {dims!r}")
    ks = _per_axis(kernel_size, dims, "kernel_size")
    if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in ks):
        raise ValueError(f"kernel_size must be positive ints; got {kernel_size!r}")
    return conv_params(in_channels, out_channels, (math.prod(ks), 1), bias=bias, groups=groups)


class ConvNetND(nn.Module):
    """Conv blocks (conv ``k`` "same" -> batch norm -> ReLU -> max-pool 2), global pooling, a linear layer.

    Args:
        dims: 1 (signals ``(N, C, L)``), 2 (images ``(N, C, H, W)``) or 3 (volumes ``(N, C, D, H, W)``).
        in_channels, num_classes: input channels and output classes.
        widths: output channels of each block.
        kernel_size: kernel length along every axis (odd).
        global_pool: ``"avg"`` (how much of a pattern there is) or ``"max"`` (is it anywhere).
        pool_blocks: whether each block halves the size (``False`` keeps full resolution).

    ``forward(x)`` returns logits ``(N, num_classes)`` whatever the input's length or size.
    """

    def __init__(self, dims: int, in_channels: int = 1, num_classes: int = 4,
                 widths: Sequence[int] = (16, 32, 64), kernel_size: int = 3, global_pool: str = "avg",
                 pool_blocks: bool = True):
        super().__init__()
        if dims not in _CONV:
            raise ValueError(f"dims must be 1, 2 or 3 (signals, images, volumes); got {dims!r}")
        if not isinstance(kernel_size, int) or kernel_size < 1 or kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be an odd positive int (so 'same' padding is symmetric); "
                             f"got {kernel_size!r}")
        if global_pool not in ("avg", "max") or not widths:
            raise ValueError(f"global_pool must be 'avg' or 'max' and widths non-empty; got "
                             f"{global_pool!r}, {widths!r}")
        self.dims = dims
        layers, c = [], in_channels
        for w in widths:
            layers += [_CONV[dims](c, w, kernel_size, padding=kernel_size // 2), _NORM[dims](w), nn.ReLU()]
            layers += [_POOL[dims](2)] if pool_blocks else []
            c = w
        self.features = nn.Sequential(*layers)
        self.global_pool = global_pool
        self.classifier = nn.Linear(c, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != self.dims + 2:
            raise ValueError(f"ConvNetND(dims={self.dims}) needs input (N, C, {_AXES[self.dims]}); "
                             f"got shape {tuple(x.shape)}")
        h = self.features(x).flatten(2)  # (N, C_last, positions)
        h = h.mean(2) if self.global_pool == "avg" else h.amax(2)  # (N, C_last)
        return self.classifier(h)  # (N, num_classes)


def _block(c_in: int, c_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.BatchNorm2d(c_out), nn.ReLU())


class TinyUNet(nn.Module):
    """A tiny fully convolutional encoder-decoder (a two-level U-Net) for per-pixel classes.

    encoder: block(C->w) at H×W, pool, block(w->2w) at H/2, pool, block(2w->4w) at H/4;
    decoder: transposed conv up to H/2, concatenate the encoder's H/2 maps, block(4w->2w); up to H,
    concatenate, block(2w->w); a 1×1 conv gives ``num_classes`` scores per pixel.

    ``forward(x: (N, C, H, W))`` with ``H, W`` divisible by 4 returns logits ``(N, num_classes, H, W)``.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 4, width: int = 16):
        super().__init__()
        w = width
        self.enc1, self.enc2, self.bottom = _block(in_channels, w), _block(w, 2 * w), _block(2 * w, 4 * w)
        self.up2, self.dec2 = nn.ConvTranspose2d(4 * w, 2 * w, 2, stride=2), _block(4 * w, 2 * w)
        self.up1, self.dec1 = nn.ConvTranspose2d(2 * w, w, 2, stride=2), _block(2 * w, w)
        self.head = nn.Conv2d(w, num_classes, 1)  # a "dense layer" applied at every pixel

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[2] % 4 or x.shape[3] % 4:
            raise ValueError(f"TinyUNet needs input (N, C, H, W) with H and W divisible by 4 (it halves "
                             f"them twice); got shape {tuple(x.shape)}: pad or crop the images")
        e1 = self.enc1(x)  # (N, w, H, W)
        e2 = self.enc2(F.max_pool2d(e1, 2))  # (N, 2w, H/2, W/2)
        b = self.bottom(F.max_pool2d(e2, 2))  # (N, 4w, H/4, W/4)
        d2 = self.dec2(torch.cat([self.up2(b), e2], 1))  # (N, 2w, H/2, W/2)
        d1 = self.dec1(torch.cat([self.up1(d2), e1], 1))  # (N, w, H, W)
        return self.head(d1)  # (N, num_classes, H, W)
