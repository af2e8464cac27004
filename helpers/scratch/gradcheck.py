"""Finite differences: the independent check of every gradient derived by hand.
"""

from __future__ import annotations

from typing import Callable
import numpy as np

__all__ = ["numerical_gradient", "gradient_check"]


def numerical_gradient(f: Callable[[np.ndarray], float], x, eps: float = 1e-6) -> np.ndarray:
    """Central-difference gradient ``(f(x + eps e_i) - f(x - eps e_i)) / (2 eps)`` of a scalar f.

    Args:
        f: a function of one array returning a scalar (it may read ``x`` but must not keep it).
        x: the point, any shape; float64 is used.
        eps: the step.

    Returns:
        ndarray shaped like ``x``.
    """
    x = np.array(x, dtype=np.float64)  # a copy: f sees perturbed values, the caller's x is safe
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        plus = float(f(x))
        x[i] = old - eps
        minus = float(f(x))
        x[i] = old
        grad[i] = (plus - minus) / (2 * eps)
    return grad


def gradient_check(f: Callable[[np.ndarray], float], x, analytic, eps: float = 1e-6) -> float:
    """Largest relative error between a hand-derived gradient and finite differences.

    ``max |a - n| / max(|a| + |n|, 1e-12)``: below about 1e-6 in float64 the two agree.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = numerical_gradient(f, x, eps)
    if analytic.shape != numeric.shape:
        raise ValueError(f"analytic gradient has shape {analytic.shape}; x has shape {numeric.shape}")
    denom = np.maximum(np.abs(analytic) + np.abs(numeric), 1e-12)
    return float(np.max(np.abs(analytic - numeric) / denom))
