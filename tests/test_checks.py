"""helpers.checks: instant feedback for exercises."""


import numpy as np
import pytest

from helpers import checks
from helpers.scratch.conv import conv2d


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
