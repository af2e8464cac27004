"""One step of a 2-D convolution as a figure: the window on the (padded) input, the kernel, and the
output cell it makes, with the sum of products written under them.

:func:`plot_conv_step` draws a step; :func:`move_conv_step` moves a drawn picture to another output
position, changing only :func:`conv_step_artists` (what chapter 02's explorer redraws for each step
of its Play button).
"""

from __future__ import annotations

from typing import Sequence
import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Rectangle
from helpers.scratch.conv import conv2d
from helpers.scratch.shapes import conv_output_size, PaddingArg, resolve_padding
from helpers.figures.matrices import DIVERGING, MAX_ANNOTATED, as_matrix, format_number, new_axes, show_matrix

__all__ = ["plot_conv_step", "move_conv_step", "conv_step_artists"]


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


def _step_boxes(axes) -> tuple:
    """(window, output cell): the red boxes that :func:`plot_conv_step` drew in ``axes``."""
    boxes = {p.get_gid(): p for ax in (axes[0], axes[2]) for p in ax.patches if p.get_gid() in (_WINDOW_GID, _CELL_GID)}
    if len(boxes) != 2:
        raise ValueError("axes must be the three axes that plot_conv_step drew (input, kernel, output)")
    return boxes[_WINDOW_GID], boxes[_CELL_GID]


def _place_step(axes, xp, kernel, out, row, col, stride, bias) -> None:
    """Put the red boxes of output position ``(row, col)`` in place and write its title and caption."""
    ax_in, _, ax_out = axes
    window_box, cell_box = _step_boxes(axes)
    kh, kw = kernel.shape
    r0, c0 = row * stride[0], col * stride[1]
    window_box.set_xy((c0 - 0.5, r0 - 0.5))
    cell_box.set_xy((col - 0.5, row - 0.5))
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
        scale = 0.5 if max(hp, wp) <= MAX_ANNOTATED else 6 / max(hp, wp)
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
    show_matrix(kernel, ax_k, title=f"kernel {kh}×{kw}", cmap=DIVERGING)
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
    captions = [t for t in axes[0].figure.texts if t.get_gid() == _CAPTION_GID]
    if len(captions) != 1:
        raise ValueError("axes must be the three axes that plot_conv_step drew (input, kernel, output)")
    return [*_step_boxes(axes), axes[2].title, captions[0]]


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
