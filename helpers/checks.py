"""Instant feedback for exercises: a check prints ✅, or stops the cell with ❌ or ⏳.

A check cell in an exercise notebook is also a graded test cell: it passes (the cell runs
without error) only when the answer is right. Expected values are computed by the caller from
the tested reference in ``helpers``, never pasted in.

The exceptions raised here render in Jupyter as a single friendly line instead of a traceback
(IPython calls ``_render_traceback_``), but they are real errors: "Run all" stops there and a
grader scores the cell 0.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

__all__ = ["NotDoneYet", "CheckFailed", "check", "check_function"]


class _Feedback(AssertionError):
    """An assertion whose notebook rendering is its message alone."""

    def _render_traceback_(self) -> list[str]:  # used by IPython instead of a traceback
        return [str(self)]


class NotDoneYet(_Feedback):
    """The exercise still holds its stub (``...`` or ``raise NotImplementedError``)."""


class CheckFailed(_Feedback):
    """The answer was given but is not right."""


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

    Raises:
        NotDoneYet: ``got`` is ``...``.
        CheckFailed: ``got`` differs from ``expected``.
    """
    __tracebackhide__ = True
    if got is Ellipsis:
        raise _not_done(label)
    if _matches(got, expected, atol, rtol):
        print(f"✅ Exercise {label}: correct.")
        return
    lines = [f"❌ Exercise {label}: not yet right. You gave {_describe(got)}."]
    if reveal:
        lines.append(f"Expected {_describe(expected)}.")
    if hint:
        lines.append(f"Hint: {hint}")
    raise CheckFailed("\n".join(lines))


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

    Raises:
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
            raise _not_done(label) from None
        except Exception as exc:  # the student's code crashed: say where, not a traceback
            raise CheckFailed(
                f"❌ Exercise {label}: case {i} of {len(cases)}, {func.__name__}({call}), "
                f"raised {type(exc).__name__}: {exc}"
            ) from None
        expected = reference(*args, **kwargs)
        if not _matches(got, expected, atol, rtol):
            msg = (
                f"❌ Exercise {label}: case {i} of {len(cases)}, {func.__name__}({call}).\n"
                f"Expected {_describe(np.asarray(expected))}.\nGot {_describe(np.asarray(got))}."
            )
            if hint:
                msg += f"\nHint: {hint}"
            raise CheckFailed(msg)
    print(f"✅ Exercise {label}: all {len(cases)} cases match the reference.")


def _short(value: Any) -> str:
    arr = np.asarray(value) if isinstance(value, (list, np.ndarray)) else None
    if arr is not None and arr.ndim > 0:
        return f"<array {arr.shape}>"
    return repr(value)
