"""helpers.figures.speedrun: the schedule and ablation figures draw what they are given, with titles
and labels."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.figures.speedrun import plot_ablation, plot_schedules


def test_plot_schedules_draws_one_line_per_curve():
    ax = plot_schedules({"rate": [0.2, 1.0, 0.5], "decay": [0.0, 0.1, 0.7]}, title="t")
    assert [line.get_label() for line in ax.get_lines()] == ["rate", "decay"]
    np.testing.assert_allclose(ax.get_lines()[0].get_ydata(), [0.2, 1.0, 0.5])
    assert ax.get_title() == "t" and ax.get_xlabel() == "training step"
    with pytest.raises(ValueError, match="at least one curve"):
        plot_schedules({})


def test_plot_ablation_draws_means_in_percent_with_the_seeds():
    rows = {"full": [0.90, 0.92, 0.91], "without x": [0.80, 0.82, 0.84]}
    ax = plot_ablation(rows, title="abl")
    widths = sorted(p.get_width() for p in ax.patches)
    np.testing.assert_allclose(widths, [82.0, 91.0])
    ticks = dict(zip([t.get_text() for t in ax.get_yticklabels()], ax.get_yticks()))
    assert ticks["full"] > ticks["without x"]  # the reference row on top
    assert ax.get_title() == "abl" and "%" in ax.get_xlabel()
    with pytest.raises(ValueError, match="at least one row"):
        plot_ablation({})
