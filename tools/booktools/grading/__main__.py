"""Command line for exercise notebooks.

    python -m booktools.grading generate [SOLUTIONS] [EXERCISES] [--check]
    python -m booktools.grading grade --source solutions/NN_topic.ipynb --out gradebook.csv \\
        [--jobs N] [--cell-timeout S] [--timeout S] [--memory MB] [--hidden-tests FILE] \\
        [--allow-weak-isolation] SUBMISSION.ipynb...
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from booktools.grading.generate import generate_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.grading", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write exercise notebooks from solution notebooks")
    gen.add_argument("solutions", type=Path, nargs="?", default=Path("solutions"))
    gen.add_argument("exercises", type=Path, nargs="?", default=Path("exercises"))
    gen.add_argument("--check", action="store_true", help="only report out-of-date exercises")

    grade = sub.add_parser("grade", help="grade submitted exercise notebooks into a CSV gradebook")
    grade.add_argument("--source", type=Path, required=True, help="the solution notebook (instructor's)")
    grade.add_argument("--out", type=Path, required=True, help="gradebook CSV (resumed if it exists)")
    grade.add_argument("--jobs", type=int, default=1, help="submissions graded at once (default 1)")
    grade.add_argument("--cell-timeout", type=float, default=60, help="seconds per cell (default 60)")
    grade.add_argument("--timeout", type=float, default=600, help="seconds per notebook (default 600)")
    grade.add_argument("--memory", type=int, default=2048, help="MB per notebook (default 2048)")
    grade.add_argument("--hidden-tests", type=Path, help="instructor-only file of hidden tests")
    grade.add_argument("--allow-weak-isolation", action="store_true",
                       help="grade even where bubblewrap (bwrap) cannot sandbox the kernels: students' code "
                            "could then read this machine's files and see its processes")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("submissions", type=Path, nargs="+")
    args = parser.parse_args(argv)

    if args.command == "generate":
        changed = generate_all(args.solutions, args.exercises, check=args.check)
        verb = "out of date" if args.check else "written"
        for path in changed:
            print(f"{verb}: {path}")
        if not changed:
            print("exercises are up to date")
        return 1 if (args.check and changed) else 0

    from booktools.grading.grader import GradeSettings, grade_batch
    from booktools.grading.reference import SourceError
    from booktools.grading.sandbox import SandboxUnavailable

    for path, what in ((args.source, "--source"), (args.hidden_tests, "--hidden-tests")):
        if path is not None and not path.is_file():
            parser.error(f"{what} {path} does not exist")
    if args.jobs < 1 or args.cell_timeout <= 0 or args.timeout <= 0 or args.memory < 256:
        parser.error("--jobs must be >= 1, timeouts > 0 and --memory >= 256 (MB)")
    settings = GradeSettings(cell_timeout=args.cell_timeout, timeout=args.timeout, memory_mb=args.memory,
                             allow_weak_isolation=args.allow_weak_isolation)
    try:
        book = grade_batch(args.source, args.submissions, args.out, settings, jobs=args.jobs,
                           hidden_path=args.hidden_tests, progress=not args.quiet)
    except (SandboxUnavailable, SourceError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    statuses: dict[str, int] = {}
    for row in book.rows.values():
        statuses[row["status"]] = statuses.get(row["status"], 0) + 1
    summary = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items()))
    print(f"{len(book.rows)} submissions in {args.out} ({summary}); "
          f"feedback in {args.out.with_name(args.out.stem + '_feedback')}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
