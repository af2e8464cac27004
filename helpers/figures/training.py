"""Figures of a training run: loss/accuracy curves, learned filters, feature maps.

Every function takes data (and ``ax=None``), draws, and returns the axes; none reads a notebook's
variables. With ``ax=None`` a new figure is made with ``pyplot`` so that it shows in a notebook.
Filters and feature maps are drawn as one mosaic (tiles separated by blank gaps) in a single axes,
with one shared colour scale and its colour bar, so tiles can be compared with each other.
"""

from __future__ import annotations

from typing import Any, Mapping
import numpy as np
from matplotlib.axes import Axes

__all__ = ["plot_history", "example_histories", "mosaic", "show_filters", "show_feature_maps"]


_METRICS = {"accuracy": ("train_acc", "val_acc", "accuracy"), "loss": ("train_loss", "val_loss", "loss")}


def _new_ax(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt  # only when the caller gives no axes

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def _as_record(history: Any, name: str) -> Mapping:
    """A ``helpers.training.history.History`` or its ``to_dict()`` as a mapping of lists."""
    record = history.to_dict() if hasattr(history, "to_dict") else history
    if not isinstance(record, Mapping) or "train_loss" not in record:
        raise TypeError(f"histories[{name!r}] must be a History (from helpers.training.loop.fit) or its "
                        f"to_dict(); got {type(history).__name__}")
    return record


def plot_history(histories: Mapping[str, Any], metric: str = "accuracy", *, ax: Axes | None = None,
                 held_out: str = "test") -> Axes:
    """Train (solid) and validation/test (dashed) curves per epoch, one colour per model.

    Epochs are whole numbers on the x axis, and the legend sits outside the axes, to their
    right, so it never hides a curve (an over-fitting run's rising held-out loss included).

    Args:
        histories: ``{model name: History}`` (or ``History.to_dict()``), at least one.
        metric: ``"accuracy"`` (drawn in %) or ``"loss"``.
        ax: the axes to draw into; a new figure when None.
        held_out: what the dashed curves measured, for the legend and title: ``"test"`` (the
            chapters evaluate on the test split) or ``"validation"`` (``val_loss`` measured on a
            validation split, as in ``example_histories``).

    Returns:
        The axes, titled and labelled.
    """
    from matplotlib.ticker import MaxNLocator

    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {sorted(_METRICS)}; got {metric!r}")
    if not isinstance(histories, Mapping) or not histories:
        raise ValueError(f"histories must be a non-empty dict {{name: History}}; got {histories!r}")
    if held_out not in ("test", "validation"):
        raise ValueError(f"held_out must be 'test' or 'validation'; got {held_out!r}")
    train_key, val_key, label = _METRICS[metric]
    scale = 100.0 if metric == "accuracy" else 1.0
    ax = ax if ax is not None else _new_ax((7, 4))
    for i, (name, history) in enumerate(histories.items()):
        record = _as_record(history, name)
        epochs = list(record["epoch"]) or list(range(1, len(record[train_key]) + 1))
        colour = f"C{i % 10}"
        ax.plot(epochs, np.asarray(record[train_key]) * scale, "o-", color=colour, label=f"{name} train")
        if record.get(val_key):
            ax.plot(epochs, np.asarray(record[val_key]) * scale, "s--", color=colour, label=f"{name} {held_out}")
    ax.set_title(f"{label.capitalize()} per epoch: train (solid) vs {held_out} (dashed)")
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epoch 1, 2, ...: never 2.5
    ax.set_ylabel(f"{label} (%)" if metric == "accuracy" else f"{label} (cross-entropy)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1.0), borderaxespad=0.0)
    return ax


def example_histories(epochs: int = 20) -> dict:
    """Three synthetic training runs for practising how to read curves (no training involved).

    The runs are smooth, deterministic formulas of the epoch ``e``: a good fit (train and
    validation loss fall together), an under-fit (both stay high) and an over-fit (train loss
    keeps falling while validation loss turns up after a few epochs). Accuracies are
    ``exp(-loss / 4)``. Draw them with ``plot_history(runs, held_out="validation")``.

    Args:
        epochs: epochs per run, at least 10.

    Returns:
        ``{"run A": History, "run B": History, "run C": History}``.
    """
    from helpers.training.history import History

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 10:
        raise ValueError(f"epochs must be an int >= 10; got {epochs!r}")
    e = np.arange(1, epochs + 1, dtype=np.float64)
    runs = {
        "run A": (1.2 + 0.6 * np.exp(-e / 4), 1.25 + 0.6 * np.exp(-e / 4)),  # under-fit
        "run B": (0.02 + np.exp(-e / 2.5), 0.3 + np.exp(-e / 2.5) + 0.025 * e),  # over-fit
        "run C": (0.05 + 0.9 * np.exp(-e / 3), 0.08 + 0.9 * np.exp(-e / 3)),  # good fit
    }
    return {name: History(epoch=[int(i) for i in e], train_loss=train.round(4).tolist(),
                          train_acc=np.exp(-train / 4).round(4).tolist(), val_loss=val.round(4).tolist(),
                          val_acc=np.exp(-val / 4).round(4).tolist(), seconds=(e * 2.0).tolist(),
                          settings={"synthetic": True})
            for name, (train, val) in runs.items()}


def _as_stack(maps: Any, name: str, ndim: tuple[int, ...]) -> np.ndarray:
    if hasattr(maps, "detach"):  # a torch tensor
        maps = maps.detach().cpu().numpy()
    try:
        arr = np.asarray(maps, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be an array or tensor of numbers; got {type(maps).__name__}") from None
    if arr.ndim not in ndim or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty array with {' or '.join(map(str, ndim))} "
                         f"dimensions; got shape {arr.shape}")
    return arr


def mosaic(maps: Any, ncols: int = 8, gap: int = 1) -> np.ndarray:
    """Tile ``K`` maps ``(K, H, W)`` into one 2-D array, ``ncols`` per row, NaN in the gaps.

    Returns:
        ``ndarray[rows*(H+gap)-gap, cols*(W+gap)-gap]``; tile ``k`` starts at row
        ``(k // cols) * (H + gap)``, column ``(k % cols) * (W + gap)``.
    """
    arr = _as_stack(maps, "maps", (3,))
    if not isinstance(ncols, int) or ncols < 1 or not isinstance(gap, int) or gap < 0:
        raise ValueError(f"ncols must be an int >= 1 and gap an int >= 0; got ncols={ncols!r}, gap={gap!r}")
    k, h, w = arr.shape
    cols = min(ncols, k)
    rows = -(-k // cols)
    out = np.full((rows * (h + gap) - gap, cols * (w + gap) - gap), np.nan)
    for i in range(k):
        r, c = divmod(i, cols)
        out[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = arr[i]
    return out


def _draw_mosaic(arr: np.ndarray, ncols: int, ax: Axes | None, title: str, cmap: str,
                 centred: bool, colorbar_label: str, tile_inches: float) -> Axes:
    k, h, w = arr.shape
    tiles = mosaic(arr, ncols=ncols)
    cols, rows = min(ncols, k), -(-k // min(ncols, k))
    ax = ax if ax is not None else _new_ax((max(3.0, tile_inches * cols + 1.2), max(2.0, tile_inches * rows + 0.6)))
    lo, hi = float(np.nanmin(tiles)), float(np.nanmax(tiles))
    if centred:
        m = max(abs(lo), abs(hi)) or 1.0
        lo, hi = -m, m
    elif lo == hi:
        hi = lo + 1.0
    shown = ax.imshow(tiles, cmap=cmap, vmin=lo, vmax=hi, interpolation="nearest")
    for i in range(k):  # each tile's index in its top-left corner
        r, c = divmod(i, cols)
        ax.text(c * (w + 1) - 0.5, r * (h + 1) - 0.5, str(i), color="black", fontsize=6, va="top", ha="left",
                bbox=dict(boxstyle="square,pad=0.1", fc="white", ec="none", alpha=0.7))
    ax.set_xticks([])  # positions across the mosaic mean nothing; each tile is its own map
    ax.set_yticks([])
    ax.set_title(title)
    ax.set_xlabel(f"x (pixels, {w} per tile; tile number in its corner)")
    ax.set_ylabel(f"y (pixels, {h} per tile)")
    ax.figure.colorbar(shown, ax=ax, shrink=0.9, label=colorbar_label)
    return ax


def show_filters(weight: Any, *, channel: int = 0, ncols: int = 8, ax: Axes | None = None,
                 title: str | None = None) -> Axes:
    """Draw a conv layer's filters ``(K, C, kh, kw)`` (input channel ``channel`` of each) as a mosaic.

    Colours are centred on 0 (red positive, blue negative) with one colour bar for all filters.

    Args:
        weight: the layer's ``weight``, tensor or array ``(K, C, kh, kw)`` (or ``(K, kh, kw)``).
        channel: which input channel to show when ``C > 1``.
        ncols: filters per row.
        ax: the axes to draw into; a new figure when None.
        title: default ``"K filters kh×kw (input channel c)"``.
    """
    arr = _as_stack(weight, "weight", (3, 4))
    if arr.ndim == 4:
        if not isinstance(channel, int) or not 0 <= channel < arr.shape[1]:
            raise ValueError(f"channel must be an int in 0..{arr.shape[1] - 1}; got {channel!r}")
        arr = arr[:, channel]  # (K, kh, kw)
    k, h, w = arr.shape
    title = title or f"{k} learned filters {h}×{w} (input channel {channel})"
    return _draw_mosaic(arr, ncols, ax, title, "RdBu_r", True, "weight", 1.3)


def show_feature_maps(maps: Any, *, ncols: int = 8, ax: Axes | None = None, title: str | None = None,
                      cmap: str = "viridis") -> Axes:
    """Draw the feature maps of one image, ``(K, H, W)`` (or ``(1, K, H, W)``), as a mosaic.

    All maps share one colour scale (so a bright map really is more active than a dark one);
    maps with both signs get a scale centred on 0.

    Args:
        maps: tensor or array of activations.
        ncols: maps per row.
        ax: the axes to draw into; a new figure when None.
        title: default ``"K feature maps H×W"``.
        cmap: colormap for maps that are all of one sign (e.g. after ReLU).
    """
    arr = _as_stack(maps, "maps", (3, 4))
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise ValueError(f"maps must be one image's maps (K, H, W) or (1, K, H, W); got shape {arr.shape}")
        arr = arr[0]
    k, h, w = arr.shape
    centred = float(arr.min()) < 0 < float(arr.max())
    title = title or f"{k} feature maps {h}×{w}"
    return _draw_mosaic(arr, ncols, ax, title, "RdBu_r" if centred else cmap, centred, "activation",
                        0.6 + 0.05 * max(h, w))
