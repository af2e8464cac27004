"""The notebooks as a whole: listed in the book, set-up cells current, exercises generated and
runnable untouched. (Chapters and solutions are executed cell by cell by nbval; see pyproject.)

Every notebook runs in the tests' Colab-like runtime, alone in an empty folder with the package
installed by its set-up cell (see the root conftest.py and tests/tools/test_colab_setup.py)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from booktools.book import ROOT, SETUP_TAG, book_setup_cell, repo_url, toc_files
from booktools.grading import generate_all

NOTEBOOK_DIRS = ("chapters", "solutions", "exercises")
NOTEBOOKS = sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).with_suffix("").as_posix()


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found"
    assert EXERCISES, "no exercise notebooks found"


def test_every_notebook_is_in_the_toc_and_every_toc_file_exists():
    listed = toc_files()
    missing_from_toc = [_rel(p) for p in NOTEBOOKS if _rel(p) not in listed]
    assert not missing_from_toc, f"notebooks not listed in _toc.yml: {missing_from_toc}"
    missing_files = [f for f in listed if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not missing_files, f"_toc.yml lists files that do not exist: {missing_files}"


def test_topics_come_in_threes():
    """chapters/NN_x, solutions/NN_x and exercises/NN_x exist together."""
    stems = {d: {p.stem for p in (ROOT / d).glob("*.ipynb")} for d in NOTEBOOK_DIRS}
    assert stems["solutions"] == stems["exercises"]
    assert stems["solutions"] <= stems["chapters"], "every solution notebook needs its chapter"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_setup_cell_is_generated_from_config(path):
    nb = nbformat.read(path, as_version=4)
    cell = nb.cells[1]
    assert cell.cell_type == "code" and cell.source == book_setup_cell(), (
        f"{_rel(path)}: the second cell must be the Colab set-up cell made from _config.yml; "
        "run `make exercises` to refresh it"
    )
    assert SETUP_TAG in cell.metadata.get("tags", [])
    assert repo_url() in cell.source


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_notebook_is_valid_and_committed_outputs_hold_no_error(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    if path.parent.name == "chapters":
        errors = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"
                  and any(o.output_type == "error" for o in c.get("outputs", []))]
        assert not errors, f"{_rel(path)}: committed outputs of cells {errors} are errors"
        counts = [c.execution_count for c in nb.cells if c.cell_type == "code" and c.source.strip()
                  and SETUP_TAG not in c.metadata.get("tags", [])]
        assert None not in counts and counts == sorted(counts), (
            f"{_rel(path)}: not executed top to bottom in one run; run `make execute NB={_rel(path)}.ipynb`"
        )


def test_exercises_are_generated_from_solutions():
    stale = generate_all(ROOT / "solutions", ROOT / "exercises", check=True)
    assert not stale, f"out of date (run `make exercises`): {[str(p) for p in stale]}"


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


@pytest.mark.parametrize("path", sorted((ROOT / "solutions").glob("*.ipynb")), ids=_rel)
def test_solutions_use_nbgrader_metadata(path):
    nb = nbformat.read(path, as_version=4)
    graded = [c for c in nb.cells if _nbgrader(c).get("grade") and not _nbgrader(c).get("solution")]
    answers = [c for c in nb.cells if _nbgrader(c).get("solution")]
    assert graded and answers, f"{_rel(path)} has no exercises"
    ids = [_nbgrader(c)["grade_id"] for c in nb.cells if _nbgrader(c)]
    assert len(ids) == len(set(ids)), f"duplicate grade_id in {_rel(path)}"
    for cell in graded:
        meta = _nbgrader(cell)
        assert meta["schema_version"] == 3 and meta["locked"] and meta["points"] > 0, meta
    for cell in answers:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source


@pytest.fixture
def run_as_handed_out(request, tmp_path, monkeypatch):
    """Runs a notebook the way a student meets it: in the Colab-like runtime (or, with
    CNN_BOOK_TEST_KERNEL=local, this environment's kernel in an empty folder), without the
    graders' variables, so its checks print instead of raising (helpers.checks)."""
    monkeypatch.delenv("CNN_BOOK_GRADING", raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    if os.environ.get("CNN_BOOK_TEST_KERNEL", "").strip().lower() == "local":
        return lambda nb: NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True,
                                         resources={"metadata": {"path": str(tmp_path)}}).execute()
    return request.getfixturevalue("colab_runtime").run


def _stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.mark.parametrize("path", EXERCISES, ids=_rel)
def test_untouched_exercise_runs_all_and_every_check_says_not_done(path, run_as_handed_out):
    """Run the student's notebook as handed out, top to bottom ("Run all"): no cell raises, and
    every check cell prints ⏳ "not done yet" (and no ✅ or ❌)."""
    nb = nbformat.read(path, as_version=4)
    run_as_handed_out(nb)
    problems = []
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            problems.append(f"cell {i} raised {errors[0].ename}: {errors[0].evalue}")
        elif _nbgrader(cell).get("grade"):
            out = _stdout(cell)
            if "⏳" not in out or "not done yet" not in out or "✅" in out or "❌" in out:
                problems.append(f"check cell {i} ({_nbgrader(cell)['grade_id']}): expected ⏳ not done yet, "
                                f"printed {out.strip()[:200]!r}")
    assert not problems, f"{_rel(path)}:\n" + "\n".join(problems)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_rel)
def test_no_saved_widget_state(path):
    """Saved ipywidgets state makes the book load a widget manager from a CDN for nothing."""
    nb = nbformat.read(path, as_version=4)
    assert "widgets" not in nb.metadata, f"{_rel(path)}: run `make execute NB={_rel(path)}.ipynb`"
    views = [i for i, c in enumerate(nb.cells) for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert not views, f"{_rel(path)}: widget views saved in cells {views}"
