"""Figures of Part X: heat maps over images, grids of attribution methods, RGB filters, the sanity check.

Every function takes data (and ``ax=None`` or ``axes=None``), draws, and returns the axes; none
reads a notebook's variables. Heat maps are drawn over the image with matplotlib's ``jet``
colormap at partial opacity -- what OpenCV's ``applyColorMap`` + ``addWeighted`` do, without OpenCV.

"""

from __future__ import annotations

import warnings
from typing import Any, Mapping, Sequence
import numpy as np
from matplotlib.axes import Axes
from helpers.figures.training import mosaic

__all__ = ["as_rgb", "overlay", "show_attributions", "show_rgb_filters", "plot_randomization",
           "plot_deletion_insertion"]


def as_rgb(image: Any) -> np.ndarray:
    """An image as ``float ndarray[H, W, 3]`` in [0, 1].

    Args:
        image: uint8 (0-255) or float (0-1) array or tensor, ``(C, H, W)``, ``(H, W, C)`` or
            ``(H, W)``, with ``C`` 1 or 3.
    """
    if hasattr(image, "detach"):
        image = image.detach().cpu().numpy()
    arr = np.asarray(image)
    if arr.ndim == 3 and arr.shape[0] in (1, 3) and arr.shape[-1] not in (1, 3):
        arr = arr.transpose(1, 2, 0)  # (H, W, C)
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[-1] not in (1, 3):
        raise ValueError(f"image must be (C, H, W), (H, W, C) or (H, W) with 1 or 3 channels; got {arr.shape}")
    arr = arr.astype(np.float64) / 255.0 if arr.dtype == np.uint8 else arr.astype(np.float64)
    return np.repeat(arr, 3, axis=2) if arr.shape[-1] == 1 else arr


def overlay(image: Any, heat: Any, ax: Axes | None = None, *, alpha: float = 0.5, title: str | None = None,
            cmap: str = "jet", colorbar: bool = True) -> Axes:
    """Draw ``heat`` (``ndarray[H, W]`` in [0, 1]) in colour over ``image`` (see :func:`as_rgb`).

    Args:
        alpha: opacity of the heat map (0 = only the image).
        title: axes title; colorbar: add one, labelled "importance (0-1)".

    Returns:
        The axes.
    """
    rgb = as_rgb(image)
    heat = np.asarray(heat, dtype=np.float64)
    if heat.shape != rgb.shape[:2]:
        raise ValueError(f"heat must have the image's size {rgb.shape[:2]}; got {heat.shape} (upsample it first)")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1]; got {alpha}")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(3.6, 3), layout="constrained")
    ax.imshow(rgb, interpolation="nearest")
    shown = ax.imshow(heat, cmap=cmap, vmin=0.0, vmax=1.0, alpha=alpha, interpolation="bilinear")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("x (pixels)")
    ax.set_ylabel("y (pixels)")
    if title is not None:
        ax.set_title(title, fontsize=9)
    if colorbar:
        ax.figure.colorbar(shown, ax=ax, shrink=0.8, label="importance (0-1)")
    return ax


def show_attributions(images: Sequence, maps: Mapping[str, Any], row_titles: Sequence[str] | None = None, *,
                      alpha: float = 0.5, suptitle: str | None = None, axes: Any = None,
                      panel_size: float = 1.9, panel_titles: Sequence[Sequence[str]] | None = None) -> np.ndarray:
    """A grid: one row per image; the image, then one overlay per method; one shared colour bar.

    Args:
        images: ``N`` images (see :func:`as_rgb`).
        maps: ``{method name: ndarray[N, H, W] in [0, 1]}``, drawn in that order.
        row_titles: one label per image (e.g. ``"cat -> dog (wrong)"``), shown over its first column.
        axes: ``(N, 1 + len(maps))`` axes to draw into; a new figure when None.
        panel_titles: ``N`` rows of ``len(maps)`` titles (e.g. the class each map explains); default:
            the method's name over the first row only.

    Returns:
        ndarray of the axes, ``(N, 1 + len(maps))``.
    """
    n = len(images)
    if n == 0 or not maps:
        raise ValueError(f"images and maps must be non-empty; got {n} images and {len(maps)} methods")
    arrays = {name: np.asarray(m, dtype=np.float64) for name, m in maps.items()}
    for name, m in arrays.items():
        if m.ndim != 3 or m.shape[0] != n:
            raise ValueError(f"maps[{name!r}] must be (N={n}, H, W); got shape {m.shape}")
    if row_titles is not None and len(row_titles) != n:
        raise ValueError(f"row_titles must hold one title per image ({n}); got {len(row_titles)}")
    if panel_titles is not None and (len(panel_titles) != n or any(len(r) != len(arrays) for r in panel_titles)):
        raise ValueError(f"panel_titles must hold {n} rows of {len(arrays)} titles (one per map)")
    cols = 1 + len(arrays)
    if axes is None:
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(n, cols, figsize=(panel_size * cols + 0.8, panel_size * n + 0.6),
                                 squeeze=False, layout="constrained")
    axes = np.asarray(axes).reshape(n, cols)
    for i in range(n):
        axes[i, 0].imshow(as_rgb(images[i]), interpolation="nearest")
        axes[i, 0].set_title(row_titles[i] if row_titles is not None else f"image {i}", fontsize=8)
        axes[i, 0].set_xticks([])
        axes[i, 0].set_yticks([])
        for j, (name, m) in enumerate(arrays.items(), start=1):
            title = panel_titles[i][j - 1] if panel_titles is not None else (name if i == 0 else None)
            overlay(images[i], m[i], axes[i, j], alpha=alpha, colorbar=False, title=title)
            axes[i, j].set_xlabel("")
            axes[i, j].set_ylabel("")
    mappable = axes[0, 1].images[-1]
    axes[0, 0].figure.colorbar(mappable, ax=axes, shrink=0.6, label="importance (0-1, per map)")
    if suptitle:
        axes[0, 0].figure.suptitle(suptitle)
    return axes


def show_rgb_filters(weight: Any, *, ncols: int = 8, ax: Axes | None = None, title: str | None = None) -> Axes:
    """First-layer filters ``(K, 3, kh, kw)`` as small colour images, each scaled to [0, 1] on its own.

    Mid-grey is 0; a filter that looks red responds to red pixels, one dark on the left and light
    on the right to an edge. White gaps separate the tiles.
    """
    if hasattr(weight, "detach"):
        weight = weight.detach().cpu().numpy()
    w = np.asarray(weight, dtype=np.float64)
    if w.ndim != 4 or w.shape[1] != 3:
        raise ValueError(f"weight must be (K, 3, kh, kw), a first layer on RGB images; got shape {w.shape}")
    scale = np.abs(w).reshape(len(w), -1).max(axis=1)[:, None, None, None]
    scaled = 0.5 + 0.5 * w / np.where(scale > 0, scale, 1.0)  # 0 -> grey, each filter its own scale
    tiles = np.stack([mosaic(scaled[:, c], ncols=ncols) for c in range(3)], axis=-1)  # (rows, cols, 3)
    tiles = np.where(np.isnan(tiles), 1.0, tiles)
    if ax is None:
        import matplotlib.pyplot as plt

        cols, rows = min(ncols, len(w)), -(-len(w) // min(ncols, len(w)))
        _, ax = plt.subplots(figsize=(0.7 * cols + 1, 0.7 * rows + 0.8), layout="constrained")
    ax.imshow(tiles, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    k, _, kh, kw = w.shape
    ax.set_title(title or f"{k} first-layer filters {kh}×{kw} (RGB; grey = 0)")
    ax.set_xlabel(f"x ({kw} pixels per filter)")
    ax.set_ylabel(f"y ({kh} pixels per filter)")
    return ax


def plot_randomization(results: Mapping[str, Mapping[str, Any]], ax: Axes | None = None) -> Axes:
    """Mean (and 25-75 % band) rank correlation with the trained model's maps, per randomised stage.

    Args:
        results: ``{method name: {stage: ndarray[N]}}`` as :func:`helpers.analysis.attributions.cascading_randomization`
            returns for each method; stages in randomisation order, the first being ``"trained"``.

    Returns:
        The axes.
    """
    if not results:
        raise ValueError("results must hold at least one method")
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(7, 4), layout="constrained")
    for name, stages in results.items():
        labels = list(stages)
        values = [np.asarray(v, dtype=np.float64) for v in stages.values()]
        with warnings.catch_warnings():  # a stage whose maps are all blank (NaN) is left as a gap
            warnings.simplefilter("ignore", RuntimeWarning)
            mean = [np.nanmean(v) for v in values]
            lo, hi = [np.nanpercentile(v, 25) for v in values], [np.nanpercentile(v, 75) for v in values]
        line, = ax.plot(range(len(labels)), mean, "o-", label=name)
        ax.fill_between(range(len(labels)), lo, hi, color=line.get_color(), alpha=0.2)
    ax.set_xticks(range(len(labels)), ["trained"] + [f"+ {s}" for s in labels[1:]], rotation=20)
    ax.axhline(0.0, color="grey", lw=0.8)
    ax.set_ylim(-1.05, 1.05)
    ax.set_title("Cascading randomisation: do the maps change when the weights do?")
    ax.set_xlabel("layers re-initialised, from the output down (cumulative)")
    ax.set_ylabel("Spearman rank correlation\nwith the trained model's maps")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small")
    return ax


def plot_deletion_insertion(curves: Mapping[str, Sequence[Any]], axes: Any = None) -> np.ndarray:
    """Deletion and insertion curves, averaged over images, one line per method.

    Args:
        curves: ``{method: [Curves, ...]}`` (one :class:`helpers.analysis.faithfulness.Curves` per
            image, all with the same fractions).
        axes: two axes (deletion, insertion); a new figure when None.

    Returns:
        The two axes. The legend gives each method's mean area under the curve.
    """
    if not curves or any(len(c) == 0 for c in curves.values()):
        raise ValueError("curves must map each method to a non-empty list of Curves")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, 2, figsize=(10, 3.8), layout="constrained")
    axes = np.asarray(axes).ravel()
    for name, items in curves.items():
        x = np.asarray(items[0].fractions) * 100
        for ax, kind in zip(axes, ("deletion", "insertion")):
            y = np.mean([getattr(c, kind) for c in items], axis=0)
            auc = np.mean([getattr(c, f"{kind}_auc") for c in items])
            ax.plot(x, y, marker=".", label=f"{name} ({auc:.3f})")
    for ax, kind, better in zip(axes, ("deletion", "insertion"), ("lower", "higher")):
        ax.set(xlabel=f"pixels {'removed' if kind == 'deletion' else 'put back'}, most important first (%)",
               ylabel="probability of the class", title=f"{kind.capitalize()}: area under the curve, {better} is better")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="x-small", title="method (mean area)", title_fontsize="x-small")
    return axes
