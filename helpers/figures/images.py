"""Grids of images, grey or colour.
"""

from __future__ import annotations

from typing import Sequence
import numpy as np
from matplotlib.axes import Axes
from helpers.figures.metrics import plot_confusion, plot_per_class, plot_roc, show_confused_pairs  # noqa: E402,F401
from helpers.figures.interpret import (as_rgb, overlay, plot_randomization, show_attributions, show_rgb_filters)  # noqa: E402,F401
from helpers.figures.matrices import as_matrix, color_limits, new_axes

__all__ = ["show_images"]


def _as_image(a, name: str) -> np.ndarray:
    """A 2-D array (H, W) as float64, or a colour image (H, W, 3) as uint8 or floats in [0, 1]."""
    arr = np.asarray(a)
    if arr.ndim == 3 and arr.shape[2] == 3 and arr.size:
        if arr.dtype == np.uint8:
            return arr
        arr = as_matrix(arr.reshape(arr.shape[0], -1), name).reshape(arr.shape)
        if arr.min() < 0 or arr.max() > 1:
            raise ValueError(f"{name} is a colour image (H, W, 3) of floats, which must lie in [0, 1]; "
                             f"got values from {arr.min():.3g} to {arr.max():.3g} (pass uint8 0-255 instead)")
        return arr
    if arr.ndim == 3 and arr.shape[0] == 3:
        raise ValueError(f"{name} has shape {arr.shape}: colour images go in as (H, W, 3); "
                         "use image.permute(1, 2, 0) (torch) or image.transpose(1, 2, 0) (NumPy)")
    return as_matrix(a, name)


def show_images(
    images: Sequence,
    titles: Sequence[str] | None = None,
    *,
    cmap: str | Sequence[str] = "gray",
    ncols: int = 3,
    colorbar: bool = True,
    suptitle: str | None = None,
    axes: Sequence[Axes] | None = None,
    panel_size: float = 3.2,
    robust: bool = False,
) -> np.ndarray:
    """Draw 2-D images (feature maps, filtered photos) in a grid, each with title and colour bar.

    Args:
        images: a sequence of ndarray[H, W] (drawn with ``cmap``), or colour photos ndarray[H, W, 3]
            (uint8 0-255, or floats in [0, 1]; drawn as they are, without axes or colour bar).
        titles: one title per image (default ``"image 0"``, ...).
        cmap: one colormap for all, or one per image. Images with both negative and positive
            values get colour limits symmetric around 0.
        ncols: images per row.
        colorbar: add a colour bar to each image.
        suptitle: a title for the whole figure.
        axes: at least ``len(images)`` axes to draw into; a new figure when None.
        panel_size: inches per panel for a new figure.
        robust: take the colour limits from the 1st and 99th percentiles instead of the
            extremes, so that a few very large values do not wash out the rest (values beyond
            are drawn in the end colours).

    Returns:
        The flat ndarray of axes that were drawn into.
    """
    images = [_as_image(im, f"images[{i}]") for i, im in enumerate(images)]
    n = len(images)
    if n == 0:
        raise ValueError("images must hold at least one image")
    titles = list(titles) if titles is not None else [f"image {i}" for i in range(n)]
    if len(titles) != n:
        raise ValueError(f"titles must hold one title per image ({n}); got {len(titles)}")
    cmaps = [cmap] * n if isinstance(cmap, str) else list(cmap)
    if len(cmaps) != n:
        raise ValueError(f"cmap must be one name or one per image ({n}); got {len(cmaps)}")
    if axes is None:
        ncols = max(1, min(ncols, n))
        nrows = -(-n // ncols)
        fig, axs = new_axes(ncols, nrows, figsize=(panel_size * ncols * 1.15, panel_size * nrows))
        axs = axs.ravel()
        for ax in axs[n:]:
            ax.set_visible(False)
    else:
        axs = np.asarray(axes).ravel()
        if axs.size < n:
            raise ValueError(f"axes must hold at least {n} axes; got {axs.size}")
    for i, (im, title, cm) in enumerate(zip(images, titles, cmaps)):
        ax = axs[i]
        if im.ndim == 3:  # a colour photo: drawn as it is, no colour map or bar
            ax.imshow(im, interpolation="nearest")
            ax.set_title(title)
            ax.set_axis_off()
            continue
        data = np.percentile(im, [1, 99]) if robust else im
        lo, hi = color_limits(np.asarray(data), None, None, center=float(im.min()) < 0 < float(im.max()))
        shown = ax.imshow(im, cmap=cm, vmin=lo, vmax=hi, interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("x (pixels)")
        ax.set_ylabel("y (pixels)")
        if colorbar:
            ax.figure.colorbar(shown, ax=ax, shrink=0.8)
    if suptitle:
        axs[0].figure.suptitle(suptitle)
    return axs[:n]
