"""Figures of the book: annotated matrices (one step of a convolution: :mod:`helpers.figures.convstep`).

Every function takes data (and ``ax=None`` or ``axes=None``), draws, and returns the axes; none
reads a notebook's variables. With ``ax=None`` a new figure is made with ``pyplot`` so that it
shows up in a notebook; pass axes to draw into a figure of your own (the widgets do this with a
``matplotlib.figure.Figure`` that never touches ``pyplot``).
"""

from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np
from matplotlib.axes import Axes
from helpers.figures.metrics import plot_confusion, plot_per_class, plot_roc, show_confused_pairs  # noqa: E402,F401
from helpers.figures.interpret import (as_rgb, overlay, plot_randomization, show_attributions, show_rgb_filters)  # noqa: E402,F401

__all__ = ["DIVERGING", "MAX_ANNOTATED", "format_number", "show_matrix", "as_matrix", "color_limits", "new_axes"]


DIVERGING = "RdBu_r"  # the colour map of signed values, white at 0


MAX_ANNOTATED = 16  # matrices wider or taller than this are drawn without numbers


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
    cmap = cmap or (DIVERGING if signed else "viridis")
    lo, hi = color_limits(arr, vmin, vmax, center=cmap == DIVERGING)
    if lo == hi:  # a constant matrix: stretch the limits to 0 so that the colours are defined
        lo, hi = (min(lo, 0.0), max(hi, 0.0)) if lo else (-1.0, 1.0)
    im = ax.imshow(arr, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    h, w = arr.shape
    if annotate and max(h, w) <= MAX_ANNOTATED:
        norm = mcolors.Normalize(lo, hi)
        colormap = im.get_cmap()
        size = 10 if max(h, w) <= 8 else 7
        for (i, j), v in np.ndenumerate(arr):
            r, g, b, _ = colormap(norm(v))
            dark = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
            ax.text(j, i, format_number(v), ha="center", va="center", fontsize=size,
                    color="white" if dark else "black")
    if max(h, w) <= MAX_ANNOTATED:
        ax.set_xticks(range(w))
        ax.set_yticks(range(h))
    ax.set_title(title if title is not None else f"{h}×{w} matrix")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if colorbar:
        ax.figure.colorbar(im, ax=ax, shrink=0.8)
    return ax
