"""Grade one submission: rebuild it, run it in its own sandboxed kernel, judge each test cell.

The kernel runs the instructor's set-up cells, the student's answer and extra cells, and, in place
of each test cell, that cell's *student-side program* (:mod:`booktools.grading.reference`): it
only evaluates the student's side of each check and publishes it as data. Hidden tests' programs
run last. The verdicts are reached here, in the grader's process (:mod:`booktools.grading.judge`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from booktools.grading.assemble import InvalidNotebook, plan_submission, read_submission
from booktools.grading.judge import judge
from booktools.grading.reference import HIDDEN, Assignment, bootstrap
from booktools.grading.references import reference_flags
from booktools.grading.sandbox import Kernel, Limits

__all__ = ["GradeSettings", "grade_submission"]


@dataclass
class GradeSettings:
    """Limits for one submission (the command line's options)."""

    cell_timeout: float = 60.0
    timeout: float = 600.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 64
    disk_mb: int = 256
    max_notebook_bytes: int = 20 * 2**20
    allow_weak_isolation: bool = False


STOPS = {"died": "kernel_died", "memory": "memory", "process_limit": "process_limit", "timeout": "timeout"}


def _what(cell) -> str:
    return {"answer": f"answer cell {cell.grade_id}", "test": f"test cell {cell.grade_id}",
            "extra": "one of your own cells", "source": "an instructor's cell"}[cell.kind]


def grade_submission(path: Path, display: str, assignment: Assignment, settings: GradeSettings,
                     isolation: str, cpu: int | None = None, zygote=None) -> dict:
    """Grade one file. Returns the result: status, score, per-cell points, notes, feedback text.

    ``zygote`` (a :class:`booktools.grading.zygote.Zygote`): fork the kernel from it into the
    submission's own sandbox instead of starting a new Python (same sandbox, less start-up)."""
    started = time.monotonic()
    result = {"submission": display, "status": "ok", "score": 0.0, "max_score": assignment.max_score,
              "cells": {g: 0.0 for g in assignment.tests}, "notes": {}, "flags": [], "error": "",
              "needs_manual": [], "cell_errors": [], "max_points": dict(assignment.tests)}
    try:
        plan = plan_submission(read_submission(path, max_bytes=settings.max_notebook_bytes), assignment.exercise)
    except InvalidNotebook as exc:
        result.update(status="invalid_notebook", error=str(exc))
        return _finish(result, started)
    result["flags"] = plan.flags + reference_flags(
        [c.source for c in plan.cells if c.kind in ("answer", "extra") and (c.kind == "extra" or c.grade_id in plan.answered)],
        [c.source for c in plan.cells if c.kind == "source"], assignment.references)
    result["needs_manual"] = [g for g in assignment.manual if g in plan.answered]
    if not plan.answered:
        result.update(status="no_response", error="no response: every answer cell is as handed out")
        return _finish(result, started)

    records: dict[str, list] = {}
    stopped, end = None, "ok"
    limits = Limits(settings.memory_mb, settings.disk_mb, settings.max_file_mb, settings.max_processes, cpu)
    deadline = started + settings.timeout
    with Kernel(limits, isolation=isolation, inputs=assignment.inputs, zygote=zygote) as kernel:
        boot = kernel.execute(bootstrap("student", kernel.inputs_inside), 120, store_history=False)
        if boot.status != "ok":
            raise RuntimeError(f"the grader's agent did not start ({boot.status}: {boot.ename} {boot.evalue})")
        hidden = [c for c in assignment.tests if HIDDEN + c in assignment.programs]
        todo = [(c.kind, c.grade_id, c) for c in plan.cells] + [("hidden", HIDDEN + g, None) for g in hidden]
        for kind, gid, cell in todo:
            left = deadline - time.monotonic()
            what = _what(cell) if cell is not None else "the hidden tests"
            if left <= 0:
                stopped, end = f"the notebook's time limit ({settings.timeout:g} s) was reached", "timeout"
                break
            code = assignment.programs[gid] if kind in ("test", "hidden") else cell.source
            out = kernel.execute(code, min(settings.cell_timeout, left), store_history=kind not in ("test", "hidden"))
            if kind in ("test", "hidden"):
                records[gid] = [r for r in out.records if isinstance(r, dict) and r.get("cell") == gid]
            elif out.status == "error":
                result["cell_errors"].append(f"{what}: {out.ename}: {out.evalue}"[:500])
            if out.status in STOPS:
                end = STOPS[out.status]
                reason = {"timeout": f"{what} ran past its time limit ({min(settings.cell_timeout, left):g} s)",
                          "died": f"the kernel died in {what}",
                          "memory": f"the memory limit ({settings.memory_mb} MB) was reached in {what}",
                          "process_limit": f"more than {settings.max_processes} processes were started in {what}"}
                if kernel.dead:
                    stopped = reason[out.status]
                    break
                result["flags"].append(f"cell_timeout:{gid or 'extra'}")
                if kind in ("test", "hidden"):
                    records[gid].append({"cell_error": reason["timeout"]})
                result["error"] = result["error"] or reason["timeout"]
    for gid, points in assignment.tests.items():
        split = assignment.splits[gid]
        names = {k: s.code for k, s in split.sites.items() if s.kind == "call"}
        verdict = judge(assignment.records[gid]["calls"], records.get(gid, []), func_names=names, stopped=stopped)
        if verdict.passed and HIDDEN + gid in assignment.programs:
            hidden_names = {k: s.code for k, s in assignment.splits[HIDDEN + gid].sites.items()}
            verdict = judge(assignment.records[HIDDEN + gid]["calls"], records.get(HIDDEN + gid, []),
                            func_names=hidden_names, stopped=stopped, hidden=True)
        result["cells"][gid] = points if verdict.passed else 0.0
        result["notes"][gid] = verdict.note
    result["score"] = float(sum(result["cells"].values()))
    if end != "ok":
        result["status"] = end
        result["error"] = stopped or result["error"]
    return _finish(result, started)


def _finish(result: dict, started: float) -> dict:
    result["seconds"] = round(time.monotonic() - started, 2)
    result["flags"] = list(dict.fromkeys(result["flags"]))
    result["feedback"] = feedback(result)
    return result


def feedback(result: dict) -> str:
    """The student's feedback file (Markdown): their marks and why, never the expected answers of
    checks written with ``reveal=False``, never anything from hidden tests but pass/fail."""
    lines = [f"# Feedback: {Path(result['submission']).name}", ""]
    if result["status"] == "invalid_notebook":
        lines.append(f"Your notebook could not be graded: {result['error']}")
    elif result["status"] == "no_response":
        lines.append("No answers found: every answer cell is still as it was handed out.")
    else:
        for gid, points in result["cells"].items():
            note = result["notes"].get(gid, "")
            mark = "✅" if note == "passed" else ("⏳" if note.startswith("⏳") else "❌")
            text = note.replace("\n", "\n  ")
            lines.append(f"- {mark} {gid}: {points:g} / {result['max_points'][gid]:g} — {text}")
        for gid in result["needs_manual"]:
            lines.append(f"- ⏳ {gid}: needs manual grading (its points are not in the score yet)")
        if result["cell_errors"]:
            lines += ["", "These cells of yours raised an error:"] + [f"- {e}" for e in result["cell_errors"]]
        if result["error"]:
            lines += ["", f"Note: {result['error']}"]
    lines += ["", f"Score: {result['score']:g} / {result['max_score']:g}"]
    return "\n".join(lines) + "\n"
