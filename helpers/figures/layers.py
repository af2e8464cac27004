"""Figures of Part III: an activation and its derivative, a value per layer, optimiser paths on a loss surface.
"""

from __future__ import annotations

from typing import Callable
import numpy as np
from helpers.scratch.activations import DEFAULT_ALPHA, activation, activation_derivative, activation_name, default_alpha

__all__ = ["plot_activation", "plot_per_layer", "plot_paths"]


def plot_activation(name: str, alpha: float | None = None, x=None, ax=None):
    """Plot an activation ``f`` and its derivative ``f'`` on one axes.

    Args:
        name: one of :data:`ACTIVATIONS`. alpha: as in :func:`activation`.
        x: the points (default 401 points in [-4, 4]).
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    x = np.linspace(-4, 4, 401) if x is None else np.asarray(x, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3))
    f, df = activation(name, x, alpha), activation_derivative(name, x, alpha)
    if name in ("step", "relu", "leaky_relu", "prelu"):  # jumps in f'(x): do not join them
        df = np.where(np.isclose(x, 0, atol=(x[1] - x[0]) / 2 if len(x) > 1 else 0), np.nan, df)
    ax.plot(x, f, label="f(x)", lw=2)
    ax.plot(x, df, "--", label="f′(x)", lw=2)
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
    shown = activation_name(name)
    title = shown + (f" (α = {default_alpha(shown, alpha):g})" if shown in DEFAULT_ALPHA else "")
    ax.set(title=title, xlabel="x", ylabel="value")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_per_layer(values: dict, *, ylabel: str, title: str, log: bool = True, ax=None):
    """One line per model of a per-layer measurement (gradient norm, activation std).

    Args:
        values: ``{label: ndarray[L]}``; layer 1 is plotted at x = 1.
        ylabel, title: axis label and title. log: logarithmic y axis.
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if not values:
        raise ValueError("values must hold at least one {label: per-layer array}")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for label, v in values.items():
        v = np.asarray(v, dtype=float)
        ax.plot(np.arange(1, len(v) + 1), v, marker="o", ms=3, label=label)
    if log:
        ax.set_yscale("log")
    ax.set(xlabel="layer (1 = nearest the input)", ylabel=ylabel, title=title)
    ax.legend(fontsize=8)
    return ax


def plot_paths(loss_fn: Callable[[np.ndarray, np.ndarray], np.ndarray], paths: dict, *,
               xlim=(-2, 2), ylim=(-1, 3), minimum=None, title: str = "Optimiser paths", ax=None):
    """Contour plot of a 2-D loss with each optimiser's path drawn on it.

    Args:
        loss_fn: NumPy version of the loss, ``(X, Y) -> Z`` elementwise on grids.
        paths: ``{label: ndarray[T, 2]}`` from :func:`optimizer_path`.
        xlim, ylim: plotted range. minimum: optional ``(x, y)`` marked with a star.
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4.5))
    xs, ys = np.linspace(*xlim, 300), np.linspace(*ylim, 300)
    X, Y = np.meshgrid(xs, ys)
    Z = loss_fn(X, Y)
    ax.contour(X, Y, np.log1p(Z), levels=25, cmap="Greys", linewidths=0.7)
    for label, path in paths.items():
        path = np.asarray(path)
        ax.plot(path[:, 0], path[:, 1], marker=".", ms=2, lw=1.2, label=label)
    if minimum is not None:
        ax.plot(*minimum, "k*", ms=12, label="minimum")
    ax.set(xlim=xlim, ylim=ylim, xlabel="w₁", ylabel="w₂", title=title)
    ax.legend(fontsize=8, loc="best")
    return ax
