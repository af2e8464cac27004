"""Grading throughput: submissions per minute with --jobs 1 and --jobs N, measured side by side.

    .venv/bin/python benchmarks/grading_throughput.py [--source solutions/02_convolution.ipynb]
        [--copies 8] [--jobs 2]

Grades the same batch (copies of the solution notebook, i.e. complete submissions that run every
test) twice in one process, once serially and once in parallel, and prints both rates and their
ratio. Every copy must get full marks (its automatically graded points), or the measurement is
void. The reference run of the source notebook (once per assignment, then cached next to the
gradebook) is timed and printed on its own, not counted in the rates.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

from booktools.grading.grader import GradeSettings, grade_batch, isolation_for
from booktools.grading.reference import load_assignment, run_reference


def run(source: Path, copies: int, jobs: int, workdir: Path) -> tuple[float, float]:
    subs = workdir / f"jobs{jobs}"
    subs.mkdir()
    paths = []
    for i in range(copies):
        paths.append(subs / f"student{i:02d}.ipynb")
        shutil.copy(source, paths[-1])
    out = workdir / f"gradebook{jobs}.csv"
    assignment = load_assignment(source)
    started = time.perf_counter()
    run_reference(assignment, out.with_name(f"{out.stem}_results") / "reference",
                  isolation=isolation_for(GradeSettings()))
    print(f"reference run of {source.name}: {time.perf_counter() - started:.1f} s (once per assignment)")
    started = time.perf_counter()
    book = grade_batch(source, paths, out, GradeSettings(), jobs=jobs, progress=False)
    seconds = time.perf_counter() - started
    best = sum(assignment.tests.values())
    scores = {(r["status"], float(r["score"])) for r in book.rows.values()}
    assert scores == {("ok", best)}, f"not all full marks ({best}): {scores}"
    return seconds, copies / seconds * 60


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--source", type=Path, default=Path("solutions/02_convolution.ipynb"))
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = parser.parse_args()
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"source: {args.source}; {args.copies} submissions")
    with tempfile.TemporaryDirectory() as tmp:
        serial_s, serial_rate = run(args.source, args.copies, 1, Path(tmp))
        parallel_s, parallel_rate = run(args.source, args.copies, args.jobs, Path(tmp))
    print(f"--jobs 1: {serial_s:6.1f} s  {serial_rate:6.1f} submissions/minute")
    print(f"--jobs {args.jobs}: {parallel_s:6.1f} s  {parallel_rate:6.1f} submissions/minute")
    print(f"speed-up from --jobs {args.jobs}: {parallel_rate / serial_rate:.2f}x")


if __name__ == "__main__":
    main()
