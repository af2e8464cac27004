"""Max and average pooling, forward and backward, by hand in NumPy (checked against PyTorch in the tests).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from helpers.scratch.arrays import IntOrPair, as_array, as_pair, image_batch

__all__ = ["max_pool2d", "avg_pool2d", "max_pool2d_backward", "avg_pool2d_backward"]


def _pool_windows(x, kernel_size: IntOrPair, stride: IntOrPair | None):
    """Return (windows[N, C, H_out, W_out, kh, kw], original ndim) for pooling."""
    x = as_array(x, "x")
    xb = image_batch(x)
    kh, kw = as_pair(kernel_size, "kernel_size", minimum=1)
    sh, sw = as_pair(kernel_size if stride is None else stride, "stride", minimum=1)
    h, w = xb.shape[-2:]
    if kh > h or kw > w:
        raise ValueError(
            f"kernel_size {kh}x{kw} is larger than the input {h}x{w} (x shape {x.shape})"
        )
    windows = sliding_window_view(xb, (kh, kw), axis=(2, 3))[:, :, ::sh, ::sw]
    return windows, x.ndim


def _unbatch(out: np.ndarray, ndim: int) -> np.ndarray:
    return out[0, 0] if ndim == 2 else out[0] if ndim == 3 else out


def max_pool2d(x, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Take the maximum of each window, like ``torch.nn.functional.max_pool2d``.

    Args:
        x: ndarray[H, W], ndarray[C, H, W] or ndarray[N, C, H, W]. Channels are pooled
            separately.
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair; defaults to ``kernel_size`` (non-overlapping windows).

    Returns:
        ndarray with the same leading axes as ``x`` and spatial size
        ``floor((I - F) / S) + 1`` along each axis (PyTorch's floor semantics: a partial
        window at the edge is dropped).
    """
    windows, ndim = _pool_windows(x, kernel_size, stride)
    return _unbatch(windows.max(axis=(-2, -1)), ndim)  # (N, C, H_out, W_out)


def avg_pool2d(x, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Average each window, like ``torch.nn.functional.avg_pool2d``.

    Args:
        x: ndarray[H, W], ndarray[C, H, W] or ndarray[N, C, H, W].
        kernel_size: an int or a pair ``(kh, kw)``.
        stride: an int or a pair; defaults to ``kernel_size``.

    Returns:
        ndarray of window means (floating point), shaped like :func:`max_pool2d`'s output.
    """
    windows, ndim = _pool_windows(x, kernel_size, stride)
    return _unbatch(windows.mean(axis=(-2, -1)), ndim)  # (N, C, H_out, W_out)


def _pool_backward_setup(x, grad_out, kernel_size, stride):
    windows, ndim = _pool_windows(x, kernel_size, stride)
    grad = image_batch(as_array(grad_out, "grad_out"), "grad_out")
    if grad.shape != windows.shape[:4]:
        expected = _unbatch(np.empty(windows.shape[:4]), ndim).shape
        raise ValueError(
            f"grad_out must have the pooled output's shape {expected}; "
            f"got {np.shape(grad_out)}"
        )
    kh, kw = windows.shape[-2:]
    sh, sw = as_pair(kernel_size if stride is None else stride, "stride", minimum=1)
    return windows, grad, ndim, (kh, kw), (sh, sw)


def max_pool2d_backward(x, grad_out, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient through :func:`max_pool2d`: each window's gradient goes to its arg-max only.

    Overlapping windows add up. With ties, the first maximum in reading order gets it
    (as in PyTorch).

    Args:
        x: the forward input, ndarray[H, W], [C, H, W] or [N, C, H, W].
        grad_out: gradient of the pooled output (same leading axes as ``x``).
        kernel_size, stride: as given to :func:`max_pool2d`.

    Returns:
        ``dE/dx``, shaped like ``x``; zero wherever no window took its maximum.
    """
    windows, grad, ndim, (kh, kw), (sh, sw) = _pool_backward_setup(x, grad_out, kernel_size, stride)
    n, c, ho, wo = grad.shape
    flat = windows.reshape(n, c, ho, wo, kh * kw).argmax(axis=-1)  # (N, C, H_out, W_out)
    rows = np.arange(ho)[:, None] * sh + flat // kw  # input row of each window's max
    cols = np.arange(wo)[None, :] * sw + flat % kw
    nn_, cc = np.meshgrid(np.arange(n), np.arange(c), indexing="ij")
    grad_x = np.zeros(image_batch(as_array(x, "x")).shape, dtype=np.result_type(grad, float))
    np.add.at(grad_x, (nn_[..., None, None], cc[..., None, None], rows, cols), grad)
    return _unbatch(grad_x, ndim)


def avg_pool2d_backward(x, grad_out, kernel_size: IntOrPair, stride: IntOrPair | None = None) -> np.ndarray:
    """Gradient through :func:`avg_pool2d`: each window's gradient is spread equally over it.

    Args:
        x: the forward input, ndarray[H, W], [C, H, W] or [N, C, H, W].
        grad_out: gradient of the pooled output.
        kernel_size, stride: as given to :func:`avg_pool2d`.

    Returns:
        ``dE/dx``, shaped like ``x``: every input pixel receives ``grad / (kh * kw)`` from each
        window it belongs to.
    """
    windows, grad, ndim, (kh, kw), (sh, sw) = _pool_backward_setup(x, grad_out, kernel_size, stride)
    ho, wo = grad.shape[-2:]
    grad_x = np.zeros(image_batch(as_array(x, "x")).shape, dtype=np.result_type(grad, float))
    share = grad / (kh * kw)  # (N, C, H_out, W_out)
    for i in range(kh):
        for j in range(kw):
            grad_x[:, :, i : i + sh * ho : sh, j : j + sw * wo : sw] += share
    return _unbatch(grad_x, ndim)
