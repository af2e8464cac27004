"""Activations and losses in NumPy, with their gradients: the pieces of a hand-made backward pass.

Names mirror ``torch.nn.functional`` (``relu``, ``sigmoid``, ``softmax``, ``cross_entropy``);
each ``*_backward`` takes the forward input and the gradient of the output and returns the
gradient of the input.
"""

from __future__ import annotations

import numpy as np

__all__ = ["relu", "relu_backward", "sigmoid", "sigmoid_backward", "softmax", "cross_entropy", "cross_entropy_backward"]


def relu(x) -> np.ndarray:
    """``max(x, 0)`` elementwise."""
    return np.maximum(np.asarray(x), 0)


def relu_backward(x, grad_out) -> np.ndarray:
    """ReLU is a gate: the gradient passes where ``x > 0`` and is blocked elsewhere."""
    x, grad_out = np.asarray(x), np.asarray(grad_out)
    if x.shape != grad_out.shape:
        raise ValueError(f"grad_out must have x's shape {x.shape}; got {grad_out.shape}")
    return grad_out * (x > 0)


def sigmoid(x) -> np.ndarray:
    """``1 / (1 + exp(-x))``, computed without overflow for large ``|x|``."""
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_backward(x, grad_out) -> np.ndarray:
    """``grad_out * s * (1 - s)`` with ``s = sigmoid(x)``; note ``s(1 - s) <= 0.25``."""
    s = sigmoid(x)
    return np.asarray(grad_out) * s * (1 - s)


def softmax(logits, axis: int = -1) -> np.ndarray:
    """Probabilities ``exp(z_i) / sum_j exp(z_j)`` along ``axis`` (shifted by the max: stable)."""
    z = np.asarray(logits, dtype=float)
    z = z - z.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def _check_targets(logits: np.ndarray, target) -> np.ndarray:
    target = np.asarray(target)
    if logits.ndim != 2:
        raise ValueError(f"logits must be 2-D (N, num_classes); got shape {logits.shape}")
    if target.shape != (logits.shape[0],) or not np.issubdtype(target.dtype, np.integer):
        raise ValueError(
            f"target must hold one integer class per row of logits ({logits.shape[0]}); "
            f"got shape {target.shape} and dtype {target.dtype}"
        )
    if target.size and (target.min() < 0 or target.max() >= logits.shape[1]):
        raise ValueError(f"target classes must be in 0..{logits.shape[1] - 1}; got {target}")
    return target


def cross_entropy(logits, target) -> float:
    """Mean cross-entropy ``-log softmax(z)[y]`` over the batch, like ``F.cross_entropy``.

    Args:
        logits: ndarray[N, num_classes]; target: ndarray[N] of class indices.
    """
    z = np.asarray(logits, dtype=float)
    target = _check_targets(z, target)
    shifted = z - z.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(target)), target].mean())


def cross_entropy_backward(logits, target) -> np.ndarray:
    """Gradient of :func:`cross_entropy` with respect to the logits: ``(softmax - one_hot) / N``."""
    z = np.asarray(logits, dtype=float)
    target = _check_targets(z, target)
    grad = softmax(z, axis=1)
    grad[np.arange(len(target)), target] -= 1
    return grad / len(target)
