"""Figures of the 94 % speed recipe (chapter 13): its schedules and its ablation.

Every function takes data (and ``ax=None``), draws, and returns the axes; none reads a notebook's
variables.
"""

from __future__ import annotations

from typing import Mapping, Sequence
import numpy as np
from matplotlib.axes import Axes

from helpers.analysis.spread import mean_std

__all__ = ["plot_schedules", "plot_ablation"]


def _new_ax(figsize: tuple[float, float]) -> Axes:
    import matplotlib.pyplot as plt  # only when the caller gives no axes

    _, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax


def plot_schedules(curves: Mapping[str, Sequence[float]], *, ax: Axes | None = None,
                   title: str = "Schedules over one training run") -> Axes:
    """One line per named curve, against the training step.

    Args:
        curves: name -> values per step (e.g. the learning-rate factor and the look-ahead decay).
    """
    if not curves:
        raise ValueError("curves must name at least one curve")
    ax = ax if ax is not None else _new_ax((7, 3.2))
    for name, values in curves.items():
        ax.plot(np.arange(len(values)), np.asarray(values, dtype=float), label=name)
    ax.set_xlabel("training step")
    ax.set_ylabel("value")
    ax.set_title(title)
    ax.legend()
    ax.grid(alpha=0.3)
    return ax


def plot_ablation(accuracies: Mapping[str, Sequence[float]], *, ax: Axes | None = None,
                  title: str = "Ablation", xlabel: str = "validation accuracy") -> Axes:
    """Horizontal bars: mean accuracy per row with one standard deviation, and each seed as a dot.

    Args:
        accuracies: row name -> accuracies (fractions in 0..1), one per seed; the first row is the
            reference, drawn as a dashed vertical line.
    """
    if not accuracies:
        raise ValueError("accuracies must have at least one row")
    names = list(accuracies)
    ax = ax if ax is not None else _new_ax((7, 0.35 * len(names) + 1.2))
    ys = np.arange(len(names))[::-1]
    for y, name in zip(ys, names):
        a = 100 * np.asarray(accuracies[name], dtype=float)
        mean, std = mean_std(a)  # the book's one mean ± sample std (helpers.analysis.spread)
        ax.barh(y, mean, xerr=std, color="C0" if y != ys[0] else "C2", alpha=0.6, capsize=3)
        ax.plot(a, np.full(len(a), y), "k.", ms=4)
    ax.axvline(100 * np.mean(accuracies[names[0]]), color="k", ls="--", lw=1)
    low = min(100 * np.min(v) for v in accuracies.values())
    ax.set_xlim(max(0.0, low - 5), min(100.0, max(100 * np.max(v) for v in accuracies.values()) + 2))
    ax.set_yticks(ys, names)
    ax.set_xlabel(f"{xlabel} (%)")
    ax.set_title(title)
    return ax
