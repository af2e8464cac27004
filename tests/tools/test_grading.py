"""The grader against honest, partial, broken and adversarial submissions: each gets its exact row.

One small assignment (three exercises, 2 + 3 + 1 points) is written in the real nbgrader format;
every submission below is its exercise notebook edited the way a student (or an attacker) would.
All of them are graded in one batch (two at a time) and each test reads its own row.
"""

from __future__ import annotations

import copy
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest

from booktools.grading.assemble import InvalidNotebook, read_hidden_tests, read_submission
from booktools.grading.generate import generate_exercise
from booktools.grading.grader import GradeSettings, feedback_path, grade_batch, risky_constructs

TESTS = {"ex99_1_check": 2.0, "ex99_2_check": 3.0, "ex99_3_check": 1.0}
FULL = {"ex99_1_check": 2.0, "ex99_2_check": 3.0, "ex99_3_check": 1.0}


def _meta(**kw):
    return {"nbgrader": {"schema_version": 3, "task": False, **kw}}


def _answer(gid):
    return _meta(solution=True, grade=False, locked=False, grade_id=gid)


def _test(gid, points):
    return _meta(solution=False, grade=True, locked=True, points=points, grade_id=gid)


def make_source() -> nbformat.NotebookNode:
    new_code, new_md = nbformat.v4.new_code_cell, nbformat.v4.new_markdown_cell
    cells = [
        new_md("# Exercises 99 · Fixture — solutions"),
        new_code("import numpy as np\nfrom helpers.checks import check, check_function\nfrom helpers.ops import conv2d"),
        new_md("## Exercises\n\n### Exercise 99.1"),
        new_code("### BEGIN SOLUTION\nanswer_99_1 = -6\n### END SOLUTION", metadata=_answer("ex99_1_answer")),
        new_code("check('99.1', answer_99_1, conv2d(np.arange(1, 10).reshape(3, 3), [[1, 0, -1]] * 3).item(), reveal=False)",
                 metadata=_test("ex99_1_check", 2)),
        new_code('def double(x):\n    """Twice x."""\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION',
                 metadata=_answer("ex99_2_answer")),
        new_code("check_function('99.2', double, lambda x: 2 * x, [((3,), {}), ((np.arange(4),), {})])",
                 metadata=_test("ex99_2_check", 3)),
        new_code("### BEGIN SOLUTION\nanswer_99_3 = 404.2\n### END SOLUTION", metadata=_answer("ex99_3_answer")),
        new_code("check('99.3', answer_99_3, round(307200 / 760, 1), reveal=False)", metadata=_test("ex99_3_check", 1)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


SOURCE = make_source()
EXERCISE = generate_exercise(SOURCE)
ANSWERS = {3: "answer_99_1 = -6", 5: 'def double(x):\n    """Twice x."""\n    return 2 * x', 7: "answer_99_3 = 404.2"}


def student(answers: dict[int, str] | None = None, edit=None) -> nbformat.NotebookNode:
    """The exercise notebook with some answer cells filled in, then optionally edited further."""
    nb = copy.deepcopy(EXERCISE)
    for index, text in (answers or {}).items():
        nb.cells[index].source = text
    if edit:
        edit(nb)
    return nb


def all_answers(**override) -> dict[int, str]:
    return {**ANSWERS, **{int(k[1:]): v for k, v in override.items()}}


def _copy_with_new_id(cell):
    twin = copy.deepcopy(cell)
    twin.id = "duplicate-of-a-test"
    return twin


def _insert(index, source):
    return lambda nb: nb.cells.insert(index, nbformat.v4.new_code_cell(source))


# name -> (notebook or raw bytes, expected status, expected per-cell points, flags that must appear,
#          text the error column must contain)
CASES = {
    "solution": (SOURCE, "ok", FULL, [], ""),
    "untouched": (EXERCISE, "no_response", {}, [], "no response"),
    "partial": (student({3: "answer_99_1 = -6"}), "ok", {"ex99_1_check": 2.0}, [], ""),
    "wrong_answer": (student(all_answers(a3="answer_99_1 = 6")), "ok", {"ex99_2_check": 3.0, "ex99_3_check": 1.0}, [], ""),
    "fake_checkmark_printed": (
        student(all_answers(a3='answer_99_1 = 0\nprint("✅ Exercise 99.1: correct.")')), "ok",
        {"ex99_2_check": 3.0, "ex99_3_check": 1.0}, [], ""),
    "test_cell_edited": (student(all_answers(a3="answer_99_1 = 1"), lambda nb: setattr(nb.cells[4], "source", "pass")),
                         "ok", {"ex99_2_check": 3.0, "ex99_3_check": 1.0}, [], ""),
    "test_cells_deleted": (student({3: "answer_99_1 = -6"}, lambda nb: [nb.cells.pop(i) for i in (8, 6, 4)]),
                           "ok", {"ex99_1_check": 2.0}, [], ""),
    "test_cell_commented_out": (
        student(all_answers(a7="answer_99_3 = 1"), lambda nb: setattr(nb.cells[8], "source", "# " + nb.cells[8].source)),
        "ok", {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, [], ""),
    "test_cell_moved_and_duplicated": (
        student(all_answers(), lambda nb: nb.cells.insert(2, _copy_with_new_id(nb.cells[8]))), "ok", FULL, [], ""),
    "metadata_and_points_forged": (
        student({3: "answer_99_1 = -6"}, lambda nb: (
            nb.cells[3].metadata["nbgrader"].update(grade=True, points=100),
            nb.cells[6].metadata["nbgrader"].update(points=50),
            nb.metadata.update(kernelspec={"name": "ir", "display_name": "R", "language": "R"}))),
        "ok", {"ex99_1_check": 2.0}, [], ""),
    "extra_cells_kept_in_place": (
        student(all_answers(a5="def double(x):\n    return helper(x)"), _insert(5, "def helper(x):\n    return x + x")),
        "ok", FULL, [], ""),
    "answer_cell_deleted": (student(all_answers(), lambda nb: nb.cells.pop(7)), "ok",
                            {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, ["missing_answer_cell:ex99_3_answer"], ""),
    "noise_warnings_stderr_tqdm": (
        student(all_answers(a5='import sys, warnings\nfrom tqdm.auto import tqdm\nwarnings.warn("careful")\n'
                               'sys.stderr.write("noise\\n")\nfor _ in tqdm(range(3)):\n    pass\n'
                               'def double(x):\n    return 2 * x')), "ok", FULL, [], ""),
    "output_flood": (student(all_answers(a3='print("x" * 2_000_000)\nanswer_99_1 = -6')), "ok", FULL,
                     ["output_truncated"], ""),
    "fd_level_stderr_flood": (student(all_answers(a3='import os\nfor _ in range(64):\n    os.write(2, b"e" * 65536)\nanswer_99_1 = -6')),
                              "ok", FULL, [], ""),
    "reads_solutions_by_relative_path": (
        student(all_answers(a3='answer_99_1 = open("../solutions/99_fixture.ipynb").read()')), "ok",
        {"ex99_2_check": 3.0, "ex99_3_check": 1.0}, ["file_access"], ""),
    "huge_file_write": (
        student(all_answers(a7='open("big.bin", "wb").write(b"0" * (100 * 2**20))\nanswer_99_3 = 404.2')), "ok",
        {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, ["file_access"], ""),
    "infinite_loop": (student(all_answers(a5="def double(x):\n    while True:\n        pass")), "timeout",
                      {"ex99_1_check": 2.0}, [], "time limit reached in cell"),
    "loop_ignoring_sigint": (
        student(all_answers(a5="import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                               "def double(x):\n    while True:\n        pass")),
        "timeout", {"ex99_1_check": 2.0}, ["low_level"], "time limit reached"),
    "memory_blowup": (student(all_answers(a7="import numpy as np\nhog = np.ones(2**31)\nanswer_99_3 = 404.2")),
                      "memory", {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, [], "memory limit"),
    "kernel_crash": (student(all_answers(a7="import os\nos._exit(1)")), "kernel_died",
                     {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, [], "the kernel died"),
    "too_many_processes": (
        student(all_answers(a7='import subprocess\nprocs = [subprocess.Popen(["sleep", "30"]) for _ in range(40)]\n'
                               'import time\ntime.sleep(30)')),
        "process_limit", {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, ["process_spawn"], "more than"),
    "input_transformer": (
        student(all_answers(a3="answer_99_1 = 0\nget_ipython().input_transformers_cleanup.append("
                               "lambda lines: ['pass\\n'] if any('check(' in l for l in lines) else lines)")),
        "tampered", {}, ["kernel_hooks"], "input transformers"),
    "event_hook": (student(all_answers(a3="answer_99_1 = -6\nget_ipython().events.register('post_run_cell', lambda r: None)")),
                   "tampered", {}, ["kernel_hooks"], "event callbacks"),
    "traceback_printer_patched": (
        student(all_answers(a3="answer_99_1 = 0\nip = get_ipython()\nip.showtraceback = lambda *a, **k: print('✅')")),
        "tampered", {}, ["kernel_hooks", "traceback_patch"], "shell methods"),
    "builtins_patched": (student(all_answers(a3="import builtins\nbuiltins.AssertionError = Warning\nanswer_99_1 = 0")),
                         "tampered", {}, ["builtins_patch"], "builtins"),
    "check_redefined": (
        student(all_answers(a3="answer_99_1 = 0\ndef check(*args, **kwargs):\n    print('✅ correct')")),
        "tampered", {}, ["test_helper_access"], "replaced: check"),
    "helpers_module_patched": (
        student(all_answers(a3="answer_99_1 = 0\nimport helpers.ops\nhelpers.ops.conv2d = lambda *a, **k: __import__('numpy').zeros((1, 1))")),
        "tampered", {}, ["dynamic_code"], "helpers.ops.conv2d"),
    "patch_when_called_by_test": (
        student(all_answers(a5="def double(x):\n    import helpers.checks as hc\n    hc._matches = lambda *a: True\n    return 0")),
        "tampered", {}, ["test_helper_access"], "helpers.checks._matches"),
    "another_assignment": (nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1", metadata=_answer("ex42_1_answer"))]),
                           "invalid_notebook", {}, [], "is this the right notebook"),
    "truncated_json": (nbformat.writes(SOURCE)[:500].encode(), "invalid_notebook", {}, [], "cut short"),
    "malformed_json": (b'{"cells": [}', "invalid_notebook", {}, [], "malformed JSON"),
    "old_format_v3": (json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode(),
                      "invalid_notebook", {}, [], "format 3 is not supported"),
    "not_a_notebook": (b"[1, 2, 3]", "invalid_notebook", {}, [], "not a Jupyter notebook"),
    "binary_file": (bytes(range(256)) * 4, "invalid_notebook", {}, [], "not a text file"),
    "empty_file": (b"", "invalid_notebook", {}, [], "file is empty"),
    "huge_notebook": (None, "invalid_notebook", {}, [], "over the 20 MB limit"),
}

SETTINGS = GradeSettings(cell_timeout=6, timeout=60, memory_mb=2048, max_processes=24)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("grading")
    (root / "solutions").mkdir()
    nbformat.write(SOURCE, root / "solutions" / "99_fixture.ipynb")
    subs = root / "submissions"
    subs.mkdir()
    paths = []
    for name, (content, *_rest) in CASES.items():
        path = subs / f"{name}.ipynb"
        if content is None:  # a 21 MB notebook (a huge output left in)
            nb = student(all_answers())
            nb.cells[3].outputs = [nbformat.v4.new_output("stream", text="x" * (21 * 2**20))]
            nbformat.write(nb, path)
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            nbformat.write(content, path)
        paths.append(path)
    out = root / "gradebook.csv"
    cwd = os.getcwd()
    os.chdir(subs)  # the grader must not depend on where it is run from
    try:
        grade_batch(root / "solutions" / "99_fixture.ipynb", paths, out, SETTINGS, jobs=2, progress=False)
    finally:
        os.chdir(cwd)
    with open(out, newline="", encoding="utf-8") as f:
        rows = {Path(r["submission"]).stem: r for r in csv.DictReader(f)}
    return rows, out, root, paths


@pytest.mark.parametrize("name", list(CASES))
def test_each_submission_gets_its_exact_row(graded, name):
    rows, out, _, _ = graded
    _, status, earned, flags, error = CASES[name]
    row = rows[name]
    assert row["status"] == status, f"{name}: {row}"
    expected_cells = {gid: earned.get(gid, 0.0) for gid in TESTS}
    assert {gid: float(row[gid]) for gid in TESTS} == expected_cells, f"{name}: {row}"
    assert float(row["score"]) == sum(expected_cells.values())
    assert float(row["max_score"]) == 6.0
    for flag in flags:
        assert flag in row["flags"].split(";"), f"{name}: flags {row['flags']!r} lack {flag}"
    if error:
        assert error in row["error"], f"{name}: error {row['error']!r}"
    elif status == "ok":
        assert row["error"] == ""
    assert feedback_path(out, row["submission"]).exists()


def test_gradebook_has_every_row_and_columns(graded):
    rows, out, _, _ = graded
    assert set(rows) == set(CASES)
    with open(out, newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    assert header == ["submission", "status", "score", "max_score", *TESTS, "flags", "seconds", "error"]


def test_feedback_shows_results_not_answers(graded):
    rows, out, _, _ = graded
    text = feedback_path(out, rows["wrong_answer"]["submission"]).read_text()
    assert "❌ ex99_1_check: 0 / 2" in text and "✅ ex99_2_check: 3 / 3" in text and "Score: 4 / 6" in text
    assert "-6" not in text  # reveal=False: the right answer is not shown
    assert "could not be graded" in feedback_path(out, rows["truncated_json"]["submission"]).read_text()


def test_rerun_resumes_and_skips_finished_submissions(graded, monkeypatch):
    rows, out, root, paths = graded
    import booktools.grading.grader as grader

    def must_not_run(*args, **kwargs):
        raise AssertionError("a finished submission was graded again")

    monkeypatch.setattr(grader, "grade_one", must_not_run)
    book = grade_batch(root / "solutions" / "99_fixture.ipynb", paths, out, SETTINGS, progress=False)
    assert set(book.rows) == {str(p) for p in paths}


def test_hidden_tests_count_but_are_never_revealed(tmp_path):
    nbformat.write(SOURCE, tmp_path / "source.ipynb")
    hidden = tmp_path / "hidden.py"
    hidden.write_text("# Hidden tests: instructor only.\n# %% ex99_2_check\nassert double(-1) == -2, 'SECRET-NEGATIVE-CASE'\n")
    honest, cheat = tmp_path / "honest.ipynb", tmp_path / "cheat.ipynb"
    nbformat.write(student(all_answers()), honest)
    nbformat.write(student(all_answers(a5="def double(x):\n    return abs(2 * x)")), cheat)
    out = tmp_path / "book.csv"
    book = grade_batch(tmp_path / "source.ipynb", [honest, cheat], out, SETTINGS, hidden_path=hidden, progress=False)
    assert float(book.rows[str(honest)]["score"]) == 6.0
    assert float(book.rows[str(cheat)]["score"]) == 3.0 and float(book.rows[str(cheat)]["ex99_2_check"]) == 0.0
    text = feedback_path(out, str(cheat)).read_text()
    assert "hidden tests did not pass" in text and "SECRET" not in text and "double(-1)" not in text
    assert "SECRET" not in out.read_text()


def test_interrupted_run_leaves_a_valid_csv_and_resumes(tmp_path):
    nbformat.write(SOURCE, tmp_path / "source.ipynb")
    subs = []
    for i in range(4):
        subs.append(tmp_path / f"s{i}.ipynb")
        nbformat.write(student(all_answers()), subs[-1])
    out = tmp_path / "book.csv"
    cmd = [sys.executable, "-m", "booktools.grading", "grade", "--source", str(tmp_path / "source.ipynb"),
           "--out", str(out), "--quiet", *map(str, subs)]
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not (out.exists() and len(out.read_text().splitlines()) >= 2):
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    with open(out, newline="") as f:
        first = list(csv.DictReader(f))
    assert 1 <= len(first) < 4 and all(r["status"] == "ok" for r in first)
    subprocess.run(cmd, check=True)
    with open(out, newline="") as f:
        rows = list(csv.DictReader(f))
    assert sorted(r["submission"] for r in rows) == sorted(map(str, subs))
    assert all(float(r["score"]) == 6.0 for r in rows)


def test_gradebook_of_another_assignment_is_refused(tmp_path):
    nbformat.write(SOURCE, tmp_path / "source.ipynb")
    out = tmp_path / "book.csv"
    out.write_text("submission,status,score\nx,ok,1\n")
    with pytest.raises(ValueError, match="written for another assignment"):
        grade_batch(tmp_path / "source.ipynb", [], out, SETTINGS, progress=False)


def test_read_submission_reasons(tmp_path):
    path = tmp_path / "x.ipynb"
    path.write_text('{"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "bogus"}]}')
    with pytest.raises(InvalidNotebook, match="not a valid notebook"):
        read_submission(path)
    with pytest.raises(InvalidNotebook, match="cannot read the file"):
        read_submission(tmp_path / "missing.ipynb")


def test_hidden_test_file_format(tmp_path):
    path = tmp_path / "h.py"
    path.write_text("# comment\n# %% ex1\nassert 1\n# %% ex2\nassert 2\n")
    assert read_hidden_tests(path) == {"ex1": "assert 1\n", "ex2": "assert 2\n"}
    path.write_text("assert 0\n# %% ex1\n")
    with pytest.raises(ValueError, match="code before the first"):
        read_hidden_tests(path)
    path.write_text("# %% ex1\n# %% ex1\n")
    with pytest.raises(ValueError, match="a second section"):
        read_hidden_tests(path)


def test_risky_constructs_ignore_comments():
    assert risky_constructs(["# get_ipython() in a comment\nx = 1"]) == []
    assert risky_constructs(["import subprocess"]) == ["process_spawn"]


def test_wall_clock_is_enforced_from_outside(tmp_path):
    """A per-cell limit longer than the notebook's: the grader kills the whole process group."""
    nbformat.write(SOURCE, tmp_path / "source.ipynb")
    sub = tmp_path / "stuck.ipynb"
    nbformat.write(student(all_answers(a3="import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                          "while True:\n    time.sleep(0.01)")), sub)
    settings = GradeSettings(cell_timeout=300, timeout=12)
    started = time.monotonic()
    book = grade_batch(tmp_path / "source.ipynb", [sub], tmp_path / "book.csv", settings, progress=False)
    assert time.monotonic() - started < 60
    row = book.rows[str(sub)]
    assert row["status"] == "timeout" and float(row["score"]) == 0.0, row


# ---------------------------------------------------------------------------------------------
# The book's own exercises: solutions get full marks, untouched exercises 0 with "no response",
# half-done submissions exactly the points of the exercises they did.
# ---------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
REAL = sorted(p.stem for p in (ROOT / "solutions").glob("*.ipynb"))


def _exercise_of(grade_id: str) -> str:
    return grade_id.rsplit("_", 1)[0] if grade_id.count("_") >= 2 else grade_id


@pytest.mark.parametrize("topic", REAL)
def test_book_exercises_grade_as_expected(topic, tmp_path):
    source_path = ROOT / "solutions" / f"{topic}.ipynb"
    solution = nbformat.read(source_path, as_version=4)
    exercise = nbformat.read(ROOT / "exercises" / f"{topic}.ipynb", as_version=4)
    answers = [c for c in solution.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]
    tests = {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
             for c in solution.cells if c.metadata.get("nbgrader", {}).get("grade")}
    # half done: the first half of the answer cells copied from the solution
    done = {c.metadata["nbgrader"]["grade_id"]: c.source for c in answers[: len(answers) // 2]}
    half = copy.deepcopy(exercise)
    for cell in half.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in done:
            cell.source = generate_exercise_free(done[gid])
    done_exercises = {_exercise_of(g) for g in done}
    expected_half = sum(p for g, p in tests.items() if _exercise_of(g) in done_exercises)
    assert 0 < expected_half < sum(tests.values())
    paths = {"solution": tmp_path / "solution.ipynb", "untouched": tmp_path / "untouched.ipynb",
             "half": tmp_path / "half.ipynb"}
    nbformat.write(solution, paths["solution"])
    nbformat.write(exercise, paths["untouched"])
    nbformat.write(half, paths["half"])
    book = grade_batch(source_path, list(paths.values()), tmp_path / "book.csv", GradeSettings(), jobs=2, progress=False)
    rows = {Path(k).stem: v for k, v in book.rows.items()}
    assert rows["solution"]["status"] == "ok" and float(rows["solution"]["score"]) == sum(tests.values()), rows["solution"]
    assert rows["untouched"]["status"] == "no_response" and float(rows["untouched"]["score"]) == 0
    assert "no response" in rows["untouched"]["error"]
    assert rows["half"]["status"] == "ok" and float(rows["half"]["score"]) == expected_half, rows["half"]


def generate_exercise_free(source: str) -> str:
    """A solution answer cell as a student would submit it: without the nbgrader markers."""
    return "\n".join(line for line in source.splitlines() if "### BEGIN SOLUTION" not in line
                     and "### END SOLUTION" not in line)
