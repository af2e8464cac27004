"""Output sizes, padding and parameter counts: the arithmetic of a CNN, one formula per function.

The formulas are the lecture's:

* output size along one axis: ``O = floor((I + P_start + P_end - D*(F - 1) - 1) / S) + 1``
  (with dilation ``D = 1`` this is ``floor((I - F + P_start + P_end) / S) + 1``);
* "same" padding: ``P_start = floor((S*ceil(I/S) - I + F - S) / 2)``, ``P_end`` the ceiling;
* parameters: CONV ``(F*F*C + 1)*K``, POOL ``0``, FC ``(N_in + 1)*N_out``.
"""

from __future__ import annotations

import numbers
from typing import TYPE_CHECKING, Sequence, Union
if TYPE_CHECKING:  # torch is only needed by count_params, and only its caller has a model
    import torch

__all__ = ["same_padding", "resolve_padding", "conv_output_size", "conv_params", "dense_params", "pool_params", "count_params", "receptive_field"]


PaddingArg = Union[int, str, tuple]


PADDING_MODES = ("valid", "same", "full")


def _int(value, name: str, *, minimum: int) -> int:
    """Check that ``value`` is an int (NumPy ints included) of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be at least {minimum}; got {value}")
    return int(value)


def same_padding(size: int, kernel_size: int, stride: int = 1) -> tuple[int, int]:
    """Padding ``(before, after)`` that makes the output ``ceil(size / stride)`` long.

    Args:
        size: input length ``I`` along one axis.
        kernel_size: kernel length ``F``.
        stride: stride ``S``.

    Returns:
        ``(P_start, P_end)`` from the lecture's formula. When the total is odd the extra zero
        goes to the end, as in TensorFlow and PyTorch. When ``F < S`` the formula can go
        negative (the windows skip pixels anyway); the padding is then 0.
    """
    size = _int(size, "size", minimum=1)
    kernel_size = _int(kernel_size, "kernel_size", minimum=1)
    stride = _int(stride, "stride", minimum=1)
    out = -(-size // stride)  # ceil(I / S)
    total = max(stride * out - size + kernel_size - stride, 0)
    return total // 2, total - total // 2


def _axis_padding(padding, size: int, kernel_size: int, stride: int, axis: str) -> tuple[int, int]:
    """Padding along one axis as (before, after) from an int, a pair, or a mode name."""
    if isinstance(padding, str):
        mode = padding.lower()
        if mode == "valid":
            return 0, 0
        if mode == "same":
            return same_padding(size, kernel_size, stride)
        if mode == "full":
            return kernel_size - 1, kernel_size - 1
        raise ValueError(
            f"padding must be an int, a pair, or one of {PADDING_MODES}; got {padding!r}"
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(
                f"padding along {axis} must be an int or (before, after); got {padding!r}"
            )
        before = _int(padding[0], f"padding before ({axis})", minimum=0)
        after = _int(padding[1], f"padding after ({axis})", minimum=0)
        return before, after
    p = _int(padding, f"padding ({axis})", minimum=0)
    return p, p


def resolve_padding(
    padding: PaddingArg,
    size: tuple[int, int],
    kernel_size: tuple[int, int],
    stride: tuple[int, int],
) -> tuple[tuple[int, int], tuple[int, int]]:
    """Turn a 2-D padding argument into ``((top, bottom), (left, right))``.

    Args:
        padding: an int (all sides), a pair ``(ph, pw)`` (both sides of each axis), a pair of
            pairs ``((top, bottom), (left, right))``, or ``"valid"``, ``"same"``, ``"full"``.
        size: input ``(H, W)``; kernel_size: ``(kh, kw)``; stride: ``(sh, sw)``.
    """
    if isinstance(padding, str):
        return (
            _axis_padding(padding, size[0], kernel_size[0], stride[0], "height"),
            _axis_padding(padding, size[1], kernel_size[1], stride[1], "width"),
        )
    if isinstance(padding, (tuple, list)):
        if len(padding) != 2:
            raise ValueError(
                f"padding must be an int, a pair (ph, pw), or one of {PADDING_MODES}; "
                f"got {padding!r}"
            )
        return (
            _axis_padding(padding[0], size[0], kernel_size[0], stride[0], "height"),
            _axis_padding(padding[1], size[1], kernel_size[1], stride[1], "width"),
        )
    if isinstance(padding, bool) or not isinstance(padding, numbers.Integral):
        raise TypeError(
            f"padding must be an int, a pair (ph, pw), or one of {PADDING_MODES}; got {padding!r}"
        )
    p = _int(padding, "padding", minimum=0)
    return (p, p), (p, p)


def conv_output_size(
    size,
    kernel_size,
    stride=1,
    padding: PaddingArg = 0,
    dilation=1,
):
    """Output length of a convolution or pooling window along one axis (or two).

    Args:
        size: input length ``I``, or a pair ``(H, W)``.
        kernel_size: ``F`` (or a pair). stride: ``S`` (or a pair).
        padding: ``P`` on both sides, ``(P_start, P_end)``, or ``"valid"``/``"same"``/``"full"``.
            With a pair ``size``, an int or mode applies to both axes and a pair gives one
            entry per axis.
        dilation: ``D``, the spacing between kernel taps (1 = an ordinary kernel).

    Returns:
        ``floor((I + P_start + P_end - D*(F - 1) - 1) / S) + 1``: an int, or a pair for a pair
        ``size``.

    Raises:
        ValueError: when the (dilated) kernel is larger than the padded input.
    """
    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be an int or a pair (H, W); got {size!r}")

        def per_axis(value, name):
            if isinstance(value, (tuple, list)):
                if len(value) != 2:
                    raise ValueError(f"{name} must be an int or one value per axis; got {value!r}")
                return tuple(value)
            return value, value

        ks, ss, ds = per_axis(kernel_size, "kernel_size"), per_axis(stride, "stride"), per_axis(
            dilation, "dilation"
        )
        ps = per_axis(padding, "padding") if not isinstance(padding, str) else (padding, padding)
        return tuple(
            conv_output_size(size[i], ks[i], ss[i], ps[i], ds[i]) for i in range(2)
        )
    size = _int(size, "size", minimum=1)
    kernel_size = _int(kernel_size, "kernel_size", minimum=1)
    stride = _int(stride, "stride", minimum=1)
    dilation = _int(dilation, "dilation", minimum=1)
    effective = dilation * (kernel_size - 1) + 1
    before, after = _axis_padding(padding, size, effective, stride, "this axis")
    padded = size + before + after
    if effective > padded:
        raise ValueError(
            f"kernel of size {kernel_size} (dilation {dilation}: spans {effective}) is larger "
            f"than the padded input {padded} (size {size}, padding {padding!r})"
        )
    return (padded - effective) // stride + 1


def conv_params(
    in_channels: int, out_channels: int, kernel_size, *, bias: bool = True, groups: int = 1
) -> int:
    """Learnable parameters of a conv layer: ``(F*F*C/groups + 1) * K``.

    Args:
        in_channels: ``C``; out_channels: ``K``; kernel_size: ``F`` or ``(kh, kw)``.
        bias: whether each filter has a bias. groups: as in ``torch.nn.Conv2d``.
    """
    kh, kw = (kernel_size, kernel_size) if isinstance(kernel_size, int) else kernel_size
    in_channels = _int(in_channels, "in_channels", minimum=1)
    out_channels = _int(out_channels, "out_channels", minimum=1)
    groups = _int(groups, "groups", minimum=1)
    if in_channels % groups or out_channels % groups:
        raise ValueError(
            f"in_channels ({in_channels}) and out_channels ({out_channels}) must both be "
            f"divisible by groups ({groups})"
        )
    return (kh * kw * (in_channels // groups) + int(bias)) * out_channels


def dense_params(n_in: int, n_out: int, *, bias: bool = True) -> int:
    """Learnable parameters of a fully connected layer: ``(N_in + 1) * N_out``."""
    return (_int(n_in, "n_in", minimum=1) + int(bias)) * _int(n_out, "n_out", minimum=1)


def pool_params(*_args, **_kwargs) -> int:
    """Learnable parameters of a pooling layer: always 0 (it only takes a max or a mean)."""
    return 0


def count_params(model: "torch.nn.Module", trainable_only: bool = True) -> int:
    """Number of (trainable) parameters of a ``torch.nn.Module``: weights plus biases.

    Args:
        model: any ``torch.nn.Module``.
        trainable_only: count only parameters with ``requires_grad`` (the default, what an
            optimiser updates); ``False`` counts frozen ones too.
    """
    if not hasattr(model, "parameters"):
        raise TypeError(f"model must be a torch.nn.Module; got {type(model).__name__}")
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


def receptive_field(layers: Sequence[tuple[int, int]]) -> list[int]:
    """Receptive field (in input pixels) after each layer of a stack.

    Args:
        layers: ``[(kernel_size, stride), ...]`` for each conv or pooling layer in order.

    Returns:
        The receptive field after each layer: ``r_l = r_{l-1} + (F_l - 1) * J_{l-1}`` where
        ``J`` (the "jump") is the product of the strides so far, starting from ``r_0 = 1``.
    """
    r, jump, out = 1, 1, []
    for i, layer in enumerate(layers):
        if not (isinstance(layer, (tuple, list)) and len(layer) == 2):
            raise TypeError(f"layers[{i}] must be a pair (kernel_size, stride); got {layer!r}")
        f = _int(layer[0], f"layers[{i}] kernel_size", minimum=1)
        s = _int(layer[1], f"layers[{i}] stride", minimum=1)
        r += (f - 1) * jump
        jump *= s
        out.append(r)
    return out
