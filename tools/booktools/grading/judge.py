"""Verdicts, in the grader's own process: the student's data against the reference run's.

Nothing here runs student code: the student's values arrive as plain data (decoded by
:mod:`booktools.grading.codec` into Python and NumPy objects) and are compared with the expected
values of the trusted reference run using ``helpers.checks``' own rule (same shape, ``allclose``
within the check's tolerances, else ``==``), so a grade agrees with the notebook's ✅ for an
honest student. A check the student's kernel did not report on fails.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from booktools.grading.codec import decode

__all__ = ["Verdict", "judge", "matches"]

NOTE_CHARS = 700


@dataclass
class Verdict:
    passed: bool
    note: str  # one line or a few for the feedback: why it did not pass ("passed" if it did)
    not_done: bool = False


def matches(got, expected, atol: float, rtol: float) -> bool:
    """``helpers.checks``' comparison, never raising, always a bool."""
    from helpers.checks import _matches

    try:
        result = _matches(got, expected, atol, rtol)
        if isinstance(result, np.ndarray):  # == of two arrays of strings: element by element
            return np.shape(got) == np.shape(expected) and bool(result.all())
        return isinstance(result, (bool, np.bool_)) and bool(result)
    except Exception:
        return False


def _show(value) -> str:
    from helpers.checks import _describe

    try:
        text = _describe(np.asarray(value)) if isinstance(value, np.ndarray) else _describe(value)
    except Exception:
        text = f"a {type(value).__name__}"
    return text if len(text) <= 300 else text[:300] + " …"


def _got(record) -> tuple[str, object]:
    """("value", v) | ("not_done", None) | ("error", message) for one record of the student's kernel."""
    if not isinstance(record, dict):
        return "error", "no answer was reported"
    if record.get("not_done"):
        return "not_done", None
    if "got" in record:
        try:
            value = decode(record["got"])
        except (ValueError, TypeError, OverflowError, RecursionError):
            return "error", "the answer could not be read as data"
        return ("not_done", None) if value is Ellipsis else ("value", value)
    error = record.get("error")
    return "error", (error if isinstance(error, str) else "no answer was reported")[:600]


def judge(calls: list[dict], records: list, *, func_names: dict[int, str], stopped: str | None = None,
          hidden: bool = False) -> Verdict:
    """Judge one test cell: ``calls`` from the reference run, ``records`` from the student's kernel.

    Args:
        func_names: site -> the student's function as the test cell names it (for messages).
        stopped: why the student's program did not finish (a time-out, a crash), if it did not.
        hidden: say only whether it passed.
    """
    got, cases, cell_error = {}, {}, None
    for r in records:
        if not isinstance(r, dict):
            continue
        if "cell_error" in r and cell_error is None:
            cell_error = r
        elif isinstance(r.get("site"), int) and isinstance(r.get("inv"), int):
            key = (r["site"], r["inv"])
            if isinstance(r.get("case"), int):
                cases.setdefault(key + (r["case"],), r)
            else:
                got.setdefault(key, r)
    failed = [v for v in (_one(c, got, cases, func_names, cell_error, stopped) for c in calls) if v is not None]
    if not failed:
        return Verdict(True, "passed")
    # a stub left anywhere in the cell is what to say (a check the notebook skips for a stub, behind
    # `if answer is not ...:`, runs here on the stub and fails for that reason)
    verdict = next((v for v in failed if v.not_done), failed[0])
    if hidden:
        return Verdict(False, "hidden tests did not pass", verdict.not_done)
    return Verdict(False, verdict.note[:NOTE_CHARS], verdict.not_done)


def _missing(cell_error, stopped) -> Verdict:
    if isinstance(cell_error, dict):
        if cell_error.get("not_done"):
            return Verdict(False, "⏳ not done yet", True)
        return Verdict(False, f"❌ {str(cell_error.get('cell_error'))[:600]}")
    return Verdict(False, f"not run: {stopped or 'the notebook stopped before this check'}")


def _why(call, value) -> str:
    """The explanation the check gives for the wrong option the student chose, if any."""
    for option, text in call.get("why") or []:
        try:
            if matches(value, decode(option), 0.0, 0.0):
                return f"\nWhy not: {str(text)[:300]}"
        except (ValueError, TypeError, OverflowError, RecursionError):
            continue
    return ""


def _one(call, got, cases, func_names, cell_error, stopped) -> Verdict | None:
    label, key = call["label"], (call["site"], call["inv"])
    hint = f"\nHint: {call['hint']}" if call.get("hint") else ""
    if call["kind"] == "check":
        if key not in got:
            return _missing(cell_error, stopped)
        state, value = _got(got[key])
        if state == "not_done":
            return Verdict(False, f"⏳ Exercise {label}: not done yet.", True)
        if state == "error":
            return Verdict(False, f"❌ Exercise {label}: {value}")
        expected = decode(call["expected"])
        if matches(value, expected, call["atol"], call["rtol"]):
            return None
        text = f"❌ Exercise {label}: not yet right. You gave {_show(value)}."
        if call.get("reveal", True):
            text += f"\nExpected {_show(expected)}."
        return Verdict(False, text + _why(call, value) + hint)
    n, name = len(call["cases"]), func_names.get(call["site"], "your function")
    for i in range(n):
        if key + (i,) not in cases:
            return _missing(cell_error, stopped)
        where = f"case {i + 1} of {n}, {name}({call['calls'][i]})"
        state, value = _got(cases[key + (i,)])
        if state == "not_done":
            return Verdict(False, f"⏳ Exercise {label}: not done yet.", True)
        if state == "error":
            return Verdict(False, f"❌ Exercise {label}: {where}, raised {value}")
        expected = decode(call["expected"][i])
        if not matches(value, expected, call["atol"], call["rtol"]):
            text = f"❌ Exercise {label}: {where}."
            if call.get("reveal", True):
                text += f"\nExpected {_show(expected)}.\nGot {_show(value)}."
            return Verdict(False, text + hint)
    return None
