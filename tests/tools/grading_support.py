"""Shared support for the grader's tests (no tests here): a small assignment in nbgrader's format,
students' versions of it, and a helper that grades a batch and reads the rows back.

The assignment uses only ``helpers.checks`` and NumPy, so it stays put while ``helpers`` moves.
Its exercises cover each way a test cell is split: a pencil-and-paper check (99.1, 99.3), a
function check with array inputs (99.2), a free-text answer graded by hand (99.4), and a check
that calls the student's function in a loop over the cell's own values plus a statement that
uses the answer before it is checked (99.5).
"""

from __future__ import annotations

import copy
import csv
import sys
from pathlib import Path

import nbformat

from booktools.grading.generate import generate_exercise
from booktools.grading.grader import GradeSettings, feedback_path, grade_batch, submission_key

import pytest

from booktools.grading import bwrap

if bwrap.problem():  # the grader refuses to run without its sandbox (tests/tools/test_grading_batch.py)
    pytest.skip(f"{bwrap.problem()}: install bubblewrap (apt-get install bubblewrap)", allow_module_level=True)

TESTS = {"ex99_1_check": 2.0, "ex99_2_check": 3.0, "ex99_3_check": 1.0, "ex99_5_check": 2.0}
FULL = dict(TESTS)
MAX = 9.0  # the free-text answer (ex99_4_why) is worth 1 point, graded by hand
SETTINGS = GradeSettings(cell_timeout=20, timeout=120, memory_mb=1536, max_processes=24)
CHECK_91 = ("image = np.arange(1, 10).reshape(3, 3)\nkernel = np.array([[1, 0, -1]] * 3)\n"
            "check('99.1', answer_99_1, int((image * kernel).sum()), reveal=False)")


def _meta(**kw):
    return {"nbgrader": {"schema_version": 3, "task": False, **kw}}


def answer_meta(gid):
    return _meta(solution=True, grade=False, locked=False, grade_id=gid)


def check_cell_meta(gid, points):
    return _meta(solution=False, grade=True, locked=True, points=points, grade_id=gid)


def make_source() -> nbformat.NotebookNode:
    code, md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        md("# Exercises 99 · Fixture — solutions"),
        code("import numpy as np\nfrom helpers.checks import check, check_function"),
        md("### Exercise 99.1"),
        code("### BEGIN SOLUTION\nanswer_99_1 = -6\n### END SOLUTION", metadata=answer_meta("ex99_1_answer")),
        code(CHECK_91, metadata=check_cell_meta("ex99_1_check", 2)),
        code('def double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION',
             metadata=answer_meta("ex99_2_answer")),
        code("check_function('99.2', double, lambda x: 2 * x,\n"
             "               [((np.arange(4.0),), {}), ((np.array([[1.5, -2.0]]),), {}), ((3,), {})])",
             metadata=check_cell_meta("ex99_2_check", 3)),
        code("### BEGIN SOLUTION\nanswer_99_3 = 404.2\n### END SOLUTION", metadata=answer_meta("ex99_3_answer")),
        code("check('99.3', answer_99_3, round(307200 / 760, 1), reveal=False)", metadata=check_cell_meta("ex99_3_check", 1)),
        md("### BEGIN SOLUTION\nBecause a kernel is shared across positions.\n### END SOLUTION",
           metadata=_meta(solution=True, grade=True, locked=False, points=1, grade_id="ex99_4_why")),
        code("def scaled(values, factor):\n    ### BEGIN SOLUTION\n    return [v * factor for v in values]\n"
             "    ### END SOLUTION", metadata=answer_meta("ex99_5_answer")),
        code("factors = {'half': 0.5, 'triple': 3}\nfor name, factor in factors.items():\n"
             "    check(f'99.5 ({name})', scaled([1, 2], factor), [v * factor for v in [1, 2]])\n"
             "got_99_5 = scaled([4], 2)\ncheck('99.5 (four)', got_99_5, [8])", metadata=check_cell_meta("ex99_5_check", 2)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


SOURCE = make_source()
EXERCISE = generate_exercise(SOURCE)
INDEX = {c.metadata.get("nbgrader", {}).get("grade_id"): i for i, c in enumerate(EXERCISE.cells)}
ANSWERS = {"ex99_1_answer": "answer_99_1 = -6", "ex99_2_answer": 'def double(x):\n    """Twice x."""\n    return 2 * x',
           "ex99_3_answer": "answer_99_3 = 404.2", "ex99_4_why": "Weights are shared.",
           "ex99_5_answer": "def scaled(values, factor):\n    return [v * factor for v in values]"}


def student(answers: dict[str, str] | None = None, edit=None, **override) -> nbformat.NotebookNode:
    """The exercise notebook with the given answer cells filled in (``a1=...`` overrides answer 99.1
    of ``answers``), then optionally edited further by ``edit(nb)``."""
    nb = copy.deepcopy(EXERCISE)
    answers = dict(answers or {})
    for key, text in override.items():
        answers[f"ex99_{key[1:]}_answer" if key != "why" else "ex99_4_why"] = text
    for gid, text in answers.items():
        nb.cells[INDEX[gid]].source = text
    if edit:
        edit(nb)
    return nb


def all_answers(**override) -> nbformat.NotebookNode:
    return student(ANSWERS, **override)


def write(path: Path, content) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        nbformat.write(content, path)
    return path


def grade(root: Path, cases: dict, *, settings: GradeSettings = SETTINGS, jobs: int = 2, hidden: str | None = None):
    """Grade ``{name: notebook or bytes}`` in one batch; return ({name: row}, gradebook path, paths)."""
    source = write(root / "source" / "99_fixture.ipynb", SOURCE)
    hidden_path = write(root / "source" / "hidden.py", hidden) if hidden else None
    paths = {name: write(root / "submissions" / f"{name}.ipynb", content) for name, content in cases.items()}
    out = root / "gradebook.csv"
    grade_batch(source, list(paths.values()), out, settings, jobs=jobs, hidden_path=hidden_path, progress=False)
    return read_rows(out, paths), out, paths


def read_rows(out: Path, paths: dict[str, Path]) -> dict[str, dict]:
    with open(out, newline="", encoding="utf-8") as f:
        by_key = {r["key"]: r for r in csv.DictReader(f)}
    return {name: by_key[submission_key(p)[0]] for name, p in paths.items() if submission_key(p)[0] in by_key}


def feedback_of(out: Path, row: dict) -> str:
    return feedback_path(out, row["key"]).read_text(encoding="utf-8")


def points(row: dict) -> dict[str, float]:
    return {gid: float(row[gid]) for gid in TESTS}


def expect(row: dict, status: str, earned: dict[str, float]) -> None:
    """The row has this status and exactly these points per test cell (others 0)."""
    want = {gid: earned.get(gid, 0.0) for gid in TESTS}
    assert row["status"] == status, row
    assert points(row) == want, row
    assert float(row["score"]) == sum(want.values()) and float(row["max_score"]) == MAX, row


if __name__ == "__main__":  # pragma: no cover
    sys.exit("support module for the grading tests")
