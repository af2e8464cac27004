"""Deep plain and residual MLPs for the Part III measurements (vanishing gradients, initialisation).
"""

from __future__ import annotations

import numpy as np

__all__ = ["deep_mlp"]


_TORCH_ACTS = ("sigmoid", "tanh", "relu")


def _torch_activation(name: str):
    import torch.nn as nn

    if name not in _TORCH_ACTS:
        raise ValueError(f"activation must be one of {_TORCH_ACTS}; got {name!r}")
    return {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "relu": nn.ReLU}[name]()


def _residual_block(width: int, act: str, norm: bool):
    import torch.nn as nn

    class Residual(nn.Module):
        """``x + act(norm(linear(x)))``: the identity path carries the gradient past the layer."""

        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(width, width)
            self.norm = nn.BatchNorm1d(width) if norm else nn.Identity()
            self.act = _torch_activation(act)

        def forward(self, x):
            return x + self.act(self.norm(self.linear(x)))

    return Residual()


def deep_mlp(depth: int, width: int, n_in: int, n_out: int, activation: str = "relu", *,
             batch_norm: bool = False, residual: bool = False, init: str | None = None):
    """A deep fully connected net: ``depth`` hidden layers of ``width`` units, then a linear output.

    Args:
        depth: number of hidden layers (each ``Linear -> [BatchNorm1d] -> activation``).
        width, n_in, n_out: layer sizes.
        activation: ``"sigmoid"``, ``"tanh"`` or ``"relu"``.
        batch_norm: insert ``BatchNorm1d`` before every hidden activation.
        residual: hidden layers 2..depth become ``x + act(linear(x))``.
        init: ``None`` (PyTorch's default), ``"xavier"`` (Var = 1/n_in, Glorot's normal uses
            2/(n_in+n_out), equal here), ``"he"`` (Var = 2/n_in) or ``"small"`` (std 0.01);
            biases are set to 0 unless ``init`` is None.

    Returns:
        ``torch.nn.Sequential``; its ``Linear`` layers, in order, are the ones the measurements
        below report (input layer = layer 1).
    """
    import torch
    import torch.nn as nn

    for label, value in (("depth", depth), ("width", width), ("n_in", n_in), ("n_out", n_out)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{label} must be a positive int; got {value!r}")
    _torch_activation(activation)
    if init not in (None, "xavier", "he", "small"):
        raise ValueError(f"init must be None, 'xavier', 'he' or 'small'; got {init!r}")
    layers: list = []
    for i in range(depth):
        if residual and i > 0:
            layers.append(_residual_block(width, activation, batch_norm))
            continue
        layers.append(nn.Linear(n_in if i == 0 else width, width))
        if batch_norm:
            layers.append(nn.BatchNorm1d(width))
        layers.append(_torch_activation(activation))
    layers.append(nn.Linear(width, n_out))
    model = nn.Sequential(*layers)
    if init is not None:
        with torch.no_grad():
            for m in model.modules():
                if isinstance(m, nn.Linear):
                    fan_in = m.weight.shape[1]
                    std = {"xavier": (1 / fan_in) ** 0.5, "he": (2 / fan_in) ** 0.5, "small": 0.01}[init]
                    m.weight.normal_(0.0, std)
                    m.bias.zero_()
    return model
