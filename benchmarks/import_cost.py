"""What a kernel pays to import the book's stack, with and without compiled modules, side by side.

    .venv/bin/python benchmarks/import_cost.py [--repeats 3]

Every notebook kernel, grader sandbox and test worker starts a Python that imports PyTorch,
torchvision, NumPy, matplotlib and ipykernel. ``make install`` byte-compiles the virtual
environment (``compileall``), because where ``PYTHONDONTWRITEBYTECODE`` is set -- it was on the
book's machine of 2026-12-02, and the grader's sandboxes set it -- no process ever writes the
``.pyc`` files, and each one compiles every module it imports from source again.

Both sides run the same command in a fresh Python, alternating, ``--repeats`` times each:

* **compiled**: as ``make install`` leaves the environment (the ``.pyc`` files beside the modules);
* **from source**: ``PYTHONPYCACHEPREFIX`` pointed at an empty folder and ``PYTHONDONTWRITEBYTECODE``
  set, so that no compiled file is found or written -- what every process paid before.

Prints each side's median and range of wall-clock and CPU seconds (the child's user + system
time) and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time

from common import print_sides

STACK = "import torch, torchvision, numpy, matplotlib.pyplot, ipykernel.kernelapp"


def one(env: dict) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", STACK], env=env, check=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    sides = {"compiled": [], "from source": []}
    with tempfile.TemporaryDirectory() as empty:
        envs = {"compiled": {k: v for k, v in os.environ.items() if k != "PYTHONPYCACHEPREFIX"},
                "from source": {**os.environ, "PYTHONPYCACHEPREFIX": empty, "PYTHONDONTWRITEBYTECODE": "1"}}
        one(envs["compiled"])  # warm the file cache for both sides
        for _ in range(args.repeats):
            for name, env in envs.items():
                sides[name].append(one(env))
    print_sides(f"{STACK!r} in a fresh Python, {args.repeats} runs per side, alternating", sides, "CPU s",
                ("from source", "compiled"))

if __name__ == "__main__":
    main()
