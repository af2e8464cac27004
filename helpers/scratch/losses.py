"""Losses for detection-style targets: binary cross-entropy on logits and the focal loss, in NumPy.
"""

from __future__ import annotations

import numpy as np
from helpers.scratch.functional import sigmoid

__all__ = ["binary_cross_entropy_with_logits", "sigmoid_focal_loss"]


def binary_cross_entropy_with_logits(logits, target) -> float:
    """Mean ``-[y log s(z) + (1-y) log(1 - s(z))]``, computed stably from the logits ``z``.

    Uses ``max(z, 0) - z*y + log(1 + exp(-|z|))``. ``logits`` and ``target`` (values in [0, 1])
    have the same shape.
    """
    z, y = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
    if z.shape != y.shape:
        raise ValueError(f"target must have logits' shape {z.shape}; got {y.shape}")
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(f"target values must be in [0, 1]; got range [{y.min()}, {y.max()}]")
    return float(np.mean(np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))))


def sigmoid_focal_loss(logits, target, alpha: float = 0.25, gamma: float = 2.0,
                       reduction: str = "none") -> np.ndarray | float:
    """Focal loss (Lin et al., 2017) as ``torchvision.ops.sigmoid_focal_loss`` computes it.

    ``FL = -alpha_t (1 - p_t)^gamma log(p_t)`` with ``p = sigmoid(z)``, ``p_t = p`` for ``y = 1``
    and ``1 - p`` for ``y = 0``, ``alpha_t = alpha`` or ``1 - alpha`` alike (``alpha < 0``: no
    weighting). With ``gamma = 0`` and no weighting it is binary cross-entropy.

    Args:
        logits, target: ndarrays of one shape; target values in [0, 1].
        reduction: ``"none"`` (the array), ``"mean"`` or ``"sum"`` (a float).
    """
    z, y = np.asarray(logits, dtype=float), np.asarray(target, dtype=float)
    if z.shape != y.shape:
        raise ValueError(f"target must have logits' shape {z.shape}; got {y.shape}")
    if gamma < 0:
        raise ValueError(f"gamma must be >= 0; got {gamma}")
    if reduction not in ("none", "mean", "sum"):
        raise ValueError(f"reduction must be 'none', 'mean' or 'sum'; got {reduction!r}")
    p = sigmoid(z)
    ce = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))  # per-element BCE = -log(p_t)
    p_t = p * y + (1 - p) * (1 - y)
    loss = ce * (1 - p_t) ** gamma
    if alpha >= 0:
        loss = (alpha * y + (1 - alpha) * (1 - y)) * loss
    if reduction == "mean":
        return float(loss.mean())
    if reduction == "sum":
        return float(loss.sum())
    return loss
