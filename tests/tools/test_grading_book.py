"""The book's own exercises, every chapter: the solution gets full marks, the untouched exercise
zero, a half-done notebook exactly the points of the exercises it did (its stubs say ⏳), and a
notebook whose every answer is an object that mirrors whatever it is compared with gets nothing.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading_support import SETTINGS  # noqa: E402  (skips without bubblewrap)

from booktools.grading.grader import grade_batch, submission_key  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REAL = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
SETTINGS_BOOK = SETTINGS.__class__(**{**vars(SETTINGS), "cell_timeout": 120, "timeout": 600, "memory_mb": 3072})

MIRROR = '''
import gc, sys

class _Mirror:
    """Whatever it is compared with, found in the callers' frames or anywhere in memory."""
    def _find(self):
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "exp_arr", "reference", "other"):
                value = frame.f_locals.get(name)
                if value is not None and value is not self:
                    return value
            frame = frame.f_back
        for obj in gc.get_objects():
            if isinstance(obj, dict) and "expected" in obj:
                return obj["expected"]
        return 0
    def __array__(self, dtype=None, copy=None):
        import numpy as np
        return np.asarray(self._find(), dtype=dtype)
    def __float__(self):
        return float(self._find())
    def __int__(self):
        return int(self._find())
    __index__ = __int__
    def __eq__(self, other):
        return True
    def __iter__(self):
        return iter(self._find())
    def __len__(self):
        return len(self._find())
    def __getattr__(self, name):
        return getattr(self._find(), name)
    __hash__ = object.__hash__
'''


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


def _without_markers(source: str) -> str:
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)


def _exercise_of(grade_id: str) -> str:
    return grade_id.rsplit("_", 1)[0]


def _mirrored(exercise):
    nb = copy.deepcopy(exercise)
    for cell in nb.cells:
        if cell.cell_type == "code" and _meta(cell).get("solution"):
            cell.source = re.sub(r"= \.\.\.  # your answer here", "= _Mirror()", cell.source)
            cell.source = re.sub(r"raise NotImplementedError\(.*\)", "return _Mirror()", cell.source)
    first = next(i for i, c in enumerate(nb.cells) if _meta(c).get("solution"))
    nb.cells.insert(first, nbformat.v4.new_code_cell(MIRROR))
    return nb


@pytest.mark.parametrize("topic", REAL)
def test_book_exercises_grade_as_expected(topic, tmp_path):
    source_path = ROOT / "solutions" / f"{topic}.ipynb"
    solution = nbformat.read(source_path, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{topic}.ipynb", as_version=4)
    answers = [c for c in solution.cells if c.cell_type == "code" and _meta(c).get("solution")]
    tests = {_meta(c)["grade_id"]: float(_meta(c)["points"]) for c in solution.cells
             if _meta(c).get("grade") and not _meta(c).get("solution")}
    done = {_meta(c)["grade_id"]: _without_markers(c.source) for c in answers[: len(answers) // 2]}
    half = copy.deepcopy(exercise)
    for cell in half.cells:
        if _meta(cell).get("grade_id") in done:
            cell.source = done[_meta(cell)["grade_id"]]
    expected_half = sum(p for g, p in tests.items() if _exercise_of(g) in {_exercise_of(d) for d in done})
    assert 0 < expected_half < sum(tests.values())
    subs = {"solution": solution, "untouched": exercise, "half": half, "mirror": _mirrored(exercise)}
    paths = {}
    for name, nb in subs.items():
        paths[name] = tmp_path / f"{name}.ipynb"
        nbformat.write(nb, paths[name])
    book = grade_batch(source_path, list(paths.values()), tmp_path / "book.csv", SETTINGS_BOOK, jobs=2,
                       progress=False)
    by_key = {r["key"]: r for r in book.rows.values()}
    rows = {name: by_key[submission_key(p)[0]] for name, p in paths.items()}
    full = sum(tests.values())
    assert rows["solution"]["status"] == "ok" and float(rows["solution"]["score"]) == full, rows["solution"]
    assert "reference_used" not in rows["solution"]["flags"], rows["solution"]["flags"]  # its own tools only
    assert rows["untouched"]["status"] == "no_response" and float(rows["untouched"]["score"]) == 0
    assert rows["half"]["status"] == "ok" and float(rows["half"]["score"]) == expected_half, rows["half"]
    assert float(rows["mirror"]["score"]) == 0, rows["mirror"]
    feedback = (tmp_path / rows["half"]["feedback"]).read_text(encoding="utf-8")
    assert "⏳" in feedback and "NameError" not in feedback  # the stubs left read as "not done yet"


COPIED_2_1 = """import numpy as np
from helpers.scratch.conv import conv2d

answer_2_1 = conv2d(np.array([[3, 0, 1, 2], [1, 5, 8, 9], [2, 7, 2, 5], [0, 1, 3, 1]]),
                    np.array([[1, 0, -1], [1, 0, -1], [1, 0, -1]]))[1, 0]
"""
COPIED_2_6 = """import helpers.scratch.conv as reference

def conv2d_loop(image, kernel):
    return reference.conv2d(image, kernel)
"""


def test_answers_that_call_the_reference_score_but_are_flagged(tmp_path):
    """Exercise 2.1 answered by calling conv2d, 2.6 by wrapping it: the values are right (points),
    and the gradebook flags both for the instructor with the reference each exercise names."""
    exercise = nbformat.read(ROOT / "exercises" / "02_convolution.ipynb", as_version=4)
    for cell in exercise.cells:
        gid = _meta(cell).get("grade_id")
        if gid in ("ex02_1_answer", "ex02_6_answer"):
            cell.source = COPIED_2_1 if gid == "ex02_1_answer" else COPIED_2_6
    path = tmp_path / "copier.ipynb"
    nbformat.write(exercise, path)
    book = grade_batch(ROOT / "solutions" / "02_convolution.ipynb", [path], tmp_path / "book.csv", SETTINGS_BOOK,
                       jobs=1, progress=False)
    (row,) = book.rows.values()
    assert row["status"] == "ok" and float(row["ex02_1_check"]) == 1 and float(row["ex02_6_check"]) == 3, row
    flags = row["flags"].split(";")
    for cell in ("ex02_1_check", "ex02_6_check"):
        assert f"reference_used:{cell}:helpers.scratch.conv.conv2d" in flags, flags
    assert not any(f.startswith("reference_used:ex02_2") for f in flags)  # conv_output_size was not used
