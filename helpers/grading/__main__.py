"""Command line: ``python -m helpers.grading generate SOLUTIONS_DIR EXERCISES_DIR [--check]``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from helpers.grading.generate import generate_all


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m helpers.grading")
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write exercise notebooks from solution notebooks")
    gen.add_argument("solutions", type=Path, nargs="?", default=Path("solutions"))
    gen.add_argument("exercises", type=Path, nargs="?", default=Path("exercises"))
    gen.add_argument("--check", action="store_true", help="only report out-of-date exercises")
    args = parser.parse_args(argv)

    changed = generate_all(args.solutions, args.exercises, check=args.check)
    verb = "out of date" if args.check else "written"
    for path in changed:
        print(f"{verb}: {path}")
    if not changed:
        print("exercises are up to date")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
