"""The grader on honest, careless, partial and broken submissions: each gets its exact row.

All the submissions below are graded in one batch (two at a time, in bubblewrap sandboxes), the
infinite loops in a second one with a shorter cell limit, and each test reads its own row. The
assignment is the small one of grading_support.py; the cheats are in test_grading_cheats.py, the
batch mechanics in test_grading_batch.py, the book's own exercises in test_grading_book.py.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading_support import (  # noqa: E402
    ANSWERS, EXERCISE, FULL, INDEX, SETTINGS, SOURCE, all_answers, expect, feedback_of, grade, student)

from booktools.grading.assemble import InvalidNotebook, read_submission  # noqa: E402
from booktools.grading.codec import NotData, decode, dumps, encode, loads  # noqa: E402
from booktools.grading.reference import SourceError, read_hidden_tests  # noqa: E402
from booktools.grading.split import SplitError, Taint, split_cell  # noqa: E402

PART = {k: v for k, v in FULL.items() if k != "ex99_3_check"}  # everything but 99.3


def _strip(nb, *, ids=False, minor=None):
    nb = copy.deepcopy(nb)
    for cell in nb.cells:
        cell.metadata.pop("nbgrader", None)
        if ids:
            cell.pop("id", None)
    if minor is not None:
        nb.nbformat_minor = minor
    return nb


def _json_bytes(nb, edit=None) -> bytes:
    data = json.loads(nbformat.writes(nb))
    if edit:
        edit(data)
    return json.dumps(data, ensure_ascii=True).encode()


def _below_stubs(nb):
    for gid in ("ex99_1_answer", "ex99_2_answer", "ex99_3_answer", "ex99_5_answer"):
        at = next(i for i, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id") == gid)
        nb.cells.insert(at + 1, nbformat.v4.new_code_cell(ANSWERS[gid]))


def _huge():
    nb = all_answers()
    nb.cells[INDEX["ex99_1_answer"]].outputs = [nbformat.v4.new_output("stream", text="x" * (21 * 2**20))]
    return nb


def _surrogate(data):
    data["cells"][INDEX["ex99_3_answer"]]["source"] = "answer_99_3 = 404.2  # \ud800"


def _bad_cell_metadata(data):
    data["cells"][INDEX["ex99_1_answer"]]["metadata"] = "not a dict"


def _bad_nbgrader_metadata(data):
    data["cells"][INDEX["ex99_1_answer"]]["metadata"]["nbgrader"] = ["not", "a", "dict"]
    data["cells"][INDEX["ex99_2_answer"]]["metadata"]["nbgrader"]["grade_id"] = ["unhashable"]


def _moved_and_duplicated(nb):
    twin = copy.deepcopy(nb.cells[INDEX["ex99_3_check"]])
    twin.id = "copy-of-a-test"
    nb.cells.insert(2, twin)


def _forged(nb):
    nb.cells[INDEX["ex99_1_answer"]].metadata["nbgrader"].update(grade=True, points=100)
    nb.cells[INDEX["ex99_2_check"]].metadata["nbgrader"].update(points=50)
    nb.metadata["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}


# name -> (notebook or raw bytes, status, points per test cell, flags that must appear, error text)
CASES = {
    "solution": (SOURCE, "ok", FULL, [], ""),
    "untouched": (EXERCISE, "no_response", {}, [], "no response"),
    "partial": (student({"ex99_1_answer": ANSWERS["ex99_1_answer"]}), "ok", {"ex99_1_check": 2.0}, [], ""),
    "wrong_answer": (all_answers(a1="answer_99_1 = 6"), "ok",
                     {k: v for k, v in FULL.items() if k != "ex99_1_check"}, [], ""),
    "wrong_on_one_case": (all_answers(a2="def double(x):\n    return 7 if isinstance(x, int) else x + x"), "ok",
                          {k: v for k, v in FULL.items() if k != "ex99_2_check"}, [], ""),
    "free_text_only": (student(why="Because weights are shared."), "ok", {}, [], ""),
    "vscode_metadata_stripped": (_strip(all_answers()), "ok", FULL, [], ""),
    "colab_no_ids_nbformat_4_0": (_strip(all_answers(), ids=True, minor=0), "ok", FULL,
                                  ["matched_by_position:ex99_1_answer"], ""),
    "ids_dropped_but_minor_5": (_json_bytes(all_answers(), lambda d: [c.pop("id") for c in d["cells"]]), "ok",
                                FULL, [], ""),
    "answers_below_untouched_stubs": (student(edit=_below_stubs), "ok", FULL, ["answer_below_stub:ex99_1_answer"], ""),
    "answers_below_stubs_no_metadata": (_strip(student(edit=_below_stubs), ids=True, minor=0), "ok", FULL, [], ""),
    "lone_surrogate_in_one_cell": (_json_bytes(all_answers(), _surrogate), "ok", PART, [], ""),
    "syntax_error_in_one_cell": (all_answers(a3="answer_99_3 = (404.2"), "ok", PART, [], ""),
    "malformed_cell_metadata": (_json_bytes(all_answers(), _bad_cell_metadata), "invalid_notebook", {}, [],
                                "not a valid notebook"),
    "malformed_nbgrader_metadata": (_json_bytes(all_answers(), _bad_nbgrader_metadata), "ok", FULL,
                                    ["malformed_nbgrader_metadata"], ""),
    "nbformat_4_0_ids_missing_metadata_kept": (_json_bytes(all_answers(), lambda d: [
        d.update(nbformat_minor=0), *[c.pop("id") for c in d["cells"]]]), "ok", FULL, [], ""),
    "test_cell_edited": (all_answers(a1="answer_99_1 = 1", edit=lambda nb: setattr(nb.cells[INDEX["ex99_1_check"]],
                                                                                     "source", "pass")),
                         "ok", {k: v for k, v in FULL.items() if k != "ex99_1_check"}, [], ""),
    "test_cells_deleted": (student({"ex99_1_answer": "answer_99_1 = -6"},
                                   lambda nb: [nb.cells.pop(INDEX[g]) for g in ("ex99_5_check", "ex99_3_check")]),
                           "ok", {"ex99_1_check": 2.0}, [], ""),
    "test_cell_moved_and_duplicated": (all_answers(edit=_moved_and_duplicated), "ok", FULL, [], ""),
    "metadata_and_points_forged": (student({"ex99_1_answer": "answer_99_1 = -6"}, _forged), "ok",
                                   {"ex99_1_check": 2.0}, [], ""),
    "extra_cells_kept_in_place": (all_answers(a2="def double(x):\n    return helper(x)", edit=lambda nb: nb.cells.insert(
        INDEX["ex99_2_answer"], nbformat.v4.new_code_cell("def helper(x):\n    return x + x"))), "ok", FULL, [], ""),
    "answer_cell_deleted": (all_answers(edit=lambda nb: nb.cells.pop(INDEX["ex99_3_answer"])), "ok", PART,
                            ["missing_answer_cell:ex99_3_answer"], ""),
    "noise_warnings_stderr_tqdm": (all_answers(a2='import sys, warnings\nfrom tqdm.auto import tqdm\n'
                                                  'warnings.warn("careful")\nsys.stderr.write("noise\\n")\n'
                                                  'for _ in tqdm(range(3)):\n    pass\ndef double(x):\n    return 2 * x'),
                                   "ok", FULL, [], ""),
    "output_flood": (all_answers(a1='print("x" * 3_000_000)\nanswer_99_1 = -6'), "ok", FULL, [], ""),
    "numpy_scalar_and_tensor_answers": (all_answers(a1="import numpy as np\nanswer_99_1 = np.int64(-6)",
                                                    a3="import torch\nanswer_99_3 = torch.tensor(404.2)"),
                                        "ok", FULL, [], ""),
    "memory_error_fails_one_cell": (all_answers(a3="import numpy as np\nhog = np.ones(2**31)\nanswer_99_3 = 404.2"),
                                    "ok", PART, [], ""),
    "kernel_crash": (all_answers(a3="import os\nos._exit(1)"), "kernel_died",
                     {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, [], "the kernel died"),
    "too_many_processes": (all_answers(a3='import subprocess, time\nprocs = [subprocess.Popen(["sleep", "30"]) '
                                          'for _ in range(40)]\ntime.sleep(30)'),
                           "process_limit", {"ex99_1_check": 2.0, "ex99_2_check": 3.0}, [], "more than"),
    "another_assignment": (nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "x = 1", metadata={"nbgrader": {"grade_id": "ex42_1_answer", "solution": True}})]),
        "invalid_notebook", {}, [], "is this the right notebook"),
    "truncated_json": (nbformat.writes(SOURCE)[:500].encode(), "invalid_notebook", {}, [], "cut short"),
    "malformed_json": (b'{"cells": [}', "invalid_notebook", {}, [], "malformed JSON"),
    "old_format_v3": (json.dumps({"nbformat": 3, "nbformat_minor": 0, "metadata": {}, "worksheets": []}).encode(),
                      "invalid_notebook", {}, [], "format 3 is not supported"),
    "not_a_notebook": (b"[1, 2, 3]", "invalid_notebook", {}, [], "not a Jupyter notebook"),
    "binary_file": (bytes(range(256)) * 4, "invalid_notebook", {}, [], "not a text file"),
    "empty_file": (b"", "invalid_notebook", {}, [], "file is empty"),
    "huge_notebook": (_huge(), "invalid_notebook", {}, [], "over the 20 MB limit"),
}

# Infinite loops run until the grader stops them at the cell's time limit, each burning a core
# meanwhile: they are graded in a batch of their own with a short limit (the limit's length is not
# what they test), so that the other cases can keep a limit with room for a loaded machine.
LOOP_CELL_TIMEOUT = 5
LOOP_CASES = {
    "infinite_loop": (all_answers(a2="def double(x):\n    while True:\n        pass"), "timeout",
                      {k: v for k, v in FULL.items() if k != "ex99_2_check"}, ["cell_timeout:ex99_2_check"],
                      "ran past its time limit"),
    "loop_ignoring_sigint": (all_answers(a2="import signal\ndef double(x):\n"
                                            "    signal.signal(signal.SIGINT, signal.SIG_IGN)\n    while True:\n        pass"),
                             "timeout", {"ex99_1_check": 2.0}, [], "ran past its time limit"),
}
ALL_CASES = {**CASES, **LOOP_CASES}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    rows, out, _ = grade(tmp_path_factory.mktemp("grading"), {name: case[0] for name, case in CASES.items()})
    return rows, out


@pytest.fixture(scope="module")
def graded_loops(tmp_path_factory):
    settings = SETTINGS.__class__(**{**vars(SETTINGS), "cell_timeout": LOOP_CELL_TIMEOUT})
    rows, out, _ = grade(tmp_path_factory.mktemp("grading-loops"),
                         {name: case[0] for name, case in LOOP_CASES.items()}, settings=settings)
    return rows, out


@pytest.mark.parametrize("name", list(ALL_CASES))
def test_each_submission_gets_its_exact_row(request, name):
    rows, out = request.getfixturevalue("graded_loops" if name in LOOP_CASES else "graded")
    _, status, earned, flags, error = ALL_CASES[name]
    row = rows[name]
    expect(row, status, earned)
    for flag in flags:
        assert flag in row["flags"].split(";"), f"{name}: flags {row['flags']!r} lack {flag}"
    if name in ("solution", "vscode_metadata_stripped", "nbformat_4_0_ids_missing_metadata_kept"):
        assert row["flags"] == "", f"{name}: nothing to flag, yet {row['flags']!r}"
    if error:
        assert error in row["error"], f"{name}: error {row['error']!r}"
    elif status == "ok":
        assert row["error"] == "", row
    assert feedback_of(out, row).startswith("# Feedback: ")


@pytest.mark.parametrize("batch,cases", [("graded", CASES), ("graded_loops", LOOP_CASES)])
def test_gradebook_has_one_row_per_submission_and_the_columns(request, batch, cases):
    rows, out = request.getfixturevalue(batch)
    assert set(rows) == set(cases)
    header = out.read_text(encoding="utf-8").splitlines()[0].split(",")
    assert header == ["submission", "key", "status", "score", "max_score", "ex99_1_check", "ex99_2_check",
                      "ex99_3_check", "ex99_5_check", "ex99_4_why", "needs_manual", "flags", "seconds", "error",
                      "feedback"]
    assert len(out.read_text(encoding="utf-8").splitlines()) == len(cases) + 1


def test_a_loop_is_stopped_at_the_cell_limit_of_its_batch(graded_loops):
    rows, _ = graded_loops
    # the loop that ignores SIGINT runs to the limit, then through the grader's 5 s of grace after
    # the interrupt, and is killed: with the other batch's limit that would take 25 s or more
    seconds = float(rows["loop_ignoring_sigint"]["seconds"])
    assert LOOP_CELL_TIMEOUT + 5 <= seconds < SETTINGS.cell_timeout + 5, rows["loop_ignoring_sigint"]


def test_feedback_shows_results_not_hidden_answers(graded):
    rows, out = graded
    text = feedback_of(out, rows["wrong_answer"])
    assert "❌ ex99_1_check: 0 / 2" in text and "✅ ex99_2_check: 3 / 3" in text and "Score: 6 / 9" in text
    assert "You gave 6" in text and "-6" not in text  # reveal=False: the right answer is not shown
    one_case = feedback_of(out, rows["wrong_on_one_case"])
    assert "case 3 of 3, double(3)" in one_case and "Expected 6" in one_case  # check_function reveals
    assert "⏳ ex99_1_check" in feedback_of(out, rows["free_text_only"])  # stubs read as "not done yet"
    assert "could not be graded" in feedback_of(out, rows["truncated_json"])
    assert "SyntaxError" in feedback_of(out, rows["syntax_error_in_one_cell"])
    assert "lone surrogate" in feedback_of(out, rows["lone_surrogate_in_one_cell"])


def test_free_text_answers_wait_for_manual_grading(graded):
    rows, out = graded
    assert rows["solution"]["needs_manual"] == "ex99_4_why" and rows["solution"]["ex99_4_why"] == ""
    assert float(rows["solution"]["score"]) == 8 and float(rows["solution"]["max_score"]) == 9
    assert rows["free_text_only"]["needs_manual"] == "ex99_4_why"
    assert "needs manual grading" in feedback_of(out, rows["free_text_only"])
    assert rows["partial"]["needs_manual"] == ""  # not answered: nothing to grade by hand


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
    with pytest.raises(SourceError, match="code before the first"):
        read_hidden_tests(path)
    path.write_text("# %% ex1\n# %% ex1\n")
    with pytest.raises(SourceError, match="a second section"):
        read_hidden_tests(path)


def test_codec_round_trip_and_refusals():
    value = {"a": [1, 2.5, float("nan"), None, ..., True, "é\ud800"], (1, 2): {3, 4}, "x": np.arange(6.0).reshape(2, 3),
             "s": np.float32(1.5), "big": 10**30, "c": 1 + 2j}
    back = decode(loads(dumps(encode(value))))
    assert back["a"][:2] == [1, 2.5] and np.isnan(back["a"][2]) and back["a"][3:] == [None, ..., True, "é\ud800"]
    assert back[(1, 2)] == {3, 4} and back["big"] == 10**30 and back["c"] == 1 + 2j
    assert np.array_equal(back["x"], value["x"]) and back["s"] == np.float32(1.5)

    class Sneaky(float):
        pass

    for bad in (Sneaky(1.0), object(), np.array([object()]), lambda: 0):
        with pytest.raises(NotData):
            encode(bad)
    for junk in (["nope"], ["int", 5], ["ndarray", "!!"], {"a": 1}, []):
        with pytest.raises((ValueError, TypeError)):
            decode(junk)


@pytest.mark.parametrize("code, message", [
    ("for v in answer_1:\n    check('x', v, 1)", "loop over the student's values"),
    ("check('x', answer_1, answer_1 + 1)", "expected value must not depend"),
    ("assert answer_1 > 0", "must read `assert ANSWER == EXPECTED`"),
    ("helpers.checks.check('x', answer_1, 1)", "by its bare name"),
    ("x = 1", "no check(...) or check_function(...) call"),
    ("check('x', answer_1 +", "line 1"),
])
def test_cells_the_grader_cannot_split_are_refused_with_the_reason(code, message):
    with pytest.raises(SplitError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        split_cell(code, "ex1_check", Taint({"answer_1"}))


def test_hidden_tests_may_only_name_or_call_the_students_work():
    split = split_cell("assert f(-1) == -2, 'SECRET'\ncheck('h', answer_1, 3)", "hidden:ex1", Taint({"f", "answer_1"}),
                       hidden=True)
    assert [s.code for s in split.sites.values()] == ["f", "answer_1"]
    with pytest.raises(SplitError, match="a hidden test may check only"):
        split_cell("check('h', answer_1 + 1, 3)", "hidden:ex1", Taint({"answer_1"}), hidden=True)


def test_the_comparison_is_the_notebooks_and_never_raises():
    from booktools.grading.judge import matches

    assert matches(-6, -6.0, 1e-6, 1e-6) and matches(np.float32(404.2), 404.2, 1e-6, 1e-6)
    assert matches([{"a.w", "a.b"}], [{"a.b", "a.w"}], 0, 0) and matches("B", "B", 0, 0)
    assert not matches(np.array(["a"]), np.array(["a", "a"]), 0, 0)  # shapes differ
    assert not matches(np.zeros(3), np.zeros((1, 3)), 1, 1) and matches([np.zeros(2)], [np.zeros(2)], 0, 0)
