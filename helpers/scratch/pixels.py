"""Shuffling an image's pixels with one fixed permutation, and undoing it (Part I: an MLP does not care about pixel order).
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING
import numpy as np
if TYPE_CHECKING:  # torch is imported only when a model is built
    pass

__all__ = ["pixel_permutation", "shuffle_pixels", "unshuffle_pixels"]


def pixel_permutation(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A fixed random order of the ``height * width`` pixel positions.

    Returns:
        ``ndarray[height * width]`` of ints, a permutation of ``0 .. height*width - 1``.
    """
    for name, value in (("height", height), ("width", width)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
            raise ValueError(f"{name} must be a positive int; got {value!r}")
    return np.random.default_rng(seed).permutation(int(height) * int(width))


def _check_perm(image: np.ndarray, perm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    image, perm = np.asarray(image), np.asarray(perm)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must have shape (H, W) or (H, W, C); got shape {image.shape}")
    n = image.shape[0] * image.shape[1]
    if perm.shape != (n,) or not np.array_equal(np.sort(perm), np.arange(n)):
        raise ValueError(
            f"perm must be a permutation of 0..{n - 1} (one entry per pixel of the "
            f"{image.shape[0]}x{image.shape[1]} image); got shape {perm.shape}"
        )
    return image, perm


def shuffle_pixels(image: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Move pixel ``perm[k]`` to position ``k`` (row-major); channels stay together.

    Args:
        image: ``ndarray[H, W]`` or ``ndarray[H, W, C]``.
        perm: ``ndarray[H * W]``, a permutation (e.g. from :func:`pixel_permutation`).

    Returns:
        The shuffled image, same shape and dtype: ``out.reshape(H*W, -1)[k] ==
        image.reshape(H*W, -1)[perm[k]]``.
    """
    image, perm = _check_perm(image, perm)
    h, w = image.shape[:2]
    flat = image.reshape(h * w, -1)  # (H*W, C)
    return flat[perm].reshape(image.shape)


def unshuffle_pixels(shuffled: np.ndarray, perm: np.ndarray) -> np.ndarray:
    """Undo :func:`shuffle_pixels`: ``unshuffle_pixels(shuffle_pixels(x, p), p) == x``.

    Args:
        shuffled: ``ndarray[H, W]`` or ``ndarray[H, W, C]``.
        perm: the permutation that shuffled it, ``ndarray[H * W]``.
    """
    shuffled, perm = _check_perm(shuffled, perm)
    h, w = shuffled.shape[:2]
    flat = shuffled.reshape(h * w, -1)  # (H*W, C)
    out = np.empty_like(flat)
    out[perm] = flat
    return out.reshape(shuffled.shape)
