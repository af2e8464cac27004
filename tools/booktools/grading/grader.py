"""Grade a batch of submitted exercise notebooks into one CSV gradebook, safely and resumably.

Each submission gets a stable key from the bytes of its absolute path (a readable slug plus a
hash, so names that differ only in non-ASCII characters, or ``alice/02_x`` and ``alice_02_x``,
never collide), and its result is written atomically on its own, ``<out>_results/<key>.json``,
before the gradebook is rebuilt from all results and its feedback file written. An
``<key>.attempt`` marker is written before a submission is graded; a submission whose grading
was interrupted twice (the grader killed or crashed on it) gets a ``grader_error`` row instead of
a third try. Killing the grader at any moment and running the same command again completes the
batch with exactly one row per submission.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import sys
import threading
import unicodedata
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path

from booktools.grading.reference import Assignment, load_assignment, run_reference
from booktools.grading.runner import GradeSettings, grade_submission
from booktools.grading.sandbox import SandboxUnavailable, bwrap_problem
from booktools.grading.zygote import available, shared

STATUSES = ("ok", "no_response", "invalid_notebook", "timeout", "kernel_died", "memory", "process_limit",
            "grader_error")
MAX_ATTEMPTS = 2

__all__ = ["GradeSettings", "Gradebook", "STATUSES", "feedback_path", "grade_batch", "isolation_for",
           "submission_key"]


def submission_key(path) -> tuple[str, str]:
    """(key, display name) of a submission path: key = readable slug + hash of the path's bytes."""
    given = os.fsencode(path)
    digest = hashlib.sha256(os.fsencode(os.path.abspath(given))).hexdigest()[:12]
    display = given.decode("utf-8", "backslashreplace")
    stem = re.sub(r"\.ipynb$", "", display)
    ascii_ = unicodedata.normalize("NFKD", stem).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", ascii_).strip("._-")[-60:] or "submission"
    return f"{slug}-{digest}", display


def feedback_path(out: Path, key: str) -> Path:
    """Where a submission's feedback file goes: ``<out stem>_feedback/<key>.md``."""
    return Path(out).with_name(f"{Path(out).stem}_feedback") / f"{key}.md"


def _atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    with open(tmp, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def isolation_for(settings: GradeSettings) -> str:
    """"bwrap", or "weak" when bwrap cannot run and the instructor accepted that; else raise."""
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if settings.allow_weak_isolation:
        print(f"warning: {problem}; grading with weak isolation (--allow-weak-isolation): students' code can "
              "read this machine's files and see its processes", file=sys.stderr)
        return "weak"
    raise SandboxUnavailable(f"{problem}. Install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap), "
                             "or pass --allow-weak-isolation to grade without its isolation")


@dataclass
class Gradebook:
    path: Path
    columns: list[str]
    rows: dict[str, dict] = field(default_factory=dict)  # display name -> row


def _columns(assignment: Assignment) -> list[str]:
    return ["submission", "key", "status", "score", "max_score", *assignment.tests, *assignment.manual,
            "needs_manual", "flags", "seconds", "error", "feedback"]


def _row(result: dict, key: str, out: Path, assignment: Assignment) -> dict:
    row = {"submission": result["submission"], "key": key, "status": result["status"],
           "score": f"{result['score']:g}", "max_score": f"{result['max_score']:g}",
           "needs_manual": ";".join(result.get("needs_manual", [])), "flags": ";".join(result.get("flags", [])),
           "seconds": result.get("seconds", 0), "error": " ".join(str(result.get("error", "")).split())[:400],
           "feedback": os.path.relpath(feedback_path(out, key), Path(out).parent)}
    for gid in assignment.tests:
        row[gid] = f"{result.get('cells', {}).get(gid, 0.0):g}"
    for gid in assignment.manual:
        row[gid] = ""  # graded by hand
    return row


def _rebuild(book: Gradebook, results_dir: Path, out: Path, assignment: Assignment) -> None:
    rows = {}
    for path in sorted(results_dir.glob("*.json")):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue  # not ours (the reference cache has its own folder)
        target = feedback_path(out, path.stem)
        if not target.exists():
            _atomic(target, result.get("feedback", ""))
        name = result["submission"] if result["submission"] not in rows else f"{result['submission']} ({path.stem})"
        rows[name] = _row(result, path.stem, out, assignment)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=book.columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(sorted(rows.values(), key=lambda r: (r["submission"], r["key"])))
    _atomic(out, buffer.getvalue())
    book.rows = rows


def _error_result(display: str, assignment: Assignment, message: str) -> dict:
    result = {"submission": display, "status": "grader_error", "score": 0.0, "max_score": assignment.max_score,
              "cells": {g: 0.0 for g in assignment.tests}, "flags": [], "error": message[:400], "seconds": 0}
    result["feedback"] = (f"# Feedback: {Path(display).name}\n\nThis notebook could not be graded "
                          "automatically; your instructor will look at it.\n")
    return result


def grade_batch(source_path: Path, submissions: list, out: Path, settings: GradeSettings | None = None, *,
                jobs: int = 1, hidden_path: Path | None = None, progress: bool = True) -> Gradebook:
    """Grade every submission not graded yet into ``out``; return the gradebook (all its rows).

    Raises:
        SandboxUnavailable: bwrap cannot run here and weak isolation was not allowed.
        booktools.grading.reference.SourceError: the source notebook or hidden tests are unusable.
        ValueError: ``out`` belongs to another assignment.
    """
    settings = settings or GradeSettings()
    out = Path(out)
    isolation = isolation_for(settings)
    assignment = load_assignment(source_path, hidden_path)
    book = Gradebook(out, _columns(assignment))
    results_dir = out.with_name(f"{out.stem}_results")
    if out.exists() and out.stat().st_size:
        with open(out, newline="", encoding="utf-8", errors="replace") as f:
            if next(csv.reader(f), None) != book.columns:
                raise ValueError(f"{out} was written for another assignment or version (its columns differ); "
                                 "choose another --out file or remove it (and its _results folder)")
    results_dir.mkdir(parents=True, exist_ok=True)
    # one pre-started Python (per process, kept for later batches) forks every student's kernel into
    # that student's own sandbox (see booktools.grading.zygote), the reference run's (if any) first
    zygote = shared() if isolation == "bwrap" and available() else None
    return _grade(assignment, book, out, results_dir, submissions, settings, isolation, jobs, progress, zygote)


def _grade(assignment, book, out, results_dir, submissions, settings, isolation, jobs, progress, zygote):
    from tqdm.auto import tqdm

    run_reference(assignment, results_dir / "reference", isolation=isolation, zygote=zygote)
    unique = {}
    for path in submissions:
        key, display = submission_key(path)
        unique.setdefault(key, (Path(os.fsdecode(os.fsencode(path))), display))
    todo = [(k, p, d) for k, (p, d) in unique.items() if not (results_dir / f"{k}.json").exists()]
    lock = threading.Lock()
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [None]

    def one(number: int, key: str, path: Path, display: str) -> dict:
        marker = results_dir / f"{key}.attempt"
        tries = int(marker.read_text() or 0) if marker.exists() else 0
        if tries >= MAX_ATTEMPTS:
            return _error_result(display, assignment, f"grading was interrupted {tries} times on this submission "
                                 f"(the grader was killed or crashed); remove {marker.name} to try again")
        _atomic(marker, str(tries + 1))
        try:
            return grade_submission(path, display, assignment, settings, isolation, cpus[number % len(cpus)],
                                    zygote=zygote)
        except Exception as exc:  # a grader bug must not stop the batch or lose the row
            return _error_result(display, assignment, f"{type(exc).__name__}: {exc}")

    with lock:
        _rebuild(book, results_dir, out, assignment)
    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(one, i, *item): item[0] for i, item in enumerate(todo)}
        for future in as_completed(futures):
            key, result = futures[future], future.result()
            _atomic(results_dir / f"{key}.json", json.dumps(result, ensure_ascii=True))
            (results_dir / f"{key}.attempt").unlink(missing_ok=True)
            with lock:
                _atomic(feedback_path(out, key), result["feedback"])
                _rebuild(book, results_dir, out, assignment)
            bar.set_postfix_str(f"{Path(result['submission']).name}: {result['status']} {result['score']:g}")
            bar.update()
    bar.close()
    return book
