"""helpers.analysis.spread: mean ± sample standard deviation, checked against NumPy."""

from __future__ import annotations

import numpy as np
import pytest

from helpers.analysis.spread import format_spread, inside_spread, mean_std


def test_mean_std_is_numpys_sample_std():
    values = np.random.default_rng(0).normal(size=5)
    mean, std = mean_std(values)
    assert mean == pytest.approx(values.mean()) and std == pytest.approx(values.std(ddof=1))
    assert mean_std([0.5]) == (0.5, 0.0)


def test_format_spread():
    assert format_spread([0.97, 0.98, 0.99]) == "98.00 ± 1.00 %"
    assert format_spread([1.0, 2.0], percent=False) == "1.500 ± 0.707"
    assert format_spread([0.9], digits=1) == "90.0 ± 0.0 %"


def test_inside_spread_is_the_stated_rule():
    assert inside_spread([0.90, 0.92], [0.91, 0.93])  # |0.91 - 0.92| < 0.014 + 0.014
    assert not inside_spread([0.90, 0.901], [0.95, 0.951])


def test_bad_values_are_named():
    with pytest.raises(ValueError, match="at least one value"):
        mean_std([])
    with pytest.raises(ValueError, match="NaN.*diverge"):
        mean_std([0.5, float("nan")])
