"""Instant feedback for exercises: a check prints ✅, ❌ (with what went wrong) or ⏳.

A check cell in an exercise notebook is also a graded test cell. Expected values are computed by
the caller from the tested reference in ``helpers``, never pasted in.

How a check that is not ✅ ends depends on who runs the notebook:

* **a student** (JupyterLab, Colab): it prints ❌ or ⏳ and returns, so "Run all" goes on to the
  next exercise and nothing shows in a red error box;
* **a grader**: it raises :class:`CheckFailed` or :class:`NotDoneYet` (assertions, rendered in
  Jupyter as their message alone, no traceback), so the cell fails and scores 0. A grader is
  recognised by its environment: ``NBGRADER_EXECUTION`` (set by nbgrader's ``autograde`` and
  ``validate``) or ``CNN_BOOK_GRADING=1`` (set by the book's grader in its kernels, by ``make
  execute`` and by the test suite, so a solution that fails its own check fails loudly).
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import os

import numpy as np

__all__ = ["GRADING_ENV", "NotDoneYet", "CheckFailed", "check", "check_function", "explain", "grading"]

GRADING_ENV = "CNN_BOOK_GRADING"


class _Feedback(AssertionError):
    """An assertion whose notebook rendering is its message alone."""

    def _render_traceback_(self) -> list[str]:  # used by IPython instead of a traceback
        return [str(self)]


class NotDoneYet(_Feedback):
    """The exercise still holds its stub (``...`` or ``raise NotImplementedError``)."""


class CheckFailed(_Feedback):
    """The answer was given but is not right."""


def grading() -> bool:
    """Whether a grader runs this notebook: then a check that is not ✅ raises instead of printing."""
    if os.environ.get("NBGRADER_EXECUTION", "").strip():
        return True
    return os.environ.get(GRADING_ENV, "").strip().lower() not in ("", "0", "false", "no")


def _report(problem: _Feedback) -> None:
    """Say ❌ or ⏳: raise it under a grader, print it for a student (so "Run all" goes on)."""
    __tracebackhide__ = True
    if grading():
        problem.__suppress_context__ = True  # raised from an except block: no "During handling..."
        raise problem
    print(problem)


def _not_done(label: str) -> NotDoneYet:
    return NotDoneYet(
        f"⏳ Exercise {label}: not done yet. Replace the `...` or the "
        "`raise NotImplementedError(...)` above with your answer, run that cell, then this one."
    )


def _matches(got: Any, expected: Any, atol: float, rtol: float) -> bool:
    try:
        got_arr = np.asarray(got, dtype=float)
        exp_arr = np.asarray(expected, dtype=float)
    except (TypeError, ValueError):
        if isinstance(got, (tuple, list)) and isinstance(expected, (tuple, list)):
            # several results of different shapes, e.g. (dx, dgamma, dbeta): one by one
            return len(got) == len(expected) and all(_matches(g, e, atol, rtol) for g, e in zip(got, expected))
        return got == expected
    if got_arr.shape != exp_arr.shape:
        return False
    return bool(np.allclose(got_arr, exp_arr, atol=atol, rtol=rtol))


def _describe(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"array of shape {value.shape}:\n{np.array2string(value, precision=4)}"
    return repr(value)


def check(
    label: str,
    got: Any,
    expected: Any,
    *,
    reveal: bool = True,
    atol: float = 1e-6,
    rtol: float = 1e-6,
    hint: str | None = None,
    why: dict | None = None,
) -> None:
    """Compare a student's answer with the expected value and say so.

    Args:
        label: the exercise number as the notebook shows it, e.g. ``"2.1"``.
        got: the student's answer; ``...`` (Ellipsis) means not answered yet.
        expected: the right answer, computed by the caller from ``helpers``.
        reveal: show the expected value when the answer is wrong (set False for
            pencil-and-paper numbers, so one wrong try does not give the answer away).
        atol, rtol: tolerance for numbers and arrays (shapes must match exactly).
        hint: one sentence shown with a wrong answer.
        why: for a multiple-choice or predict-then-run answer, an explanation of each option,
            keyed by the option (``{0: "a step function's slope is 0: ...", ...}``); a wrong
            answer shows the explanation of the option it chose (never the right one's), a right
            answer the explanation of the right option, if there is one.

    Raises (only under a grader, see :func:`grading`; a student sees the message printed):
        NotDoneYet: ``got`` is ``...``.
        CheckFailed: ``got`` differs from ``expected``.
    """
    __tracebackhide__ = True
    if got is Ellipsis:
        return _report(_not_done(label))
    if _matches(got, expected, atol, rtol):
        because = explain(expected, why)
        print(f"✅ Exercise {label}: correct." + (f" {because}" if because else ""))
        return
    lines = [f"❌ Exercise {label}: not yet right. You gave {_describe(got)}."]
    if reveal:
        lines.append(f"Expected {_describe(expected)}.")
    explanation = explain(got, why)
    if explanation:
        lines.append(f"Why not: {explanation}")
    if hint:
        lines.append(f"Hint: {hint}")
    _report(CheckFailed("\n".join(lines)))


def explain(got: Any, why: dict | None) -> str | None:
    """The explanation ``why`` gives for the option ``got``, or None (no ``why``, or no entry).

    Args:
        got: the student's answer (an option's index or name).
        why: option -> why that option is wrong.
    """
    if not why:
        return None
    try:
        return next((str(text) for option, text in why.items() if _matches(got, option, 0.0, 0.0)), None)
    except Exception:  # an answer that cannot even be compared has no explanation
        return None


def check_function(
    label: str,
    func: Callable,
    reference: Callable,
    cases: Iterable[tuple[tuple, dict]],
    *,
    atol: float = 1e-6,
    rtol: float = 1e-6,
    hint: str | None = None,
) -> None:
    """Call a student's function on several cases and compare with the reference function.

    Args:
        label: the exercise number, e.g. ``"2.3"``.
        func: the student's function.
        reference: the tested implementation from ``helpers`` that gives the expected values.
        cases: ``(args, kwargs)`` pairs to call both with.
        atol, rtol, hint: as in :func:`check`.

    Raises (only under a grader, see :func:`grading`; a student sees the message printed):
        NotDoneYet: ``func`` raises ``NotImplementedError`` (the stub is still there).
        CheckFailed: a case gives a different result, or raises; the message shows the case.
    """
    __tracebackhide__ = True
    cases = list(cases)
    for i, (args, kwargs) in enumerate(cases, start=1):
        call = ", ".join([_short(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()])
        try:
            got = func(*args, **kwargs)
        except NotImplementedError:
            return _report(_not_done(label))
        except Exception as exc:  # the student's code crashed: say where, not a traceback
            return _report(CheckFailed(
                f"❌ Exercise {label}: case {i} of {len(cases)}, {func.__name__}({call}), "
                f"raised {type(exc).__name__}: {exc}"
            ))
        expected = reference(*args, **kwargs)
        if not _matches(got, expected, atol, rtol):
            msg = (
                f"❌ Exercise {label}: case {i} of {len(cases)}, {func.__name__}({call}).\n"
                f"Expected {_describe(_array(expected))}.\nGot {_describe(_array(got))}."
            )
            if hint:
                msg += f"\nHint: {hint}"
            return _report(CheckFailed(msg))
    print(f"✅ Exercise {label}: all {len(cases)} cases match the reference.")


def _array(value: Any) -> Any:
    """``value`` as an array where it is one (not a tuple of arrays of different shapes)."""
    try:
        return np.asarray(value)
    except (TypeError, ValueError):
        return value


def _short(value: Any) -> str:
    arr = np.asarray(value) if isinstance(value, (list, np.ndarray)) else None
    if arr is not None and arr.ndim > 0:
        return f"<array {arr.shape}>"
    return repr(value)
