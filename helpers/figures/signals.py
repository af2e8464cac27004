"""Figures of Part XI: 1-D signals and segmentation masks.
"""

from __future__ import annotations

from typing import Sequence
import numpy as np
from matplotlib.axes import Axes
from helpers.data.generated import SEGMENTATION_CLASSES

__all__ = ["plot_signals", "show_masks"]


def plot_signals(signals, titles: Sequence[str], *, axes: Sequence[Axes] | None = None,
                 suptitle: str | None = None) -> np.ndarray:
    """Draw 1-D signals ``(K, L)`` (or ``(K, 1, L)``), one panel each, against the time step.

    Returns:
        The flat ndarray of the ``K`` axes drawn into (a new figure when ``axes`` is None).
    """
    arr = np.asarray(signals.detach().cpu() if hasattr(signals, "detach") else signals, dtype=float)
    if arr.ndim == 3 and arr.shape[1] == 1:
        arr = arr[:, 0]
    if arr.ndim != 2 or arr.size == 0:
        raise ValueError(f"signals must have shape (K, L) or (K, 1, L); got {arr.shape}")
    titles = list(titles)
    if len(titles) != len(arr):
        raise ValueError(f"titles must hold one title per signal ({len(arr)}); got {len(titles)}")
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(len(arr), 1, figsize=(10, 1.6 * len(arr) + 0.6), sharex=True,
                               layout="constrained", squeeze=False)
    axs = np.asarray(axes).ravel()
    for ax, s, title in zip(axs, arr, titles):
        ax.plot(np.arange(len(s)), s, lw=0.9)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel("value")
    axs[len(arr) - 1].set_xlabel("time step")
    if suptitle:
        axs[0].figure.suptitle(suptitle)
    return axs[:len(arr)]


def show_masks(images, masks, predictions=None, *, class_names: Sequence[str] = SEGMENTATION_CLASSES,
               titles: Sequence[str] | None = None, axes: Sequence[Axes] | None = None) -> np.ndarray:
    """One row per example: the image, its true mask and (optionally) the predicted mask.

    Args:
        images: ``(N, H, W)`` or ``(N, 1, H, W)``; masks, predictions: ``(N, H, W)`` class indices.
        class_names: names of classes ``0..K-1`` (one fixed colour each, shown in a colour bar).
        titles: one title per row for the prediction panel (e.g. its IoU).
        axes: ``N x (2 or 3)`` axes to draw into; a new figure when None.

    Returns:
        The ndarray of axes, shape ``(N, 2 or 3)``.
    """
    import matplotlib.colors as mcolors

    def as_np(a):
        a = np.asarray(a.detach().cpu() if hasattr(a, "detach") else a)
        return a[:, 0] if a.ndim == 4 and a.shape[1] == 1 else a

    panels = [as_np(images), as_np(masks)] + ([] if predictions is None else [as_np(predictions)])
    if any(p.ndim != 3 or p.shape != panels[0].shape for p in panels):
        raise ValueError("images (N, H, W), masks and predictions (N, H, W) must have matching shapes; "
                         f"got {[p.shape for p in panels]}")
    n, k = len(panels[0]), len(class_names)
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(n, len(panels), figsize=(3.3 * len(panels), 2.9 * n),
                               layout="constrained", squeeze=False)
    axs = np.asarray(axes).reshape(n, len(panels))
    if not 2 <= k <= 11:
        raise ValueError(f"class_names must name 2 to 11 classes; got {k}")
    cmap = mcolors.ListedColormap(["#222222", *mcolors.TABLEAU_COLORS.values()][:k])  # background dark
    for i in range(n):
        axs[i, 0].imshow(panels[0][i], cmap="gray")
        axs[i, 0].set_title("image")
        for j, name in ((1, "true mask"), (2, "predicted mask"))[:len(panels) - 1]:
            shown = axs[i, j].imshow(panels[j][i], cmap=cmap, vmin=-0.5, vmax=k - 0.5,
                                     interpolation="nearest")
            axs[i, j].set_title(titles[i] if j == 2 and titles is not None else name)
        bar = axs[i, -1].figure.colorbar(shown, ax=axs[i, -1], ticks=range(k), shrink=0.85)
        bar.ax.set_yticklabels(class_names)
        for ax in axs[i]:
            ax.set_xlabel("x (pixels)")
            ax.set_ylabel("y (pixels)")
    return axs
