"""What the benchmarks share: the machine line they print first, the real data set they need, and
one rule for "time to a target accuracy" over several seeds.

The rule (:func:`first_reaching`, :class:`TimeToTarget`): a run's time to the target is the training
seconds at the end of the first epoch whose held-out accuracy is at least the target; a run that
never gets there counts as slower than every run that did. The median over the seeds is therefore
a time when at least half the seeds reached the target, and "not reached" otherwise; the range is
over the seeds that reached it, and the seeds that missed are counted in the line.
"""

from __future__ import annotations

import os
import platform
import statistics
from dataclasses import dataclass

import torch

from helpers.data.datasets import load_dataset

FOLDERS = {"mnist": "MNIST/raw", "fashion_mnist": "FashionMNIST/raw", "cifar10": "cifar10/"}


def machine_line(device: torch.device | None = None) -> str:
    """One line naming the processor (or GPU), the cores, torch and its threads."""
    cuda = device is not None and device.type == "cuda"
    name = torch.cuda.get_device_name(device) if cuda else platform.processor() or platform.machine()
    where = f" ({device})" if device is not None else ""
    return (f"machine: {name}{where}, {os.cpu_count()} cores, torch {torch.__version__}, "
            f"{torch.get_num_threads()} threads")


def load_line() -> str:
    """The load average over 1, 5 and 15 minutes (processes wanting a core), to print beside times
    measured on a shared machine."""
    try:
        one, five, fifteen = os.getloadavg()
    except (AttributeError, OSError):  # Windows
        return "load average: unknown"
    return f"load average: {one:.2f}, {five:.2f}, {fifteen:.2f} ({os.cpu_count()} cores)"


def real_data(name: str):
    """The train and test splits of data set ``name``; exits with a clear message on a stand-in."""
    train, test = load_dataset(name, train=True), load_dataset(name, train=False)
    if "stand-in" in train.source:
        raise SystemExit(f"this benchmark needs the real {name}: set CNN_BOOK_DATA to a folder with "
                         f"{FOLDERS.get(name, name)}")
    return train, test


def first_reaching(history, target: float) -> tuple[int, float] | None:
    """``(epoch, training seconds)`` at the first epoch whose held-out accuracy is at least ``target``
    (``history``: a ``helpers`` History, or ``(epoch, seconds, accuracy)`` rows); None if none is."""
    rows = zip(history.epoch, history.seconds, history.val_acc) if hasattr(history, "val_acc") else history
    return next(((int(e), float(s)) for e, s, a in rows if a >= target), None)


@dataclass(frozen=True)
class TimeToTarget:
    """The times to a target of one side of a benchmark, one entry per seed (None: not reached)."""

    results: tuple[tuple[int, float] | None, ...]
    target: float
    budget: str  # what a missing seed was given, e.g. "15 epochs"

    @property
    def reached(self) -> list[float]:
        return [r[1] for r in self.results if r is not None]

    @property
    def missed(self) -> int:
        return len(self.results) - len(self.reached)

    @property
    def median(self) -> float | None:
        """The median with misses counted as slowest; None when it falls on a miss."""
        if not self.results:
            return None
        median = statistics.median([r[1] if r is not None else float("inf") for r in self.results])
        return None if median == float("inf") else median

    def __str__(self) -> str:
        head = f"to {self.target:.1%}: " + (f"median {self.median:.1f} s" if self.median is not None
                                             else "median not reached")
        if self.reached:
            head += f", range {min(self.reached):.1f}-{max(self.reached):.1f} s"
            if self.missed:
                head += " (of the seeds that reached it)"
        epochs = ", ".join(str(r[0]) if r is not None else "-" for r in self.results)
        head += f" (epoch reached per seed: {epochs})"
        if self.missed:
            head += f"; not reached within {self.budget} by {self.missed} of {len(self.results)} seeds"
        return head


def ratio_of_medians(slow: TimeToTarget, fast: TimeToTarget) -> float | None:
    """``slow.median / fast.median``, or None when either median is "not reached"."""
    if slow.median is None or fast.median is None:
        return None
    return slow.median / fast.median


def sides_table(sides: dict[str, list[tuple[float, float]]], cpu_heading: str,
                ratio: tuple[str, str]) -> list[str]:
    """The lines of a side-by-side timing: each side's median and range of wall-clock and CPU
    seconds, then the ratio of the medians ``ratio[0] / ratio[1]``.

    ``sides`` maps a side's name to its runs, ``(wall s, CPU s)`` each; ``cpu_heading`` names what
    the CPU column counts (e.g. ``"CPU core-s"``). A side may be listed for information only (not in
    ``ratio``).
    """
    if not all(sides.values()):
        raise ValueError(f"every side needs at least one run; got {({k: len(v) for k, v in sides.items()})}")
    missing = [name for name in ratio if name not in sides]
    if missing:
        raise ValueError(f"the ratio names sides {missing} that were not measured; sides: {list(sides)}")
    width = max(len(name) for name in sides) + 2
    lines = [f"{'side':<{width}} {'wall s (median, range)':>26} {cpu_heading + ' (median, range)':>30}"]
    medians = {}
    for name, runs in sides.items():
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        medians[name] = (statistics.median(walls), statistics.median(cpus))
        lines.append(f"{name:<{width}} {medians[name][0]:>8.2f} ({min(walls):.2f}-{max(walls):.2f}){'':>8} "
                     f"{medians[name][1]:>8.2f} ({min(cpus):.2f}-{max(cpus):.2f})")
    slow, fast = (medians[name] for name in ratio)
    lines.append(f"ratio of medians ({ratio[0]} / {ratio[1]}): wall {slow[0] / fast[0]:.1f}x, "
                 f"CPU {slow[1] / fast[1]:.1f}x")
    return lines


def print_sides(what: str, sides: dict[str, list[tuple[float, float]]], cpu_heading: str,
                ratio: tuple[str, str]) -> None:
    """Print ``what`` was timed, with the processor and its cores, then :func:`sides_table`."""
    from booktools.book import cpu_model

    print(f"{what}; {cpu_model() or platform.machine()}, {os.cpu_count()} cores")
    for line in sides_table(sides, cpu_heading, ratio):
        print(line)
