"""What a step of chapter 02's convolution explorer costs: a new picture against a moved window.

    .venv/bin/python benchmarks/explorer_step.py [--repeats 15]

The explorer (``helpers.widgets.conv``) draws a new figure, laid out by matplotlib's constrained
layout, when its settings change (kernel, stride, padding), and only moves the window in the figure
it has when the position changes -- what its Play button does every 700 ms. Both sides run in one
process on the same explorer (the chapter's 5x5 example, "same" padding), alternating, ``--repeats``
times each:

* **new picture**: the kernel switches between two presets of the same size (a full redraw);
* **moved window**: the position steps to the next output cell.

Prints each side's median and range of wall-clock and CPU seconds per step (the widget's PNG
encoded, as a reader's browser receives it) and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import time

from common import print_sides
from helpers.widgets.conv import conv_explorer


def timed(action) -> tuple[float, float]:
    cpu, wall = time.process_time(), time.perf_counter()
    action()
    return time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    explorer = conv_explorer(padding="same")
    kernels = ("vertical edge", "horizontal edge")
    cells = explorer.position.max + 1

    def new_picture() -> None:  # the other preset
        explorer.kernel_name.value = kernels[1] if explorer.kernel_name.value == kernels[0] else kernels[0]

    def moved_window() -> None:  # the next output cell
        explorer.position.value = (explorer.position.value + 1) % cells

    steps = {"new picture": new_picture, "moved window": moved_window}
    for step in steps.values():  # warm up both paths
        step()
    sides = {name: [] for name in steps}
    for _ in range(args.repeats):
        for name, step in steps.items():
            before = bytes(explorer.picture.value)
            sides[name].append(timed(step))
            if bytes(explorer.picture.value) == before:
                raise SystemExit(f"a {name!r} step drew no new picture: nothing was timed")
    print_sides(f"chapter 02's convolution explorer, one step (PNG included); {args.repeats} steps per side, "
                "alternating", sides, "CPU s", ("new picture", "moved window"))


if __name__ == "__main__":
    main()
