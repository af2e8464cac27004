"""Argument checks shared by the NumPy operations: arrays, (height, width) pairs, image batches.
"""

from __future__ import annotations

from typing import Union
import numpy as np

__all__ = ["as_array", "image_batch", "as_pair", "shape_str"]


IntOrPair = Union[int, tuple[int, int]]


def as_array(value, name: str) -> np.ndarray:
    """Turn array-likes (lists, NumPy arrays, CPU tensors) into a numeric ndarray."""
    try:
        arr = np.asarray(value)
    except Exception as exc:  # e.g. a CUDA tensor, which NumPy cannot read
        raise TypeError(
            f"{name} must be array-like (a list, NumPy array or CPU tensor); "
            f"got {type(value).__name__}: {exc}"
        ) from None
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.number) or np.issubdtype(arr.dtype, np.bool_)
    ):
        raise TypeError(f"{name} must hold numbers; got an array of dtype {arr.dtype}")
    return arr


def as_pair(value, name: str, *, minimum: int) -> tuple[int, int]:
    """Turn ``3`` or ``(3, 2)`` into a pair of ints, each at least ``minimum``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        pair = (int(value), int(value))
    elif (
        isinstance(value, (tuple, list))
        and len(value) == 2
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        pair = (int(value[0]), int(value[1]))
    else:
        raise TypeError(f"{name} must be an int or a pair of ints (h, w); got {value!r}")
    if min(pair) < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value!r}")
    return pair


def image_batch(x: np.ndarray, name: str = "x") -> np.ndarray:
    """View a (H, W), (C, H, W) or (N, C, H, W) array as (N, C, H, W)."""
    if x.ndim == 2:
        return x[None, None]
    if x.ndim == 3:
        return x[None]
    if x.ndim == 4:
        return x
    raise ValueError(
        f"{name} must be 2-D (H, W), 3-D (C, H, W) or 4-D (N, C, H, W); got shape {x.shape}"
    )


def shape_str(shape) -> str:
    return "x".join(str(s) for s in shape)
