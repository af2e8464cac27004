"""What a picture of chapter 02's convolution explorer costs: blitted, as the explorer draws it,
against the whole figure saved, as it drew it before.

    .venv/bin/python benchmarks/explorer_step.py [--repeats 15]

The explorer (``helpers.widgets.conv``) lays out a new figure (matplotlib's constrained layout)
when its settings change (kernel, stride, padding), and draws its still part -- everything but the
window, the output cell, the output's title and the caption -- once; every picture pastes the still
part back and draws those four over it (blitting). A step to another position -- what its Play
button does every 700 ms -- only moves them. All sides run in one process on the chapter's 5x5
example with "same" padding, in turn, ``--repeats`` times each (after one round that is not kept):

* **new picture, blitted**: the explorer's kernel switches between two presets of the same size
  (with "same" padding the explorer lays the figure out twice: one pass of the layout leaves the
  output's title partly above the picture);
* **new picture, saved whole**: what the explorer did before: a figure made as it makes one,
  drawn by ``plot_conv_step``, then ``savefig`` (its output title clipped at the top);
* **moved window, blitted**: the explorer's position steps to the next output cell;
* **moved window, saved whole**: what it did before: ``move_conv_step``, then ``savefig``.

Prints each side's median and range of wall-clock and CPU seconds per picture (the PNG encoded,
as a reader's browser receives it) and the ratios of the medians, saved whole / blitted.
"""

from __future__ import annotations

import argparse
import io
import time

from common import print_sides, sides_table

from helpers.figures.convstep import move_conv_step, plot_conv_step
from helpers.scratch.kernels import KERNELS
from helpers.widgets.conv import conv_explorer, picture_axes


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
    saved = {"kernel": 0, "position": 0, "png": b""}  # the previous way's state

    def figure_as_before(kernel):
        axes = picture_axes(explorer.image, kernel, explorer.output_map, explorer.dpi)
        saved["axes"] = plot_conv_step(explorer.image, kernel, None, 0, 0, 1, "same", axes=axes)
        return axes[0].figure

    def save(fig) -> None:
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        saved["png"] = buffer.getvalue()

    def new_picture() -> None:  # the other preset
        explorer.kernel_name.value = kernels[1] if explorer.kernel_name.value == kernels[0] else kernels[0]

    def new_picture_saved() -> None:
        saved["kernel"] = 1 - saved["kernel"]
        saved["position"] = 0
        fig = figure_as_before(KERNELS[kernels[saved["kernel"]]])
        save(fig)
        fig.set_layout_engine("none")  # the layout kept for the steps, as the explorer did

    def step() -> None:  # the next output cell
        explorer.position.value = (explorer.position.value + 1) % cells

    def step_saved() -> None:
        saved["position"] = (saved["position"] + 1) % cells
        row, col = divmod(saved["position"], explorer.output_map.shape[1])
        move_conv_step(saved["axes"], explorer.image, KERNELS[kernels[saved["kernel"]]], None, row, col, 1, "same")
        save(saved["axes"][0].figure)

    def explorer_png() -> bytes:
        return explorer.picture.value

    def saved_png() -> bytes:
        return saved["png"]

    plan = (("new picture, blitted", new_picture, explorer_png), ("new picture, saved whole", new_picture_saved, saved_png),
            ("moved window, blitted", step, explorer_png), ("moved window, saved whole", step_saved, saved_png))
    sides = {name: [] for name, _, _ in plan}
    for round_ in range(args.repeats + 1):  # round 0 warms every path up and is not kept
        for name, action, picture in plan:
            before = bytes(picture())
            run = timed(action)
            if bytes(picture()) == before:
                raise SystemExit(f"a {name!r} step drew no new picture: nothing was timed")
            if round_:
                sides[name].append(run)
    print_sides(f"chapter 02's convolution explorer, one picture (PNG included); {args.repeats} per side, in turn",
                sides, "CPU s", ("moved window, saved whole", "moved window, blitted"))
    print(sides_table(sides, "CPU s", ("new picture, saved whole", "new picture, blitted"))[-1])


if __name__ == "__main__":
    main()
