"""Activation functions and their derivatives, by hand in NumPy (Part III).
"""

from __future__ import annotations

import numpy as np
from helpers.scratch.functional import sigmoid

__all__ = ["ACTIVATIONS", "leaky_relu", "leaky_relu_backward", "elu", "activation", "activation_derivative", "DEFAULT_ALPHA", "default_alpha", "activation_name"]


# Elementwise activations the chapter plots; "prelu" is Leaky ReLU whose slope alpha is learnt.
ACTIVATIONS = ("step", "sigmoid", "tanh", "relu", "leaky_relu", "prelu", "elu")


DEFAULT_ALPHA = {"leaky_relu": 0.01, "prelu": 0.25, "elu": 1.0}


def activation_name(name: str) -> str:
    if not isinstance(name, str):
        raise TypeError(f"name must be a string, one of {ACTIVATIONS}; got {type(name).__name__}")
    key = name.lower().replace(" ", "_")
    if key not in ACTIVATIONS:
        raise ValueError(f"name must be one of {ACTIVATIONS}; got {name!r}")
    return key


def default_alpha(name: str, alpha: float | None) -> float:
    if alpha is None:
        return DEFAULT_ALPHA.get(name, 0.0)
    if not np.isscalar(alpha) or not np.isfinite(alpha):
        raise ValueError(f"alpha must be a finite number; got {alpha!r}")
    return float(alpha)


def leaky_relu(x, alpha: float = 0.01) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * x`` (like ``F.leaky_relu(x, negative_slope=alpha)``)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * x)


def leaky_relu_backward(x, grad_out, alpha: float = 0.01) -> np.ndarray:
    """Gradient of :func:`leaky_relu`: ``grad_out`` where ``x > 0``, else ``alpha * grad_out``.

    Args:
        x: the forward input, any shape. grad_out: the gradient of the output, same shape.
    """
    x, grad_out = np.asarray(x, dtype=float), np.asarray(grad_out, dtype=float)
    if x.shape != grad_out.shape:
        raise ValueError(f"grad_out must have x's shape {x.shape}; got {grad_out.shape}")
    return np.where(x > 0, grad_out, alpha * grad_out)


def elu(x, alpha: float = 1.0) -> np.ndarray:
    """``x`` where ``x > 0``, else ``alpha * (exp(x) - 1)`` (like ``F.elu``)."""
    x = np.asarray(x, dtype=float)
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0)))


def activation(name: str, x, alpha: float | None = None) -> np.ndarray:
    """Apply one of :data:`ACTIVATIONS` elementwise.

    Args:
        name: ``"step"``, ``"sigmoid"``, ``"tanh"``, ``"relu"``, ``"leaky_relu"``, ``"prelu"``, ``"elu"``.
        x: ndarray of any shape.
        alpha: the negative slope (Leaky ReLU, PReLU) or the saturation level (ELU); ignored by
            the others. Default 0.01 (Leaky ReLU), 0.25 (PReLU's initial value in PyTorch), 1 (ELU).

    Returns:
        ndarray of ``x``'s shape.
    """
    name = activation_name(name)
    a = default_alpha(name, alpha)
    x = np.asarray(x, dtype=float)
    if name == "step":
        return (x > 0).astype(float)
    if name == "sigmoid":
        return sigmoid(x)
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name in ("leaky_relu", "prelu"):
        return leaky_relu(x, a)
    return elu(x, a)


def activation_derivative(name: str, x, alpha: float | None = None) -> np.ndarray:
    """The derivative ``f'(x)`` of :func:`activation` (at 0 the kinked ones take the left side).

    The step function's derivative is 0 everywhere it exists, which is why it cannot be trained
    by gradient descent. Returns an ndarray of ``x``'s shape.
    """
    name = activation_name(name)
    a = default_alpha(name, alpha)
    x = np.asarray(x, dtype=float)
    if name == "step":
        return np.zeros_like(x)
    if name == "sigmoid":
        s = sigmoid(x)
        return s * (1 - s)
    if name == "tanh":
        return 1 - np.tanh(x) ** 2
    if name == "relu":
        return (x > 0).astype(float)
    if name in ("leaky_relu", "prelu"):
        return np.where(x > 0, 1.0, a)
    return np.where(x > 0, 1.0, a * np.exp(np.minimum(x, 0)))
