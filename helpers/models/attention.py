"""Attention modules for CNNs (Part VII): Squeeze-and-Excitation and CBAM.

Both re-weight a feature map and return a tensor of the input's shape ``(N, C, H, W)``, so
either can be dropped after any convolutional block.

* :class:`SEBlock` -- Hu et al. 2018: global average pool -> FC -> ReLU -> FC -> sigmoid,
  one weight in (0, 1) per channel.
* :class:`CBAM` -- Woo et al. 2018: channel attention (average- *and* max-pooled descriptors
  through one shared MLP), then spatial attention (channel-wise average and max maps through a
  ``k x k`` conv), applied in that order.

Hidden size of the bottleneck MLP: ``max(1, channels // reduction)``, so a ``reduction``
larger than ``channels`` still leaves one hidden unit instead of an empty layer.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["hidden_size", "se_params", "cbam_params", "SEBlock", "CBAM", "positive_int"]


def positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int; got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{name} must be a positive int; got {value}")
    return value


def hidden_size(channels: int, reduction: int = 16) -> int:
    """Width of the bottleneck MLP: ``max(1, channels // reduction)``.

    Args:
        channels: ``C``, the number of input channels.
        reduction: ``r``, the reduction ratio.
    """
    positive_int(channels, "channels")
    positive_int(reduction, "reduction")
    return max(1, channels // reduction)


def se_params(channels: int, reduction: int = 16) -> int:
    """Parameters of :class:`SEBlock`: ``2*C*h + h + C`` with ``h = max(1, C // r)``.

    Two FC layers with biases: ``C -> h`` (``C*h + h``) and ``h -> C`` (``h*C + C``).
    """
    h = hidden_size(channels, reduction)
    return 2 * channels * h + h + channels


def cbam_params(channels: int, reduction: int = 16, kernel_size: int = 7) -> int:
    """Parameters of :class:`CBAM`: ``2*C*h + h + C + 2*k*k + 1`` with ``h = max(1, C // r)``.

    The shared channel MLP has biases (``2*C*h + h + C``, as in SE); the spatial conv has
    2 input channels, 1 output channel and a bias (``2*k*k + 1``).
    """
    positive_int(kernel_size, "kernel_size")
    return se_params(channels, reduction) + 2 * kernel_size * kernel_size + 1


def _check_input(x: torch.Tensor, channels: int, module: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{module} input x must be a torch.Tensor; got {type(x).__name__}")
    if x.ndim != 4:
        raise ValueError(
            f"{module} expects x of shape (N, C, H, W) (4-D); got {x.ndim}-D shape {tuple(x.shape)}"
        )
    if x.shape[1] != channels:
        raise ValueError(
            f"{module} was built for {channels} channels; got x with {x.shape[1]} channels "
            f"(shape {tuple(x.shape)})"
        )


class SEBlock(nn.Module):
    """Squeeze-and-Excitation: re-weight each channel by a learned gate in (0, 1).

    ``s = sigmoid(W2 relu(W1 mean_hw(x) + b1) + b2)``, ``y = x * s`` (``s`` broadcast over H, W).

    Args:
        channels: ``C``, channels of the input.
        reduction: ``r``; the hidden layer has ``max(1, C // r)`` units (at least 1, so a
            ``reduction`` larger than ``channels`` still works).

    Shapes:
        x: ``(N, C, H, W)`` -> ``(N, C, H, W)``.

    Parameters: ``2*C*h + h + C`` (:func:`se_params`); both FC layers have biases, as in the paper.
    """

    def __init__(self, channels: int, reduction: int = 16):
        super().__init__()
        self.channels = positive_int(channels, "channels")
        self.reduction = positive_int(reduction, "reduction")
        self.hidden = hidden_size(channels, reduction)
        self.fc1 = nn.Linear(channels, self.hidden)  # squeeze: C -> h
        self.fc2 = nn.Linear(self.hidden, channels)  # excite: h -> C

    def gate(self, x: torch.Tensor) -> torch.Tensor:
        """The channel weights ``s``: ``(N, C, H, W)`` -> ``(N, C, 1, 1)``, values in (0, 1)."""
        _check_input(x, self.channels, "SEBlock")
        z = x.mean(dim=(2, 3))  # (N, C)  squeeze
        s = torch.sigmoid(self.fc2(torch.relu(self.fc1(z))))  # (N, C)  excitation
        return s[:, :, None, None]  # (N, C, 1, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * self.gate(x)  # (N, C, H, W)

    def extra_repr(self) -> str:
        return f"channels={self.channels}, reduction={self.reduction}, hidden={self.hidden}"


class CBAM(nn.Module):
    """Convolutional Block Attention Module: channel attention, then spatial attention.

    Channel: ``M_c = sigmoid(MLP(avgpool(x)) + MLP(maxpool(x)))`` with ONE shared MLP
    (``Linear(C, h) -> ReLU -> Linear(h, C)``), ``x' = x * M_c``.
    Spatial: ``M_s = sigmoid(conv_kxk([mean_c(x'); max_c(x')]))``, ``y = x' * M_s``.

    Args:
        channels: ``C``, channels of the input.
        reduction: ``r``; the shared MLP has ``max(1, C // r)`` hidden units (at least 1).
        kernel_size: ``k``, odd, of the spatial conv (padding ``k // 2`` keeps H, W).

    Shapes:
        x: ``(N, C, H, W)`` -> ``(N, C, H, W)``.

    Parameters: ``2*C*h + h + C + 2*k*k + 1`` (:func:`cbam_params`). Choice: the MLP layers
    have biases (the authors' code uses ``nn.Linear``); the spatial conv has a bias too, standing
    in for the BatchNorm shift the authors' code puts after a bias-free conv (no BatchNorm here).
    """

    def __init__(self, channels: int, reduction: int = 16, kernel_size: int = 7):
        super().__init__()
        self.channels = positive_int(channels, "channels")
        self.reduction = positive_int(reduction, "reduction")
        positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(
                f"kernel_size must be odd so that padding kernel_size // 2 keeps H and W; "
                f"got {kernel_size}"
            )
        self.kernel_size = kernel_size
        self.hidden = hidden_size(channels, reduction)
        self.mlp = nn.Sequential(  # shared by the average and the max descriptor
            nn.Linear(channels, self.hidden), nn.ReLU(), nn.Linear(self.hidden, channels)
        )
        self.spatial = nn.Conv2d(2, 1, kernel_size, padding=kernel_size // 2, bias=True)

    def channel_gate(self, x: torch.Tensor) -> torch.Tensor:
        """``M_c``: ``(N, C, H, W)`` -> ``(N, C, 1, 1)``, values in (0, 1)."""
        _check_input(x, self.channels, "CBAM")
        avg = self.mlp(x.mean(dim=(2, 3)))  # (N, C)
        mx = self.mlp(x.amax(dim=(2, 3)))  # (N, C)  same weights
        return torch.sigmoid(avg + mx)[:, :, None, None]  # (N, C, 1, 1)

    def spatial_gate(self, x: torch.Tensor) -> torch.Tensor:
        """``M_s``: ``(N, C, H, W)`` -> ``(N, 1, H, W)``, values in (0, 1)."""
        _check_input(x, self.channels, "CBAM")
        maps = torch.cat([x.mean(dim=1, keepdim=True), x.amax(dim=1, keepdim=True)], dim=1)
        return torch.sigmoid(self.spatial(maps))  # (N, 1, H, W)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x * self.channel_gate(x)  # (N, C, H, W)
        return x * self.spatial_gate(x)  # (N, C, H, W)

    def extra_repr(self) -> str:
        return (
            f"channels={self.channels}, reduction={self.reduction}, hidden={self.hidden}, "
            f"kernel_size={self.kernel_size}"
        )
