"""The solution notebooks round-trip through nbgrader, offline, in a temporary course folder.

Every solution notebook's nbgrader metadata is valid; ``nbgrader validate`` passes a solution;
``nbgrader generate_assignment`` (with the repository's nbgrader_config.py) writes exactly the
committed exercise notebook's cells; ``nbgrader autograde`` gives the solution full marks and the
untouched release zero, cell by cell the same points as the project's grader, and both leave the
free-text answer to be graded by hand. Running nbgrader costs about a minute per chapter, so the
default run takes chapter 3 (the one with a free-text answer);
``CNN_BOOK_NBGRADER_ALL=1`` takes all twelve.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading_support import SETTINGS  # noqa: E402  (skips without bubblewrap)

from booktools.grading.grader import grade_batch, submission_key  # noqa: E402

nbgrader = pytest.importorskip("nbgrader")
from nbgrader.api import Gradebook  # noqa: E402
from nbgrader.nbgraderformat import MetadataValidator  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ALL = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))
CHAPTERS = ALL if os.environ.get("CNN_BOOK_NBGRADER_ALL") else ["03_layers"]


def _nbgrader(course: Path, *args: str) -> str:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}  # nbgrader runs alembic
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, env=env, capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done.stdout + done.stderr


@pytest.mark.parametrize("topic", ALL)
def test_solution_metadata_is_valid_for_nbgrader(topic):
    MetadataValidator().validate_nb(nbformat.read(ROOT / "solutions" / f"{topic}.ipynb", as_version=4))


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    config = (ROOT / "nbgrader_config.py").read_text(encoding="utf-8")
    (course / "nbgrader_config.py").write_text(config + f"\nget_config().CourseDirectory.root = {str(course)!r}\n")
    for topic in CHAPTERS:
        (course / "source" / "ps").mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / "solutions" / f"{topic}.ipynb", course / "source" / "ps")
    _nbgrader(course, "generate_assignment", "ps", "--force")
    for student, folder in (("solution", "source"), ("untouched", "release")):
        target = course / "submitted" / student / "ps"
        target.mkdir(parents=True)
        for topic in CHAPTERS:
            shutil.copy(course / folder / "ps" / f"{topic}.ipynb", target)
    _nbgrader(course, "autograde", "ps", "--create", "--force")
    return course


@pytest.mark.parametrize("topic", CHAPTERS)
def test_nbgrader_validate_passes_the_solution(course, topic):
    assert "Success! Your notebook passes all the tests." in _nbgrader(
        course, "validate", str(ROOT / "solutions" / f"{topic}.ipynb"))


@pytest.mark.parametrize("topic", CHAPTERS)
def test_generate_assignment_writes_the_committed_exercise(course, topic):
    release = nbformat.read(course / "release" / "ps" / f"{topic}.ipynb", as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{topic}.ipynb", as_version=4)
    assert [c.source for c in release.cells] == [c.source for c in exercise.cells]
    assert "answer_" not in release.cells[0].source and "— solutions" not in release.cells[0].source


@pytest.mark.parametrize("topic", CHAPTERS)
def test_autograde_and_the_project_grader_agree_cell_by_cell(course, topic, tmp_path):
    subs = {s: course / "submitted" / s / "ps" / f"{topic}.ipynb" for s in ("solution", "untouched")}
    book = grade_batch(ROOT / "solutions" / f"{topic}.ipynb", list(subs.values()), tmp_path / "book.csv", SETTINGS,
                       jobs=2, progress=False)
    rows = {s: next(r for r in book.rows.values() if r["key"] == submission_key(p)[0]) for s, p in subs.items()}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student, row in rows.items():
            graded = gradebook.find_submission_notebook(topic, "ps", student)
            auto = {g.name: g.score for g in graded.grades if not g.needs_manual_grade and g.cell_type == "code"}
            manual = sorted(g.name for g in graded.grades if g.needs_manual_grade)
            ours = {gid: float(row[gid]) for gid in auto}
            assert auto == ours, (student, auto, ours)
            assert manual == sorted(filter(None, row["needs_manual"].split(";"))), (student, manual, row)
            best = {g.name: g.max_score for g in graded.grades}
            if student == "solution":
                assert all(auto[gid] == best[gid] for gid in auto) and float(row["score"]) == sum(auto.values())
            else:
                assert sum(auto.values()) == 0 and float(row["score"]) == 0
    if topic == "03_layers":
        assert rows["solution"]["needs_manual"] == "ex03_6_why"
