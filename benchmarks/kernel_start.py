"""What a notebook kernel of the tests costs to start, forked from the kernel zygote or started, side by side.

    .venv/bin/python benchmarks/kernel_start.py [--repeats 5]

``make test`` runs every chapter, solution and exercise notebook in a kernel of its Colab-like
runtime (``booktools.colab``), and each kernel's first cells import the stack (PyTorch, NumPy,
matplotlib and ``helpers``). The runtime's *kernel zygote* imports it once
and forks each kernel from there. This script builds such a runtime (the package installed by the
set-up cell, as in the tests), then alternates, ``--repeats`` times each:

* **forked**: the zygote running, a kernel started through ``jupyter_client`` as nbval starts one;
* **forked, no torch._dynamo**: the same from a zygote that has not imported ``torch._dynamo``
  (:data:`booktools.colab.PRELOAD` without it, as before 2026-12-07);
* **started**: the zygote stopped, the same kernel started from scratch (what every notebook paid before).

Each run starts the kernel, executes the set-up cell, the stack's imports and a first optimizer
(as every notebook that trains does: ``torch.optim`` imports ``torch._dynamo`` there), and shuts
the kernel down. Prints each side's median and range of wall-clock seconds and of CPU
core-seconds (the whole machine's busy time over the run, from ``/proc/stat``: run it on an
otherwise idle machine), the ratio of the medians, and what the zygote itself cost to start (once
per test worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from common import print_sides, sides_table
from booktools.book import book_setup_cell
from booktools.colab import build, PRELOAD

# A training notebook's first cells: the set-up cell, its imports, its first optimizer (which
# imports torch._dynamo)
FIRST_CELLS = (book_setup_cell(), "import helpers, torch, numpy, matplotlib.pyplot as plt\n"
               "torch.optim.AdamW(torch.nn.Linear(4, 2).parameters(), lr=1e-3)")
WITHOUT_DYNAMO = tuple(m for m in PRELOAD if m != "torch._dynamo")


def busy() -> float:
    """Core-seconds the machine has been busy (user, nice, system, irq, softirq, steal)."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    return (sum(fields[:3]) + sum(fields[5:8])) / os.sysconf("SC_CLK_TCK")


def one(runtime) -> tuple[float, float]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in FIRST_CELLS])
    cpu, started = busy(), time.perf_counter()
    runtime.run(nb, allow_errors=False)
    return time.perf_counter() - started, busy() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    if not Path("/proc/stat").exists():
        sys.exit("this benchmark reads /proc/stat (Linux)")
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # as the tests set it
    folder = Path(tempfile.mkdtemp(prefix="kernel-start-"))
    try:
        runtime = build(folder / "runtime")
        os.environ["JUPYTER_PATH"] = str(runtime.jupyter_path)
        one(runtime)  # warm the file cache for both sides
        sides = {"forked": [], "forked, no torch._dynamo": [], "started": []}
        zygote = []
        for _ in range(args.repeats):
            cpu, started = busy(), time.perf_counter()
            runtime.start_zygote()
            zygote.append((time.perf_counter() - started, busy() - cpu))
            sides["forked"].append(one(runtime))
            runtime.stop_zygote()
            runtime.start_zygote(WITHOUT_DYNAMO)
            sides["forked, no torch._dynamo"].append(one(runtime))
            runtime.stop_zygote()
            sides["started"].append(one(runtime))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print_sides(f"a Colab-like kernel: start, the set-up cell, {FIRST_CELLS[1]!r}, shut down; {args.repeats} runs "
                "per side, alternating", {**sides, "zygote's own start": zygote}, "CPU core-s", ("started", "forked"))
    print(sides_table(sides, "CPU core-s", ("forked, no torch._dynamo", "forked"))[-1])

if __name__ == "__main__":
    main()
