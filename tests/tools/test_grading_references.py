"""The references each exercise names, and the flag for a submission that uses them."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import nbformat
import pytest

from booktools.grading.assemble import grade_id, meta
from booktools.grading.references import named_references, reference_flags

ROOT = Path(__file__).resolve().parents[2]

SETUP = "import numpy as np\nfrom helpers.checks import check, check_function\nfrom helpers.scratch.pool import max_pool2d\n"
ANSWER = "def my_conv(image, kernel):\n    ### BEGIN SOLUTION\n    return image\n    ### END SOLUTION\n"
TEST = '''def reference_conv(image, kernel):
    from helpers.scratch.conv import conv2d  # imported here, not into the notebook
    return conv2d(image, kernel)

cases = [((np.eye(3), np.ones((2, 2))), {})]
check_function("9.1", my_conv, reference_conv, cases)
del reference_conv
'''
TEST_VALUE = 'check("9.2", answer_9_2, max_pool2d(np.eye(4), 2).sum(), reveal=False)\n'
ANSWER_VALUE = "### BEGIN SOLUTION\nanswer_9_2 = 2\n### END SOLUTION\n"
CELLS = [("source", SETUP, None), ("answer", ANSWER, "a1"), ("test", TEST, "t1"),
         ("answer", ANSWER_VALUE, "a2"), ("test", TEST_VALUE, "t2")]


def test_a_test_cell_names_the_helpers_that_compute_its_expected_side():
    refs = named_references(CELLS)
    assert refs == {"t1": {"helpers.scratch.conv.conv2d"}, "t2": {"helpers.scratch.pool.max_pool2d"}}


def test_helpers_the_solution_uses_are_tools_not_references():
    cells = CELLS[:1] + [("answer", "def my_conv(image, kernel):\n    from helpers.scratch.conv import conv2d\n"
                                    "    return conv2d(image, kernel)\n", "a1")] + CELLS[2:]
    assert "t1" not in named_references(cells)


@pytest.mark.parametrize("student, flagged", [
    ("def my_conv(image, kernel):\n    return image\n", []),
    ("from helpers.scratch.conv import conv2d\ndef my_conv(image, kernel):\n    return conv2d(image, kernel)\n",
     ["reference_used:t1:helpers.scratch.conv.conv2d"]),
    ("from helpers.scratch.conv import conv2d as c\nmy_conv = c\n", ["reference_used:t1:helpers.scratch.conv.conv2d"]),
    ("import helpers.scratch.conv as m\nmy_conv = m.conv2d\n", ["reference_used:t1:helpers.scratch.conv.conv2d"]),
    ("import importlib\nmy_conv = getattr(importlib.import_module('helpers.scratch.conv'), 'conv2d')\n",
     ["reference_used:t1:helpers.scratch.conv.conv2d"]),
    ("answer_9_2 = max_pool2d(np.eye(4), 2).sum()\n", ["reference_used:t2:helpers.scratch.pool.max_pool2d"]),
    ("def max_pool2d(x, k):\n    return x\nanswer_9_2 = max_pool2d(np.eye(4), 2).sum()\n", []),  # their own
    ("this is not Python (\n", []),
])
def test_a_submission_that_reaches_a_reference_is_flagged(student, flagged):
    assert reference_flags([student], [SETUP], named_references(CELLS)) == flagged


def test_every_chapter_names_references_and_its_solution_is_not_flagged():
    named = 0
    for path in sorted((ROOT / "solutions").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        cells = [("test" if meta(c).get("grade") and not meta(c).get("solution") else
                  "answer" if meta(c).get("solution") else "source", c.source, grade_id(c))
                 for c in nb.cells if c.cell_type == "code"]
        refs = named_references(cells)
        named += len(refs)
        answers = [s for k, s, _ in cells if k == "answer"]
        setup = [s for k, s, _ in cells if k == "source"]
        assert reference_flags(answers, setup, refs) == [], path.name
    assert named >= 20


def test_the_grader_feedback_explains_the_wrong_option_chosen():
    from booktools.grading.codec import encode
    from booktools.grading.judge import judge

    call = {"kind": "check", "label": "3.6", "site": 0, "inv": 0, "atol": 0.0, "rtol": 0.0, "reveal": False,
            "hint": None, "expected": encode(3), "why": [[encode(1), "its slope is at most 0.25"]]}
    verdict = judge([call], [{"site": 0, "inv": 0, "got": encode(1)}], func_names={})
    assert not verdict.passed and "Why not: its slope is at most 0.25" in verdict.note and "Expected" not in verdict.note
    verdict = judge([call], [{"site": 0, "inv": 0, "got": encode(2)}], func_names={})
    assert not verdict.passed and "Why not" not in verdict.note
    assert judge([call], [{"site": 0, "inv": 0, "got": encode(3)}], func_names={}).passed


def test_what_a_check_imports_for_itself_is_a_reference_whatever_its_package():
    test = ('def expected_9_3():\n    from torchvision.ops import box_iou  # imported here only\n'
            '    return box_iou(a, b)\n\ncheck("9.3", answer_9_3, expected_9_3())\n')
    cells = [("source", "import torch\n", None), ("answer", "answer_9_3 = 0.5\n", "a"), ("test", test, "t")]
    refs = named_references(cells)
    assert refs == {"t": {"torchvision.ops.box_iou"}}
    assert reference_flags(["from torchvision.ops import box_iou\nanswer_9_3 = box_iou(x, y)\n"], [], refs) == [
        "reference_used:t:torchvision.ops.box_iou"]
    assert reference_flags(["import torchvision\nanswer_9_3 = torchvision.ops.box_iou(x, y)\n"], [], refs) == [
        "reference_used:t:torchvision.ops.box_iou"]
    assert reference_flags(["answer_9_3 = 1 / 3\n"], [], refs) == []


class _Cycle:
    """Garbage the cyclic collector frees, whose finalizer lets another thread run."""

    def __init__(self):
        self.me = self

    def __del__(self):
        time.sleep(0)


def test_submissions_scanned_on_several_threads_at_once_do_not_corrupt_the_parser():
    """The grader scans submissions on threads (--jobs); on CPython 3.11 two syntax trees built at
    once, with a collection in between that lets the other thread in, failed one submission with
    "SystemError: AST constructor recursion depth mismatch" (python/cpython#106905). Without the
    scan's lock this fails in the first scans here (python 3.11.7)."""
    student = "\n".join(f"def f{i}(x):\n    return [(a, b) for a in range(x) for b in {{'k': (1, [2, {{3: 4}}])}}]"
                        for i in range(100))
    refs, errors = named_references(CELLS), []

    def scan():
        for _ in range(10):
            [_Cycle() for _ in range(200)]
            try:
                reference_flags([student], [SETUP], refs)
            except SystemError as exc:
                errors.append(str(exc))
                return

    threads = [threading.Thread(target=scan) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
