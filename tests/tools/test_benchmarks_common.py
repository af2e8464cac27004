"""benchmarks/common.py: the one rule every speed benchmark uses for "time to a target accuracy"."""

from __future__ import annotations

import sys
from types import SimpleNamespace

import pytest

from booktools.book import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))
from common import first_reaching, ratio_of_medians, TimeToTarget  # noqa: E402


def test_first_reaching_takes_the_first_epoch_at_or_above_the_target():
    rows = [(1, 10.0, 0.95), (2, 20.0, 0.99), (3, 30.0, 0.995)]
    assert first_reaching(rows, 0.99) == (2, 20.0)  # "at least": equal counts
    assert first_reaching(rows, 0.999) is None
    history = SimpleNamespace(epoch=[1, 2], seconds=[5.0, 9.5], val_acc=[0.7, 0.8])
    assert first_reaching(history, 0.78) == (2, 9.5)


def test_a_missed_seed_counts_as_slowest_in_the_median():
    two_of_three = TimeToTarget(((2, 20.0), None, (3, 40.0)), 0.99, "8 epochs")
    assert two_of_three.median == 40.0  # 20, 40, inf
    assert two_of_three.missed == 1 and two_of_three.reached == [20.0, 40.0]
    text = str(two_of_three)
    assert "median 40.0 s" in text and "range 20.0-40.0 s (of the seeds that reached it)" in text
    assert "epoch reached per seed: 2, -, 3" in text and "within 8 epochs by 1 of 3 seeds" in text
    one_of_three = TimeToTarget(((2, 20.0), None, None), 0.99, "8 epochs")
    assert one_of_three.median is None and "median not reached" in str(one_of_three)
    assert TimeToTarget((), 0.99, "8 epochs").median is None


def test_ratio_of_medians_needs_both_medians():
    fast = TimeToTarget(((1, 10.0), (1, 12.0), (2, 14.0)), 0.78, "15 epochs")
    slow = TimeToTarget(((5, 60.0), (6, 72.0), None), 0.78, "15 epochs")
    assert ratio_of_medians(slow, fast) == pytest.approx(72.0 / 12.0)
    assert ratio_of_medians(TimeToTarget((None, None, (1, 1.0)), 0.78, "1 epoch"), fast) is None


def test_sides_table_prints_medians_ranges_and_the_ratio_of_medians():
    from common import sides_table
    lines = sides_table({"slow": [(4.0, 3.0), (6.0, 5.0), (5.0, 4.0)], "fast": [(2.0, 1.0), (1.0, 2.0)],
                         "extra": [(9.0, 9.0)]}, "CPU s", ("slow", "fast"))
    assert len(lines) == 5 and "CPU s (median, range)" in lines[0]
    assert lines[1].split() == ["slow", "5.00", "(4.00-6.00)", "4.00", "(3.00-5.00)"]
    assert lines[2].split() == ["fast", "1.50", "(1.00-2.00)", "1.50", "(1.00-2.00)"]
    assert lines[4] == "ratio of medians (slow / fast): wall 3.3x, CPU 2.7x"
    with pytest.raises(ValueError, match="at least one run"):
        sides_table({"slow": [], "fast": [(1.0, 1.0)]}, "CPU s", ("slow", "fast"))
    with pytest.raises(ValueError, match="not measured"):
        sides_table({"slow": [(1.0, 1.0)]}, "CPU s", ("slow", "fast"))
