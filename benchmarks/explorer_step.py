"""What a step of chapter 02's convolution explorer costs: a new picture, and a moved window redrawn whole
against blitted.

    .venv/bin/python benchmarks/explorer_step.py [--repeats 15]

The explorer (``helpers.widgets.conv``) draws a new figure, laid out by matplotlib's constrained
layout, when its settings change (kernel, stride, padding). When the position changes -- what its
Play button does every 700 ms -- it moves the window in the figure it has and redraws only what
moved over the still rest of the figure, drawn once at the first step after new settings
(blitting). All sides run in one process on the chapter's 5x5 example with "same" padding,
in turn, ``--repeats`` times each:

* **new picture**: the explorer's kernel switches between two presets of the same size;
* **first step after new settings**: the explorer's next step, which draws the still background;
* **moved window, blitted**: the explorer's step after that (every later Play step);
* **moved window, redrawn whole**: what the explorer did before, on a figure made as it makes
  one: ``move_conv_step``, then ``savefig`` of the whole figure.

Prints each side's median and range of wall-clock and CPU seconds per step (the PNG encoded, as a
reader's browser receives it) and the ratio of the two moved-window sides' medians.
"""

from __future__ import annotations

import argparse
import io
import time

from common import print_sides
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from helpers.figures.convstep import move_conv_step, plot_conv_step
from helpers.scratch.kernels import KERNELS
from helpers.widgets.conv import _FIGSIZE, conv_explorer


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

    # The previous way, on a figure made as the explorer makes one (same size, dpi, layout).
    fig = Figure(figsize=_FIGSIZE, dpi=explorer.dpi, layout="constrained")
    FigureCanvasAgg(fig)
    kernel = KERNELS[kernels[0]]
    axes = fig.subplots(1, 3, width_ratios=[explorer.image.shape[1] + 2, 3, max(explorer.output_map.shape[1], 3)])
    redrawn = {"args": (explorer.image, kernel, explorer.output_map), "axes": plot_conv_step(
        explorer.image, kernel, explorer.output_map, 0, 0, 1, "same", axes=axes), "position": 0, "png": b""}
    fig.savefig(io.BytesIO(), format="png")
    fig.set_layout_engine("none")

    def new_picture() -> None:  # the other preset
        explorer.kernel_name.value = kernels[1] if explorer.kernel_name.value == kernels[0] else kernels[0]

    def step() -> None:  # the next output cell
        explorer.position.value = (explorer.position.value + 1) % cells

    def redrawn_step() -> None:
        redrawn["position"] = (redrawn["position"] + 1) % cells
        row, col = divmod(redrawn["position"], explorer.output_map.shape[1])
        move_conv_step(redrawn["axes"], *redrawn["args"], row, col, 1, "same")
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        redrawn["png"] = buffer.getvalue()

    sides = {"new picture": [], "first step after new settings": [], "moved window, blitted": [],
             "moved window, redrawn whole": []}
    for round_ in range(args.repeats + 1):  # round 0 warms every path up and is not kept
        runs = []
        for name, action, picture in (("new picture", new_picture, lambda: explorer.picture.value),
                                      ("first step after new settings", step, lambda: explorer.picture.value),
                                      ("moved window, blitted", step, lambda: explorer.picture.value),
                                      ("moved window, redrawn whole", redrawn_step, lambda: redrawn["png"])):
            before = bytes(picture())
            runs.append((name, timed(action)))
            if bytes(picture()) == before:
                raise SystemExit(f"a {name!r} step drew no new picture: nothing was timed")
        if round_:
            for name, run in runs:
                sides[name].append(run)
    print_sides(f"chapter 02's convolution explorer, one step (PNG included); {args.repeats} steps per side, "
                "in turn", sides, "CPU s", ("moved window, redrawn whole", "moved window, blitted"))


if __name__ == "__main__":
    main()
