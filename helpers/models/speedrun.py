"""The compact CIFAR-10 network of the 94 % speed recipe (chapter 13), after Keller Jordan's airbench94.

A fixed 2x2 "whitening" convolution (3 -> 24 channels, no padding: 32x32 -> 31x31), GELU, then
three blocks of ``conv 3x3 -> max-pool 2 -> BatchNorm -> GELU -> conv 3x3 -> BatchNorm -> GELU``
with 64, 256 and 256 channels (31 -> 15 -> 7 -> 3), a 3x3 max-pool to one value per channel, and
one linear layer without bias whose output is multiplied by 1/9. About 1.97 M parameters and
0.12 G multiply-adds per image.

The architecture facts (widths, the whitening layer, BatchNorm with a frozen scale and a fast
running-average momentum, identity-initialised convolutions, the output scale) are airbench94's
(Jordan 2024, arXiv 2404.00498); the code is the book's.
"""

from __future__ import annotations

from typing import Sequence
import torch
from torch import nn

__all__ = ["SpeedBlock", "SpeedrunNet", "WHITEN_KERNEL"]

WHITEN_KERNEL = 2  # side of the whitening filters: 2*2*3 = 12 values per patch


def _identity_init(conv: nn.Conv2d) -> None:
    """Default init, then make the first ``in_channels`` filters pass their input through (Dirac)."""
    with torch.no_grad():
        n = min(conv.out_channels, conv.in_channels)
        nn.init.dirac_(conv.weight[:n])


def _norm(channels: int, batchnorm: bool) -> nn.Module:
    if not batchnorm:
        return nn.Identity()
    # Scale frozen at 1 (only the shift learns); running statistics follow the batches quickly.
    bn = nn.BatchNorm2d(channels, eps=1e-12, momentum=0.4)
    bn.weight.requires_grad_(False)
    return bn


class SpeedBlock(nn.Module):
    """``conv 3x3 -> max-pool 2 -> norm -> GELU -> conv 3x3 -> norm -> GELU``: (N, C_in, H, W) ->
    (N, C_out, H // 2, W // 2). ``batchnorm=False`` drops both norms (for the ablation)."""

    def __init__(self, in_channels: int, out_channels: int, batchnorm: bool = True):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=not batchnorm)
        self.pool = nn.MaxPool2d(2)
        self.norm1 = _norm(out_channels, batchnorm)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, padding=1, bias=not batchnorm)
        self.norm2 = _norm(out_channels, batchnorm)
        self.act = nn.GELU()
        for conv in (self.conv1, self.conv2):
            _identity_init(conv)
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act(self.norm1(self.pool(self.conv1(x))))  # (N, C_out, H//2, W//2)
        return self.act(self.norm2(self.conv2(x)))


class SpeedrunNet(nn.Module):
    """The recipe's network; takes normalised images ``(N, 3, 32, 32)``, returns logits ``(N, 10)``.

    Args:
        widths: channels of the three blocks.
        batchnorm: BatchNorm in the blocks (``False`` for the ablation).
        num_classes: outputs.
        scale: multiplies the logits (1/9 keeps the initial logits small).

    Attributes:
        whiten: the 2x2 convolution (3 -> 24, with bias); its weights are not trained
            (``requires_grad`` is False) -- :func:`helpers.training.whitening.init_whitening` sets them.
    """

    def __init__(self, widths: Sequence[int] = (64, 256, 256), *, batchnorm: bool = True,
                 num_classes: int = 10, scale: float = 1 / 9):
        super().__init__()
        widths = [int(w) for w in widths]
        if len(widths) != 3 or min(widths) < 1:
            raise ValueError(f"widths must be three positive channel counts; got {widths}")
        whiten_width = 2 * 3 * WHITEN_KERNEL ** 2  # each eigenvector and its negative: 24
        self.whiten = nn.Conv2d(3, whiten_width, WHITEN_KERNEL, padding=0, bias=True)
        self.whiten.weight.requires_grad_(False)
        nn.init.zeros_(self.whiten.bias)
        self.act = nn.GELU()
        self.blocks = nn.Sequential(SpeedBlock(whiten_width, widths[0], batchnorm),
                                    SpeedBlock(widths[0], widths[1], batchnorm),
                                    SpeedBlock(widths[1], widths[2], batchnorm))
        self.pool = nn.MaxPool2d(3)
        self.head = nn.Linear(widths[2], num_classes, bias=False)
        self.scale = float(scale)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or tuple(x.shape[1:]) != (3, 32, 32):
            raise ValueError(f"SpeedrunNet expects images of shape (N, 3, 32, 32); got {tuple(x.shape)}")
        x = self.act(self.whiten(x))  # (N, 24, 31, 31)
        x = self.blocks(x)            # (N, C3, 3, 3)
        x = self.pool(x).flatten(1)   # (N, C3)
        return self.head(x) * self.scale
