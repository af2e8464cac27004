"""The ImageNet (ILSVRC) top-5 error timeline as a figure (Part VII).
"""

from __future__ import annotations

from helpers.analysis.zoo import HUMAN_TOP5, IMAGENET_TOP5, Top5Entry

__all__ = ["plot_top5_timeline"]


def plot_top5_timeline(entries=IMAGENET_TOP5, human: Top5Entry | None = HUMAN_TOP5, ax=None):
    """ILSVRC top-5 error by year: one labelled point per entry, the human estimate as a line.

    Args:
        entries: :class:`Top5Entry` items (default :data:`IMAGENET_TOP5`).
        human: drawn as a dashed horizontal line (``None``: left out).
        ax: a matplotlib axes (default: a new figure).

    Returns:
        The axes.
    """
    import matplotlib.pyplot as plt

    entries = list(entries)
    if not entries:
        raise ValueError("entries must hold at least one Top5Entry")
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 4))
    years, errors = [e.year for e in entries], [e.top5_error for e in entries]
    ax.plot(years, errors, "o-", color="tab:blue", label="ILSVRC entry")
    for i, e in enumerate(entries):
        beside = i > 0 and entries[i - 1].year == e.year  # a second entry of the same year: label on the left
        ax.annotate(f"{e.entry}\n{e.top5_error:g} %", (e.year, e.top5_error), textcoords="offset points",
                    xytext=(-6, -4) if beside else (4, 6), ha="right" if beside else "left", fontsize=7,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85})
    if human is not None:
        ax.axhline(human.top5_error, ls="--", color="gray", label=f"human ({human.top5_error:g} %)")
    ax.set(xlabel="year", ylabel="top-5 error on the ILSVRC test set (%)", ylim=(0, max(errors) * 1.2),
           title="ImageNet (ILSVRC) classification: top-5 error by year")
    ax.set_xticks(range(min(years), max(years) + 1))
    ax.set_xlim(min(years) - 0.3, max(years) + 0.8)  # room for the last label
    ax.legend(loc="upper right", fontsize=8)
    return ax
