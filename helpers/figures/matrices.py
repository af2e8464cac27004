"""Figures of the book: annotated matrices, one step of a convolution, grids of images.

Every function takes data (and ``ax=None`` or ``axes=None``), draws, and returns the axes; none
reads a notebook's variables. With ``ax=None`` a new figure is made with ``pyplot`` so that it
shows up in a notebook; pass axes to draw into a figure of your own (the widgets do this with a
``matplotlib.figure.Figure`` that never touches ``pyplot``).
"""

from __future__ import annotations

from typing import Sequence
import matplotlib.colors as mcolors
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from helpers.scratch.conv import conv2d
from helpers.scratch.shapes import conv_output_size, PaddingArg, resolve_padding
from helpers.figures.metrics import plot_confusion, plot_per_class, plot_roc, show_confused_pairs  # noqa: E402,F401
from helpers.figures.interpret import (as_rgb, overlay, plot_randomization, show_attributions, show_rgb_filters)  # noqa: E402,F401

__all__ = ["format_number", "show_matrix", "plot_conv_step", "move_conv_step", "conv_step_artists", "as_matrix",
           "color_limits", "new_axes"]


_DIVERGING = "RdBu_r"


_MAX_ANNOTATED = 16  # matrices wider or taller than this are drawn without numbers


def format_number(value: float) -> str:
    """Short text for a matrix entry: ``6``, ``-0.5``, ``0.11``, ``1.2e+03``."""
    value = float(value)
    if value == int(value) and abs(value) < 1e6:
        return str(int(value))
    return f"{value:.2g}" if abs(value) < 1 else f"{value:.3g}"


def as_matrix(a, name: str) -> np.ndarray:
    try:
        arr = np.asarray(a, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a 2-D array of numbers; got {type(a).__name__}") from None
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty 2-D array (H, W); got shape {arr.shape}")
    return arr


def new_axes(ncols: int = 1, nrows: int = 1, **kwargs):
    import matplotlib.pyplot as plt  # only when the caller gives no axes

    fig, axes = plt.subplots(nrows, ncols, layout="constrained", squeeze=False, **kwargs)
    return fig, axes


def color_limits(arr: np.ndarray, vmin, vmax, center: bool | None):
    """Colour limits: symmetric around 0 when the values have both signs (or center=True)."""
    lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
    if center is None:
        center = lo < 0 < hi
    if center:
        m = max(abs(lo), abs(hi)) or 1.0
        lo, hi = -m, m
    return (lo if vmin is None else vmin), (hi if vmax is None else vmax)


def show_matrix(
    a,
    ax: Axes | None = None,
    *,
    title: str | None = None,
    annotate: bool = True,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    colorbar: bool = True,
    xlabel: str = "column",
    ylabel: str = "row",
) -> Axes:
    """Draw a matrix as a heat map, with its values written in the cells.

    Args:
        a: ndarray[H, W] (anything ``np.asarray`` turns into numbers).
        ax: axes to draw into; a new figure when None.
        title: axes title (default: the shape, e.g. ``"5×5 matrix"``).
        annotate: write each value in its cell (skipped for matrices larger than 16 a side).
        cmap: colormap; default ``"RdBu_r"`` when ``a`` has both signs, else ``"viridis"``.
            ``"RdBu_r"`` is always centred on 0 (white = 0).
        vmin, vmax: colour limits (default: the data's, symmetric for a diverging map).
        colorbar: add a colour bar.
        xlabel, ylabel: axis labels.

    Returns:
        The axes.
    """
    arr = as_matrix(a, "a")
    if ax is None:
        _, axs = new_axes(figsize=(0.5 * arr.shape[1] + 1.6, 0.5 * arr.shape[0] + 0.9))
        ax = axs[0, 0]
    signed = float(arr.min()) < 0 < float(arr.max())
    cmap = cmap or (_DIVERGING if signed else "viridis")
    lo, hi = color_limits(arr, vmin, vmax, center=cmap == _DIVERGING)
    if lo == hi:  # a constant matrix: stretch the limits to 0 so that the colours are defined
        lo, hi = (min(lo, 0.0), max(hi, 0.0)) if lo else (-1.0, 1.0)
    im = ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    h, w = arr.shape
    if annotate and max(h, w) <= _MAX_ANNOTATED:
        norm = mcolors.Normalize(lo, hi)
        colormap = im.get_cmap()
        size = 10 if max(h, w) <= 8 else 7
        for (i, j), v in np.ndenumerate(arr):
            r, g, b, _ = colormap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, format_number(v), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")
    if max(h, w) <= _MAX_ANNOTATED:
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
    ax.set_title(title if title is not None else f"{h}×{w} matrix")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax


def _sum_of_products(window: np.ndarray, kernel: np.ndarray, total: float) -> str:
    if kernel.size > 9:
        return f"sum of {kernel.size} products (window × kernel) = {format_number(total)}"
    terms = []
    for xv, kv in zip(window.ravel(), kernel.ravel()):
        k = format_number(kv)
        terms.append(f"{format_number(xv)}·{'(' + k + ')' if kv < 0 else k}")
    return " + ".join(terms) + f" = {format_number(total)}"


# The two red boxes that a step moves: the window on the input and the output cell it makes; and
# the caption under the figure (the sum of products) that a step rewrites.
_WINDOW_GID, _CELL_GID, _CAPTION_GID = "conv-step-window", "conv-step-cell", "conv-step-caption"


def _conv_step_inputs(x, kernel, out, row, col, stride, padding, bias):
    """Checked inputs of a convolution step: ``(x, xp, kernel, out, (sh, sw), ((pt, pb), (pl, pr)))``,
    ``xp`` the padded input."""
    x = as_matrix(x, "x")
    kernel = as_matrix(kernel, "kernel")
    sh, sw = (stride, stride) if isinstance(stride, (int, np.integer)) else tuple(stride)
    kh, kw = kernel.shape
    (pt, pb), (pl, pr) = resolve_padding(padding, x.shape, kernel.shape, (sh, sw))
    expected = (
        conv_output_size(x.shape[0], kh, sh, (pt, pb)),
        conv_output_size(x.shape[1], kw, sw, (pl, pr)),
    )
    if out is None:
        out = np.asarray(conv2d(x, kernel, stride=(sh, sw), padding=padding), dtype=np.float64) + bias
    out = as_matrix(out, "out")
    if out.shape != expected:
        raise ValueError(
            f"out must have the convolution's output shape {expected} "
            f"(input {x.shape}, kernel {kernel.shape}, stride {stride}, padding {padding!r}); "
            f"got {out.shape}"
        )
    if not (0 <= row < out.shape[0] and 0 <= col < out.shape[1]):
        raise ValueError(f"row, col must index the {out.shape[0]}×{out.shape[1]} output; got ({row}, {col})")
    xp = np.pad(x, ((pt, pb), (pl, pr)))  # (H + pt + pb, W + pl + pr)
    return x, xp, kernel, out, (sh, sw), ((pt, pb), (pl, pr))


def _place_step(axes, xp, kernel, out, row, col, stride, bias) -> None:
    """Put the red boxes of output position ``(row, col)`` in place and write its title and caption."""
    ax_in, _, ax_out = axes
    boxes = {p.get_gid(): p for ax in (ax_in, ax_out) for p in ax.patches if p.get_gid() in (_WINDOW_GID, _CELL_GID)}
    if len(boxes) != 2:
        raise ValueError("axes must be the three axes that plot_conv_step drew (input, kernel, output)")
    kh, kw = kernel.shape
    r0, c0 = row * stride[0], col * stride[1]
    boxes[_WINDOW_GID].set_xy((c0 - 0.5, r0 - 0.5))
    boxes[_CELL_GID].set_xy((col - 0.5, row - 0.5))
    ax_out.set_title(f"output {out.shape[0]}×{out.shape[1]}\nout[{row}, {col}] = {format_number(out[row, col])}")
    window = xp[r0:r0 + kh, c0:c0 + kw]  # (kh, kw)
    total = float((window * kernel).sum()) + bias
    text = _sum_of_products(window, kernel, total)
    if bias:
        text = text.replace(" = ", f" + bias {format_number(bias)} = ", 1) if kernel.size <= 9 else text
    ax_in.figure.supxlabel(f"window at rows {r0}–{r0 + kh - 1}, columns {c0}–{c0 + kw - 1}: {text}",
                           fontsize=9, family="monospace", gid=_CAPTION_GID)


def plot_conv_step(
    x,
    kernel,
    out=None,
    row: int = 0,
    col: int = 0,
    stride: int | tuple[int, int] = 1,
    padding: PaddingArg = 0,
    axes: Sequence[Axes] | None = None,
    *,
    bias: float = 0.0,
) -> np.ndarray:
    """Show one step of a 2-D convolution: the window, the kernel and the output cell it makes.

    Args:
        x: ndarray[H, W], the input (one channel).
        kernel: ndarray[kh, kw].
        out: ndarray[H_out, W_out], the full output; computed with :func:`helpers.scratch.conv.conv2d`
            (plus ``bias``) when None.
        row, col: the output position to show.
        stride: an int or ``(sh, sw)``.
        padding: as in :func:`helpers.scratch.conv.conv2d` (int, pair, ``"valid"``, ``"same"``, ``"full"``).
            Padding cells are drawn hatched.
        axes: three axes (input, kernel, output); a new figure when None.
        bias: added to the sum of products in the caption (and to ``out`` when computed here).

    Returns:
        ndarray of the three axes. The sum of products is the figure's bottom label.
        :func:`move_conv_step` moves the picture to another output position.

    Raises:
        ValueError: non-2-D inputs, ``out`` of the wrong shape, or ``row``/``col`` outside it.
    """
    x, xp, kernel, out, (sh, sw), ((pt, pb), (pl, pr)) = _conv_step_inputs(x, kernel, out, row, col, stride,
                                                                           padding, bias)
    kh, kw = kernel.shape
    if axes is None:
        hp, wp = x.shape[0] + pt + pb, x.shape[1] + pl + pr
        scale = 0.5 if max(hp, wp) <= _MAX_ANNOTATED else 6 / max(hp, wp)
        _, axs = new_axes(3, figsize=(3 * max(scale * wp, 2.5) + 3, max(scale * hp, 2.5) + 1.4),
                           width_ratios=[max(wp, 3), max(kw, 3), max(out.shape[1], 3)])
        axes = axs[0]
    if len(axes) != 3:
        raise ValueError(f"axes must hold three axes (input, kernel, output); got {len(axes)}")
    ax_in, ax_k, ax_out = axes

    pad_note = f", padding {(pt, pb), (pl, pr)}" if pt or pb or pl or pr else ""
    show_matrix(xp, ax_in, cmap="gray", title=f"input {x.shape[0]}×{x.shape[1]}{pad_note}",
                xlabel="column (padded)" if pad_note else "column",
                ylabel="row (padded)" if pad_note else "row")
    if pad_note:  # hatch the zeros that padding added
        pad_mask = np.ones(xp.shape, dtype=bool)
        pad_mask[pt:pt + x.shape[0], pl:pl + x.shape[1]] = False
        texts = ax_in.texts  # one per cell, row by row, when the matrix is annotated
        for i, j in zip(*np.nonzero(pad_mask)):
            ax_in.add_patch(Rectangle((j - 0.5, i - 0.5), 1, 1, facecolor="moccasin", alpha=0.9,
                                      hatch="//", edgecolor="darkorange", linewidth=0))
            if len(texts) == xp.size:
                texts[i * xp.shape[1] + j].set(color="black", zorder=3)
    ax_in.add_patch(Rectangle((-0.5, -0.5), kw, kh, fill=False, edgecolor="red", linewidth=3, gid=_WINDOW_GID))
    show_matrix(kernel, ax_k, title=f"kernel {kh}×{kw}", cmap=_DIVERGING)
    show_matrix(out, ax_out)
    ax_out.add_patch(Rectangle((-0.5, -0.5), 1, 1, fill=False, edgecolor="red", linewidth=3, gid=_CELL_GID))
    _place_step(axes, xp, kernel, out, row, col, (sh, sw), bias)
    return np.asarray(axes)


def conv_step_artists(axes: Sequence[Axes]) -> list:
    """The artists of a picture drawn by :func:`plot_conv_step` that :func:`move_conv_step` changes:
    the window on the input, the output cell, the output's title and the caption (the sum of
    products). Everything else stays as it was drawn, which lets a caller redraw only these four
    (blitting, as ``helpers.widgets.conv`` does for its steps).

    Raises:
        ValueError: ``axes`` that :func:`plot_conv_step` did not draw.
    """
    if len(axes) != 3:
        raise ValueError(f"axes must hold three axes (input, kernel, output); got {len(axes)}")
    ax_in, _, ax_out = axes
    boxes = {p.get_gid(): p for ax in (ax_in, ax_out) for p in ax.patches if p.get_gid() in (_WINDOW_GID, _CELL_GID)}
    captions = [t for t in ax_in.figure.texts if t.get_gid() == _CAPTION_GID]
    if len(boxes) != 2 or len(captions) != 1:
        raise ValueError("axes must be the three axes that plot_conv_step drew (input, kernel, output)")
    return [boxes[_WINDOW_GID], boxes[_CELL_GID], ax_out.title, captions[0]]


def move_conv_step(
    axes: Sequence[Axes],
    x,
    kernel,
    out=None,
    row: int = 0,
    col: int = 0,
    stride: int | tuple[int, int] = 1,
    padding: PaddingArg = 0,
    *,
    bias: float = 0.0,
) -> np.ndarray:
    """Move a picture drawn by :func:`plot_conv_step` to another output position ``(row, col)``.

    The arguments are those :func:`plot_conv_step` drew with, but for ``row`` and ``col``. Only the
    window, the output cell, the output's title and the caption change: drawing the figure again
    does not rebuild the matrices, which is what makes an explorer's steps quick.

    Returns:
        ndarray of the three axes.

    Raises:
        ValueError: as :func:`plot_conv_step`, or ``axes`` that it did not draw.
    """
    _, xp, kernel, out, stride, _ = _conv_step_inputs(x, kernel, out, row, col, stride, padding, bias)
    if len(axes) != 3:
        raise ValueError(f"axes must hold three axes (input, kernel, output); got {len(axes)}")
    if axes[0].images and axes[0].images[0].get_array().shape != xp.shape:
        raise ValueError(f"axes show a {axes[0].images[0].get_array().shape} padded input, not this one "
                         f"{xp.shape}: draw the new settings with plot_conv_step")
    _place_step(axes, xp, kernel, out, row, col, stride, bias)
    return np.asarray(axes)
