"""Results over several seeds: mean ± standard deviation, and whether a difference is inside the spread.

Training is random (initial weights, batch order, augmentation, dropout), so one run's accuracy is
one draw. The book repeats each run over a few seeds and reports the mean and the *sample* standard
deviation (``ddof=1``) of the seeds' results. With three to five seeds the spread is itself rough;
:func:`inside_spread` is the book's stated rule of thumb for "we cannot tell these apart": the two
means differ by less than the sum of the two standard deviations.
"""

from __future__ import annotations

import math
from typing import Sequence

__all__ = ["mean_std", "format_spread", "inside_spread"]


def _values(values: Sequence[float]) -> list[float]:
    values = [float(v) for v in values]
    if not values:
        raise ValueError("need at least one value (one per seed); got none")
    if any(math.isnan(v) for v in values):
        raise ValueError(f"a seed's result is NaN: {values}; did that run diverge?")
    return values


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (``ddof=1``; 0.0 for a single value) of per-seed results."""
    values = _values(values)
    mean = sum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    return mean, math.sqrt(sum((v - mean) ** 2 for v in values) / (len(values) - 1))


def format_spread(values: Sequence[float], *, percent: bool = True, digits: int | None = None) -> str:
    """``"97.96 ± 0.12 %"`` (``percent=True``: values are fractions) or ``"0.064 ± 0.003"``."""
    mean, std = mean_std(values)
    if percent:
        d = 2 if digits is None else digits
        return f"{100 * mean:.{d}f} ± {100 * std:.{d}f} %"
    d = 3 if digits is None else digits
    return f"{mean:.{d}f} ± {std:.{d}f}"


def inside_spread(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when the means of ``a`` and ``b`` differ by less than the sum of their standard deviations."""
    (ma, sa), (mb, sb) = mean_std(a), mean_std(b)
    return abs(ma - mb) < sa + sb
