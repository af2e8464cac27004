"""Batch and group normalisation and dropout, by hand in NumPy (Part III).
"""

from __future__ import annotations

import numpy as np

__all__ = ["batch_norm", "group_norm", "dropout"]


def _check_norm_params(x: np.ndarray, gamma, beta, name: str):
    c = x.shape[1]
    gamma = np.ones(c) if gamma is None else np.asarray(gamma, dtype=float)
    beta = np.zeros(c) if beta is None else np.asarray(beta, dtype=float)
    for label, value in (("gamma", gamma), ("beta", beta)):
        if value.shape != (c,):
            raise ValueError(f"{name}: {label} must have one value per channel, shape ({c},); got {value.shape}")
    shape = (1, c) + (1,) * (x.ndim - 2)
    return gamma.reshape(shape), beta.reshape(shape)


def batch_norm(x, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """Batch normalisation in training mode: ``gamma * (x - mu_B) / sqrt(var_B + eps) + beta``.

    The mean and the (biased) variance are taken per channel over the batch and, for images,
    over all pixels: axes ``(0, 2, 3)``.

    Args:
        x: ndarray[N, C] or ndarray[N, C, H, W].
        gamma, beta: ndarray[C] (default ones and zeros).
        eps: added to the variance.

    Returns:
        ndarray of ``x``'s shape.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be (N, C) or (N, C, H, W); got shape {x.shape}")
    if x.shape[0] * int(np.prod(x.shape[2:])) < 2:
        raise ValueError(f"x must hold more than one value per channel to normalise; got shape {x.shape}")
    gamma, beta = _check_norm_params(x, gamma, beta, "batch_norm")
    axes = (0,) + tuple(range(2, x.ndim))
    mu = x.mean(axis=axes, keepdims=True)  # (1, C, 1, 1)
    var = x.var(axis=axes, keepdims=True)  # biased: divides by N*H*W
    return gamma * (x - mu) / np.sqrt(var + eps) + beta


def group_norm(x, num_groups: int, gamma=None, beta=None, eps: float = 1e-5) -> np.ndarray:
    """Group normalisation: each example's channels are split into groups, each normalised alone.

    Args:
        x: ndarray[N, C, H, W] (or [N, C]); ``C`` must be divisible by ``num_groups``.
        num_groups: G. G = 1 is LayerNorm over (C, H, W); G = C is InstanceNorm.
        gamma, beta: ndarray[C] (default ones and zeros).

    Returns:
        ndarray of ``x``'s shape. Unlike BatchNorm, it does not depend on the other examples.
    """
    x = np.asarray(x, dtype=float)
    if x.ndim not in (2, 4):
        raise ValueError(f"x must be (N, C) or (N, C, H, W); got shape {x.shape}")
    if not isinstance(num_groups, (int, np.integer)) or num_groups < 1 or x.shape[1] % num_groups:
        raise ValueError(f"num_groups must be a positive divisor of the {x.shape[1]} channels; got {num_groups!r}")
    gamma, beta = _check_norm_params(x, gamma, beta, "group_norm")
    n = x.shape[0]
    g = x.reshape(n, num_groups, -1)  # (N, G, C/G * H * W)
    mu = g.mean(axis=2, keepdims=True)
    var = g.var(axis=2, keepdims=True)
    x_hat = ((g - mu) / np.sqrt(var + eps)).reshape(x.shape)
    return gamma * x_hat + beta


def dropout(x, p: float = 0.5, *, training: bool = True, mask=None, rng=None) -> np.ndarray:
    """Inverted dropout: zero each value with probability ``p`` and scale the rest by ``1/(1-p)``.

    Args:
        x: ndarray of any shape.
        p: drop probability, ``0 <= p < 1``.
        training: at evaluation time dropout is the identity.
        mask: optional boolean ndarray of ``x``'s shape, True = keep (otherwise drawn from ``rng``).
        rng: a ``np.random.Generator`` (default: a fresh unseeded one).

    Returns:
        ndarray of ``x``'s shape whose expected value is ``x``.
    """
    x = np.asarray(x, dtype=float)
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1); got {p!r}")
    if not training or p == 0:
        return x.copy()
    if mask is None:
        rng = np.random.default_rng() if rng is None else rng
        mask = rng.random(x.shape) >= p
    mask = np.asarray(mask)
    if mask.shape != x.shape:
        raise ValueError(f"mask must have x's shape {x.shape}; got {mask.shape}")
    return x * mask / (1 - p)
