"""helpers.checks: instant feedback for exercises."""


import numpy as np
import pytest

from helpers import checks
from helpers.scratch.conv import conv2d


@pytest.fixture(autouse=True)
def grader(monkeypatch):
    """These tests run as a grader (checks raise) unless a test says otherwise with ``student``."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.setenv(checks.GRADING_ENV, "1")


@pytest.fixture
def student(monkeypatch):
    """A student's notebook: neither nbgrader nor the book's grader set their variable."""
    monkeypatch.delenv(checks.GRADING_ENV, raising=False)
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)


def test_check_correct_prints(capsys):
    checks.check("1.1", 115, 115)
    checks.check("1.2", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    assert capsys.readouterr().out.count("✅") == 2


def test_check_not_done_and_wrong():
    with pytest.raises(checks.NotDoneYet, match="Exercise 1.1: not done yet"):
        checks.check("1.1", ..., 115)
    with pytest.raises(checks.CheckFailed, match="You gave 187") as info:
        checks.check("1.1", 187, 115, reveal=False, hint="count the inputs")
    assert "115" not in str(info.value) and "Hint: count the inputs" in str(info.value)
    with pytest.raises(checks.CheckFailed, match="Expected 115"):
        checks.check("1.1", 187, 115)
    with pytest.raises(checks.CheckFailed):  # shape mismatch is wrong, not broadcast
        checks.check("1.3", np.zeros((2, 2)), np.zeros((1, 2, 2)))
    # IPython shows only the message, no traceback
    assert checks.NotDoneYet("x")._render_traceback_() == ["x"]
    assert issubclass(checks.CheckFailed, AssertionError)


def test_check_function():
    def stub(x, k):
        raise NotImplementedError("Exercise 2.3: write your code here")

    def wrong(x, k):
        return conv2d(x, k) + 1

    def crashes(x, k):
        return x[100]

    cases = [((np.eye(4), np.ones((2, 2))), {}), ((np.ones((3, 5)), np.ones((2, 3))), {})]
    checks.check_function("2.3", lambda x, k: conv2d(x, k), conv2d, cases)
    with pytest.raises(checks.NotDoneYet):
        checks.check_function("2.3", stub, conv2d, cases)
    with pytest.raises(checks.CheckFailed, match=r"case 1 of 2, wrong\(<array \(4, 4\)>"):
        checks.check_function("2.3", wrong, conv2d, cases)
    with pytest.raises(checks.CheckFailed, match="raised IndexError"):
        checks.check_function("2.3", crashes, conv2d, cases)


def _stub(x, k):
    raise NotImplementedError("Exercise 2.3: write your code here")


CASES = [((np.eye(4), np.ones((2, 2))), {}), ((np.ones((3, 5)), np.ones((2, 3))), {})]


def test_a_student_sees_every_verdict_printed_and_run_all_goes_on(student, capsys):
    """In JupyterLab nothing raises: ⏳ and ❌ are printed, so "Run all" reaches every exercise."""
    assert not checks.grading()
    assert checks.check("1.1", ..., 115) is None
    checks.check("1.2", 187, 115, hint="count the inputs")
    checks.check("1.3", 187, 115, reveal=False)
    checks.check_function("2.3", _stub, conv2d, CASES)
    checks.check_function("2.4", lambda x, k: conv2d(x, k) + 1, conv2d, CASES)
    checks.check_function("2.5", lambda x, k: x[100], conv2d, CASES)
    checks.check("1.4", 115, 115)
    out = capsys.readouterr().out
    assert "⏳ Exercise 1.1: not done yet" in out and "⏳ Exercise 2.3: not done yet" in out
    # a wrong answer stays visible as ❌ with what was given and, unless hidden, what was expected
    assert "❌ Exercise 1.2: not yet right. You gave 187.\nExpected 115.\nHint: count the inputs" in out
    assert "❌ Exercise 1.3: not yet right. You gave 187." in out and "Expected 115" not in out.split("1.3")[1]
    assert "❌ Exercise 2.4: case 1 of 2" in out and "Got array" in out
    assert "❌ Exercise 2.5: case 1 of 2" in out and "raised IndexError" in out
    assert "✅ Exercise 1.4: correct." in out


@pytest.mark.parametrize("variable, value", [("NBGRADER_EXECUTION", "autograde"), ("NBGRADER_EXECUTION", "validate"),
                                             (checks.GRADING_ENV, "1"), (checks.GRADING_ENV, "true")])
def test_under_a_grader_a_check_that_is_not_right_raises(student, monkeypatch, variable, value):
    """nbgrader marks a cell failed only if it raises; so does the book's reference run."""
    monkeypatch.setenv(variable, value)
    assert checks.grading()
    with pytest.raises(checks.NotDoneYet):
        checks.check("1.1", ..., 115)
    with pytest.raises(checks.CheckFailed, match="You gave 187"):
        checks.check("1.1", 187, 115)
    with pytest.raises(checks.NotDoneYet) as info:
        checks.check_function("2.3", _stub, conv2d, CASES)
    assert info.value.__suppress_context__  # no "During handling of the above exception" chain
    checks.check("1.1", 115, 115)  # a right answer never raises


@pytest.mark.parametrize("value", ["", "0", "false"])
def test_the_grading_variable_off_means_a_student(student, monkeypatch, capsys, value):
    monkeypatch.setenv(checks.GRADING_ENV, value)
    assert not checks.grading()
    checks.check("1.1", ..., 115)
    assert "⏳" in capsys.readouterr().out


def test_the_book_grader_sets_the_variable_in_its_kernels():
    from booktools.grading import bwrap

    assert bwrap.environment("/home")[checks.GRADING_ENV] == "1"


def test_a_wrong_option_is_explained():
    why = {0: "a step's slope is 0 everywhere", "sigmoid": "its slope is at most 0.25"}
    with pytest.raises(checks.CheckFailed, match="Why not: a step's slope is 0 everywhere") as info:
        checks.check("3.6", 0, 3, reveal=False, why=why)
    assert "3" not in str(info.value).split("You gave")[1].split("\n", 1)[1]
    with pytest.raises(checks.CheckFailed, match="at most 0.25"):
        checks.check("3.6", "sigmoid", "relu", reveal=False, why=why)
    with pytest.raises(checks.CheckFailed) as info:  # an option without an explanation
        checks.check("3.6", 2, 3, reveal=False, why=why)
    assert "Why not" not in str(info.value)
    assert checks.explain(np.int64(0), why) == why[0] and checks.explain([1, 2], why) is None


def test_a_right_prediction_is_explained_too(capsys):
    checks.check("1.4", 2, 2, why={2: "Each pixel has its own weights.", 0: "no"})
    assert capsys.readouterr().out.strip() == "✅ Exercise 1.4: correct. Each pixel has its own weights."


def test_several_results_of_different_shapes_are_compared_one_by_one(capsys):
    expected = (np.ones((2, 3)), np.zeros(3), np.arange(3.0))
    checks.check("3.7", (np.ones((2, 3)), np.zeros(3), np.arange(3.0) + 1e-9), expected)
    checks.check_function("3.7", lambda a: (a, a.sum(0)), lambda a: (a, a.sum(0)), [((np.eye(3)[:2],), {})])
    assert capsys.readouterr().out.count("✅") == 2
    with pytest.raises(checks.CheckFailed):
        checks.check("3.7", (np.ones((2, 3)), np.zeros(3), np.arange(3.0) + 1), expected)
    with pytest.raises(checks.CheckFailed):
        checks.check("3.7", (np.ones((2, 3)), np.zeros(3)), expected)
    with pytest.raises(checks.CheckFailed, match="Expected"):
        checks.check_function("3.7", lambda a: (a, a.sum(1)), lambda a: (a, a.sum(0)), [((np.eye(3)[:2],), {})])
