"""Convolution and pooling written by hand in NumPy: the lesson, tested against PyTorch.

Every function mirrors its ``torch.nn.functional`` namesake (``conv2d``, ``max_pool2d``,
``avg_pool2d``) so that a reader can hold the two side by side. There is deliberately no torch
in this module: it is the reference a student can read line by line.

Like PyTorch, ``conv2d`` computes a *cross-correlation*: the kernel is not flipped.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from helpers.scratch.shapes import PaddingArg, resolve_padding
from helpers.scratch.arrays import IntOrPair, as_array, as_pair, image_batch

__all__ = ["conv2d", "conv2d_backward"]


def conv2d(
    x,
    weight,
    bias=None,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
) -> np.ndarray:
    """Cross-correlate images with filters, exactly like ``torch.nn.functional.conv2d``.

    Args:
        x: ndarray[H, W], ndarray[C, H, W] or ndarray[N, C, H, W] -- the input image(s).
        weight: ndarray[kh, kw], ndarray[C, kh, kw] (one filter) or ndarray[K, C, kh, kw]
            (K filters). A 2-D kernel is allowed only for a single-channel input.
        bias: None, a scalar, or ndarray[K] -- one value added to each filter's map.
        stride: an int or a pair ``(sh, sw)``, at least 1.
        padding: an int or a pair ``(ph, pw)`` of zeros added on both sides, or one of
            ``"valid"`` (no padding), ``"same"`` (output ``ceil(I / S)`` with the lecture's
            asymmetric ``P_start``/``P_end``, the extra zero going to the end) or ``"full"``
            (``F - 1`` zeros on each side).

    Returns:
        The feature map(s). The output keeps only the axes the input had: ``N`` if ``x`` is
        4-D, ``K`` if ``weight`` is 4-D. A 2-D image and a 2-D kernel give ndarray[H_out, W_out];
        ndarray[N, C, H, W] with ndarray[K, C, kh, kw] gives ndarray[N, K, H_out, W_out].

    Raises:
        ValueError: wrong number of dimensions, channel mismatch, a kernel larger than the
            padded input, a non-positive stride, negative padding or an unknown padding mode.
        TypeError: arguments that are not numbers, ints or pairs of ints.
    """
    x = as_array(x, "x")
    weight = as_array(weight, "weight")
    xb = image_batch(x)  # (N, C, H, W)
    if weight.ndim == 2:
        wb = weight[None, None]
    elif weight.ndim == 3:
        wb = weight[None]
    elif weight.ndim == 4:
        wb = weight
    else:
        raise ValueError(
            "weight must be 2-D (kh, kw), 3-D (C, kh, kw) or 4-D (K, C, kh, kw); "
            f"got shape {weight.shape}"
        )
    n, c, h, w = xb.shape
    k, wc, kh, kw = wb.shape  # (K, C, kh, kw)
    if wc != c:
        raise ValueError(
            f"channel mismatch: x has {c} channel(s) (shape {x.shape}) but weight expects "
            f"{wc} (shape {weight.shape}); a filter needs one {kh}x{kw} slice per input channel"
        )
    if kh == 0 or kw == 0 or h == 0 or w == 0:
        raise ValueError(f"empty input or kernel: x shape {x.shape}, weight shape {weight.shape}")
    sh, sw = as_pair(stride, "stride", minimum=1)
    (pt, pb), (pl, pr) = resolve_padding(padding, (h, w), (kh, kw), (sh, sw))
    hp, wp = h + pt + pb, w + pl + pr
    if kh > hp or kw > wp:
        raise ValueError(
            f"kernel {kh}x{kw} is larger than the padded input {hp}x{wp} "
            f"(input {h}x{w}, padding {padding!r}); use a smaller kernel or more padding"
        )

    xp = np.pad(xb, ((0, 0), (0, 0), (pt, pb), (pl, pr)))  # (N, C, Hp, Wp)
    windows = sliding_window_view(xp, (kh, kw), axis=(2, 3))  # (N, C, Hp-kh+1, Wp-kw+1, kh, kw)
    windows = windows[:, :, ::sh, ::sw]  # (N, C, H_out, W_out, kh, kw)
    out = np.einsum("nchwij,kcij->nkhw", windows, wb)  # (N, K, H_out, W_out)

    if bias is not None:
        b = as_array(bias, "bias")
        if b.ndim == 0:
            b = np.full(k, b)
        if b.shape != (k,):
            raise ValueError(
                f"bias must be a scalar or hold one value per filter ({k}); got shape {b.shape}"
            )
        out = out + b[None, :, None, None]

    if x.ndim < 4:
        out = out[0]  # drop N
        if weight.ndim < 4:
            out = out[0]  # drop K
    elif weight.ndim < 4:
        out = out[:, 0]  # drop K, keep N
    return out


def _dilate(grad: np.ndarray, stride: tuple[int, int]) -> np.ndarray:
    """Insert ``stride - 1`` zeros between neighbouring values along the last two axes."""
    sh, sw = stride
    if (sh, sw) == (1, 1):
        return grad
    n, k, ho, wo = grad.shape
    out = np.zeros((n, k, (ho - 1) * sh + 1, (wo - 1) * sw + 1), dtype=grad.dtype)
    out[:, :, ::sh, ::sw] = grad
    return out


def conv2d_backward(
    x,
    weight,
    grad_out,
    stride: IntOrPair = 1,
    padding: PaddingArg = 0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients of a loss through :func:`conv2d`, from the gradient of its output.

    The lecture's two results, for stride 1 (a stride ``S`` first spreads ``delta`` out with
    ``S - 1`` zeros between its values):

    * ``dE/dF`` is a *valid cross-correlation* of the (padded) input ``X`` with ``delta``;
    * ``dE/dX`` is a *full convolution* of ``delta`` with the filter: a full-padded
      cross-correlation with the filter flipped by 180 degrees.

    Args:
        x: ndarray[N, C, H, W], the forward input.
        weight: ndarray[K, C, kh, kw], the filters.
        grad_out: ndarray[N, K, H_out, W_out], ``delta = dE/d(output)``.
        stride, padding: as given to :func:`conv2d`.

    Returns:
        ``(grad_x[N, C, H, W], grad_weight[K, C, kh, kw], grad_bias[K])``.
    """
    x = as_array(x, "x")
    weight = as_array(weight, "weight")
    grad_out = as_array(grad_out, "grad_out")
    if x.ndim != 4 or weight.ndim != 4 or grad_out.ndim != 4:
        raise ValueError(
            "conv2d_backward needs 4-D arrays: x (N, C, H, W), weight (K, C, kh, kw), "
            f"grad_out (N, K, H_out, W_out); got shapes {x.shape}, {weight.shape}, {grad_out.shape}"
        )
    n, c, h, w = x.shape
    k, _, kh, kw = weight.shape
    sh, sw = as_pair(stride, "stride", minimum=1)
    (pt, pb), (pl, pr) = resolve_padding(padding, (h, w), (kh, kw), (sh, sw))
    expected = conv2d(np.zeros((1,) + x.shape[1:]), weight, stride=(sh, sw), padding=padding).shape[1:]
    if grad_out.shape != (n,) + expected:
        raise ValueError(
            f"grad_out must have the forward output's shape {(n,) + expected}; got {grad_out.shape}"
        )
    xp = np.pad(x, ((0, 0), (0, 0), (pt, pb), (pl, pr)))  # (N, C, Hp, Wp)
    hp, wp = xp.shape[-2:]
    delta = _dilate(grad_out, (sh, sw))  # (N, K, Hd, Wd)
    hd, wd = delta.shape[-2:]

    # dE/dF: valid cross-correlation of X with delta, summed over the batch. Batch and channel
    # axes swap roles: "images" are the C input channels, "filters" the K maps of delta.
    gw = conv2d(xp.transpose(1, 0, 2, 3), delta.transpose(1, 0, 2, 3))  # (C, K, Hp-Hd+1, Wp-Wd+1)
    grad_weight = gw.transpose(1, 0, 2, 3)[:, :, :kh, :kw]  # rows a stride skipped are not used

    # dE/dX: full convolution of delta with the filter = cross-correlation with the flipped one
    flipped = weight[:, :, ::-1, ::-1].transpose(1, 0, 2, 3)  # (C, K, kh, kw)
    gxp = conv2d(delta, flipped, padding="full")  # (N, C, Hd+kh-1, Wd+kw-1)
    # input rows/cols that no window reached (stride remainder) get zero gradient
    gxp = np.pad(gxp, ((0, 0), (0, 0), (0, hp - gxp.shape[2]), (0, wp - gxp.shape[3])))
    grad_x = gxp[:, :, pt : pt + h, pl : pl + w]

    grad_bias = grad_out.sum(axis=(0, 2, 3))  # (K,)
    return grad_x, grad_weight, grad_bias
