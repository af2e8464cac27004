"""What a notebook kernel of the tests costs to start, forked from the kernel zygote or started, side by side.

    .venv/bin/python benchmarks/kernel_start.py [--repeats 5]

``make test`` runs every chapter, solution and exercise notebook in a kernel of its Colab-like
runtime (``booktools.colab``), and each kernel's first cells import the stack (``import helpers``
imports PyTorch, torchvision, NumPy and matplotlib). The runtime's *kernel zygote* imports it once
and forks each kernel from there. This script builds such a runtime (the package installed by the
set-up cell, as in the tests), then alternates, ``--repeats`` times each:

* **forked**: the zygote running, a kernel started through ``jupyter_client`` as nbval starts one;
* **started**: the zygote stopped, the same kernel started from scratch (what every notebook paid before).

Each run starts the kernel, executes the set-up cell and ``import helpers`` with the stack, and
shuts the kernel down. Prints each side's median and range of wall-clock seconds and of CPU
core-seconds (the whole machine's busy time over the run, from ``/proc/stat``: run it on an
otherwise idle machine), the ratio of the medians, and what the zygote itself cost to start (once
per test worker).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from common import sides_table
from booktools.book import book_setup_cell, cpu_model
from booktools.colab import build

FIRST_CELLS = (book_setup_cell(), "import helpers, torch, torchvision, numpy, matplotlib.pyplot as plt")


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
        sides = {"forked": [], "started": []}
        zygote = []
        for _ in range(args.repeats):
            cpu, started = busy(), time.perf_counter()
            runtime.start_zygote()
            zygote.append((time.perf_counter() - started, busy() - cpu))
            sides["forked"].append(one(runtime))
            runtime.stop_zygote()
            sides["started"].append(one(runtime))
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    print(f"a Colab-like kernel: start, the set-up cell, `{FIRST_CELLS[1]}`, shut down; {args.repeats} runs per "
          f"side, alternating; {cpu_model() or platform.machine()}, {os.cpu_count()} cores")
    for line in sides_table({**sides, "zygote's own start": zygote}, "CPU core-s", ("started", "forked")):
        print(line)

if __name__ == "__main__":
    main()
