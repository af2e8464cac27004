"""Small residual networks for CIFAR-10, and deep conv stacks with and without skips (Part VII).

* :class:`CifarResNet` -- a stem conv, three stages of :class:`helpers.models.blocks.BasicBlock`
  (optionally with SE or CBAM inside each block), global average pooling and one linear layer;
  small enough to train for a few epochs on a laptop CPU.
* :class:`ConvStack` -- ``depth`` same-size 3x3 conv + ReLU layers, plain or with identity
  skips, no normalisation: the vanishing-gradient experiment.
* :func:`conv_gradient_norms` -- one backward pass; the gradient norm of every conv's weight.
"""

from __future__ import annotations

from typing import Sequence
import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from helpers.models.attention import CBAM, SEBlock
from helpers.models.blocks import BasicBlock, conv_bn

__all__ = ["ATTENTION", "CifarResNet", "ConvStack", "conv_gradient_norms"]


ATTENTION = (None, "se", "cbam")


class CifarResNet(nn.Module):
    """A small ResNet for 32x32 images: stem, three stages of basic blocks, pool, linear.

    stem ``conv3x3 (3 -> w1)`` -> stage 1 (``w1``, 32x32) -> stage 2 (``w2``, 16x16) -> stage 3
    (``w3``, 8x8) -> global average pool -> ``Linear(w3, num_classes)``. Each stage has
    ``blocks`` basic blocks; the first block of stages 2 and 3 halves the size (stride 2).

    Args:
        widths: ``(w1, w2, w3)`` channels of the three stages.
        blocks: basic blocks per stage (``blocks=1`` gives 8 weight layers: a "ResNet-8").
        attention: ``None``, ``"se"`` (:class:`SEBlock`) or ``"cbam"`` (:class:`CBAM`) inside
            every block, applied to the residual branch before the addition.
        reduction: the attention MLP's reduction ratio ``r``.
        num_classes: outputs.

    Shapes: ``(N, 3, 32, 32)`` (any size works) -> logits ``(N, num_classes)``.
    """

    def __init__(self, widths: Sequence[int] = (16, 32, 64), blocks: int = 1, *,
                 attention: str | None = None, reduction: int = 8, num_classes: int = 10):
        super().__init__()
        if attention not in ATTENTION:
            raise ValueError(f"attention must be one of {ATTENTION}; got {attention!r}")
        widths = tuple(widths)
        if len(widths) != 3:
            raise ValueError(f"widths must give 3 stage widths (w1, w2, w3); got {widths}")
        if isinstance(blocks, bool) or not isinstance(blocks, int) or blocks < 1:
            raise ValueError(f"blocks must be a positive int; got {blocks!r}")
        self.attention = attention

        def gate(c: int) -> nn.Module | None:
            return {"se": lambda: SEBlock(c, reduction), "cbam": lambda: CBAM(c, reduction),
                    None: lambda: None}[attention]()

        layers: list[nn.Module] = [conv_bn(3, widths[0], 3)]  # (N, w1, 32, 32)
        c_in = widths[0]
        for stage, width in enumerate(widths):
            for b in range(blocks):
                stride = 2 if stage > 0 and b == 0 else 1
                layers.append(BasicBlock(c_in, width, stride, attention=gate(width)))
                c_in = width
        self.features = nn.Sequential(*layers)  # (N, w3, 8, 8)
        self.head = nn.Linear(widths[-1], num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"CifarResNet expects images (N, 3, H, W); got {tuple(x.shape)}")
        return self.head(self.features(x).mean(dim=(2, 3)))  # (N, w3) -> (N, num_classes)


class ConvStack(nn.Module):
    """``depth`` 3x3 conv layers of ``width`` channels with ReLU, plain or with identity skips.

    Plain: ``x <- relu(conv(x))``. With ``skip=True``: ``x <- x + relu(conv(x))``, the same
    layers and parameters, only the identity path added. No BatchNorm, so the difference in
    gradient flow comes from the skips alone. A 1x1 stem maps the input to ``width`` channels;
    global average pooling and a linear layer give the logits. PyTorch's default initialisation.

    Shapes: ``(N, c_in, H, W)`` -> logits ``(N, num_classes)``.
    """

    def __init__(self, depth: int, width: int = 16, *, skip: bool = False, c_in: int = 3,
                 num_classes: int = 10):
        super().__init__()
        if isinstance(depth, bool) or not isinstance(depth, int) or depth < 1:
            raise ValueError(f"depth must be a positive int; got {depth!r}")
        self.skip = bool(skip)
        self.stem = nn.Conv2d(c_in, width, 1)
        self.convs = nn.ModuleList(nn.Conv2d(width, width, 3, padding=1) for _ in range(depth))
        self.head = nn.Linear(width, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)  # (N, width, H, W)
        for conv in self.convs:
            y = torch.relu(conv(x))  # (N, width, H, W)
            x = x + y if self.skip else y
        return self.head(x.mean(dim=(2, 3)))  # (N, num_classes)


def conv_gradient_norms(model: nn.Module, x: torch.Tensor, target: torch.Tensor) -> np.ndarray:
    """One backward pass of the cross-entropy loss; the L2 norm of every Conv2d weight's gradient.

    Args:
        model: maps ``x`` to logits ``(N, K)``; kept in its current mode.
        x: tensor ``(N, C, H, W)``. target: tensor ``(N,)`` of class indices.

    Returns:
        ndarray[L]: ``||dL/dW_l||`` for the model's ``Conv2d`` layers in order (first = nearest the input).
    """
    if x.ndim != 4 or target.shape != (x.shape[0],):
        raise ValueError(f"x must be (N, C, H, W) and target (N,); got {tuple(x.shape)} and "
                         f"{tuple(target.shape)}")
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise ValueError(f"{type(model).__name__} has no Conv2d layers")
    model.zero_grad()
    F.cross_entropy(model(x), target).backward()
    return np.array([float(m.weight.grad.norm()) for m in convs])
