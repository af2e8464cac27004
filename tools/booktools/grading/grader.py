"""Grade a batch of submitted exercise notebooks into one CSV gradebook, safely and resumably.

For each submission: read it (or mark it ``invalid_notebook``), rebuild it in the source's order
(:mod:`booktools.grading.assemble`), scan the student's code for risky constructs, run it in a
sandboxed worker (:mod:`booktools.grading.runner`) under a whole-notebook wall clock and memory /
process watch enforced from outside, score each test cell from its execution status, write the
row to the gradebook atomically and a feedback file for the student.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from booktools.grading.assemble import (
    InvalidNotebook,
    Plan,
    load_source,
    plan_submission,
    protected_imports,
    read_hidden_tests,
    read_submission,
)

STATUSES = ("ok", "no_response", "invalid_notebook", "timeout", "kernel_died", "memory",
            "process_limit", "tampered", "grader_error")

RISKY = {
    "kernel_hooks": r"get_ipython|input_transformers|ast_transformers|events\.register|register_magic|set_custom_exc|IPython",
    "traceback_patch": r"excepthook|showtraceback|displayhook|settrace|setprofile",
    "builtins_patch": r"\bbuiltins\b|__builtins__",
    "test_helper_access": r"helpers\.checks|\bcheck\s*=|def\s+check(_function)?\s*\(|CheckFailed|NotDoneYet",
    "process_spawn": r"subprocess|os\.system|os\.fork|os\.exec|os\.spawn|multiprocessing|\bpty\b|os\.kill|setsid",
    "dynamic_code": r"\bexec\s*\(|\beval\s*\(|\bcompile\s*\(|__import__|importlib",
    "low_level": r"\bctypes\b|\bsignal\b|\bgc\.|sys\._getframe|inspect\.",
    "file_access": r"\bopen\s*\(|pathlib|os\.(listdir|walk|scandir|remove|unlink|chdir)|shutil",
    "network": r"\bsocket\b|urllib|requests|http\.client",
}

__all__ = ["GradeSettings", "grade_batch", "grade_one", "risky_constructs", "STATUSES"]


@dataclass
class GradeSettings:
    """Limits for one submission (the command line's options)."""

    cell_timeout: float = 60.0
    timeout: float = 600.0
    memory_mb: int = 2048
    max_processes: int = 64
    max_file_mb: int = 64
    output_cap: int = 20_000
    max_notebook_bytes: int = 20 * 2**20


def risky_constructs(sources: list[str]) -> list[str]:
    """Names of the risky kinds of construct found in the student's code (comments ignored)."""
    code = "\n".join(re.sub(r"#.*", "", s) for s in sources)
    return [name for name, pattern in RISKY.items() if re.search(pattern, code)]


def _sandbox_env(home: Path) -> dict[str, str]:
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": str(home), "TMPDIR": str(home), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
        "MPLBACKEND": "Agg", "MPLCONFIGDIR": str(home / ".mpl"),
        "JUPYTER_RUNTIME_DIR": str(home / ".runtime"), "JUPYTER_DATA_DIR": str(home / ".jupyter"),
        "JUPYTER_CONFIG_DIR": str(home / ".jupyter"), "IPYTHONDIR": str(home / ".ipython"),
        "JUPYTER_PLATFORM_DIRS": "1", "PYTHONNOUSERSITE": "1", "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
        "CNN_BOOK_MODE": "quick",
    }
    if os.environ.get("CNN_BOOK_DATA"):
        env["CNN_BOOK_DATA"] = os.environ["CNN_BOOK_DATA"]
    return env


def _watch(proc: subprocess.Popen, settings: GradeSettings) -> str | None:
    """Wait for the worker; kill its whole tree on the wall clock, memory or process limit."""
    import psutil

    deadline = time.monotonic() + settings.timeout
    try:
        root = psutil.Process(proc.pid)
    except psutil.NoSuchProcess:
        root = None
    reason = None
    while proc.poll() is None:
        if time.monotonic() > deadline:
            reason = "timeout"
        elif root is not None:
            try:
                tree = [root] + root.children(recursive=True)
                rss = sum(p.memory_info().rss for p in tree if p.is_running())
                if rss > 1.5 * settings.memory_mb * 2**20:
                    reason = "memory"
                elif len(tree) > settings.max_processes:
                    reason = "process_limit"
            except psutil.Error:
                pass
        if reason:
            _kill_tree(proc, root)
            break
        time.sleep(0.1)
    proc.wait()
    return reason


def _kill_tree(proc: subprocess.Popen, root) -> None:
    import psutil

    victims = []
    if root is not None:
        try:
            victims = root.children(recursive=True)
        except psutil.Error:
            pass
    try:
        os.killpg(proc.pid, 9)
    except ProcessLookupError:
        pass
    for p in victims:  # anything that left the process group with setsid
        try:
            p.kill()
        except psutil.Error:
            pass


def _run_worker(plan: Plan, imports: str, reference: dict, settings: GradeSettings, cpu: int | None):
    """Run the plan in a sandbox; return (list of cell records, end status, error text)."""
    sandbox = Path(tempfile.mkdtemp(prefix="cnn-book-grade-"))
    private = Path(tempfile.mkdtemp(prefix="cnn-book-grader-"))
    try:
        for sub in (".mpl", ".runtime", ".jupyter", ".ipython"):
            (sandbox / sub).mkdir()
        job = {"cells": [vars(c) for c in plan.cells], "cell_timeout": settings.cell_timeout,
               "output_cap": settings.output_cap, "nonce": secrets.token_hex(8), "imports": imports,
               "reference": reference, "memory_mb": settings.memory_mb,
               "max_file_mb": settings.max_file_mb, "max_processes": settings.max_processes, "cpu": cpu}
        job_path, results = private / "job.json", private / "results.jsonl"
        job_path.write_text(json.dumps(job), encoding="utf-8")
        proc = subprocess.Popen(
            [sys.executable, "-m", "booktools.grading.runner", str(job_path), str(results)],
            cwd=sandbox, env={**_sandbox_env(sandbox), "PYTHONPATH": _package_root()},
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        stderr_chunks: deque[bytes] = deque(maxlen=16)  # the last ~64 KB; the pipe never fills

        def drain() -> None:
            for chunk in iter(lambda: proc.stderr.read1(4096), b""):
                stderr_chunks.append(chunk)

        reader = threading.Thread(target=drain, daemon=True)
        reader.start()
        killed = _watch(proc, settings)
        reader.join(timeout=5)
        records, end = [], None
        if results.exists():
            for line in results.read_text(encoding="utf-8").splitlines():
                try:
                    item = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut short by a kill
                if "end" in item:
                    end = item["end"]
                else:
                    records.append(item)
        error = None
        if killed:
            end = killed
        elif end is None:
            end = "kernel_died"
            tail = b"".join(stderr_chunks).decode("utf-8", "replace").strip().splitlines()
            error = f"the grading process ended unexpectedly: {tail[-1][:200] if tail else 'no message'}"
        return records, end, error
    finally:
        shutil.rmtree(sandbox, ignore_errors=True)
        shutil.rmtree(private, ignore_errors=True)


def _package_root() -> str:
    return str(Path(__file__).resolve().parents[2])


def _score(plan: Plan, records: list[dict], end: str) -> tuple[dict[str, float], dict[str, str]]:
    """Points per test cell (earned only if the test and its hidden tests ran with status ok)."""
    status: dict[str, dict[str, dict]] = {}
    for r in records:
        if r["kind"] in ("test", "hidden"):
            status.setdefault(r["grade_id"], {})[r["kind"]] = r
    hidden_ids = {c.grade_id for c in plan.cells if c.kind == "hidden"}
    earned, notes = {}, {}
    for gid, points in plan.tests.items():
        test, hidden = status.get(gid, {}).get("test"), status.get(gid, {}).get("hidden")
        ok = test is not None and test["status"] == "ok"
        if gid in hidden_ids:
            ok = ok and hidden is not None and hidden["status"] == "ok"
        earned[gid] = points if ok and end != "tampered" else 0.0
        if test is None:
            notes[gid] = "not run (the notebook stopped earlier)"
        elif test["status"] != "ok":
            notes[gid] = _one_line(test.get("evalue") or test.get("ename") or test["status"])
            if test["status"] == "timeout":
                notes[gid] = "the cell ran past its time limit"
        elif gid in hidden_ids and not (hidden and hidden["status"] == "ok"):
            notes[gid] = "hidden tests did not pass"
        else:
            notes[gid] = "passed"
    return earned, notes


def _one_line(text: str) -> str:
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(text))
    return " ".join(text.split())[:300]


def _points(exercise) -> dict[str, float]:
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"].get("points", 0))
            for c in exercise.cells if c.metadata.get("nbgrader", {}).get("grade")}


def grade_one(path: Path, source, exercise, imports: str, reference: dict, settings: GradeSettings,
              hidden: dict[str, str] | None = None, cpu: int | None = None) -> tuple[dict, str]:
    """Grade one submission. Returns (gradebook row, feedback text)."""
    started = time.monotonic()
    row = {"submission": str(path), "status": "ok", "score": 0.0, "flags": "", "error": ""}
    tests = _points(exercise)
    row["max_score"] = sum(tests.values())
    for gid in tests:
        row[gid] = 0.0
    feedback = [f"# Feedback: {Path(path).name}", ""]
    try:
        submission = read_submission(path, max_bytes=settings.max_notebook_bytes)
        plan = plan_submission(submission, source, exercise, hidden)
    except InvalidNotebook as exc:
        row.update(status="invalid_notebook", error=str(exc))
        feedback.append(f"Your notebook could not be graded: {exc}")
        row["seconds"] = round(time.monotonic() - started, 2)
        return row, "\n".join(feedback) + "\n"
    student_code = [c.source for c in plan.cells if c.kind in ("answer", "extra")]
    flags = plan.flags + risky_constructs(student_code)
    if not plan.answered:
        row.update(status="no_response", error="no response: every answer cell is as handed out")
        feedback.append("No answers found: every answer cell is still as it was handed out.")
    else:
        records, end, error = _run_worker(plan, imports, reference, settings, cpu)
        earned, notes = _score(plan, records, end)
        row.update(earned)
        row["status"] = end
        row["score"] = sum(earned.values())
        if any(r.get("truncated") for r in records):
            flags.append("output_truncated")
        tampered = next((r for r in records if r.get("tampered")), None)
        if end == "tampered" and tampered:
            row["error"] = (f"kernel integrity check failed after cell {tampered['index']} "
                            f"({tampered['kind']}): {tampered['tampered']}; review by hand")
        elif end != "ok":
            last = records[-1] if records else None
            where = f" in cell {last['index']} ({last['kind']} {last.get('grade_id') or ''})".rstrip() if last else ""
            row["error"] = error or {
                "timeout": f"stopped: time limit reached{where}",
                "kernel_died": f"the kernel died{where}",
                "memory": f"stopped: memory limit of {settings.memory_mb} MB reached{where}",
                "process_limit": f"stopped: more than {settings.max_processes} processes",
            }.get(end, end)
        for gid, points in plan.tests.items():
            mark = "✅" if earned[gid] == points and end != "tampered" else "❌"
            feedback.append(f"- {mark} {gid}: {earned[gid]:g} / {points:g} — {notes[gid]}")
        if row["error"]:
            feedback += ["", f"Note: {row['error']}"]
    feedback += ["", f"Score: {row['score']:g} / {row['max_score']:g}"]
    row["flags"] = ";".join(dict.fromkeys(flags))
    row["seconds"] = round(time.monotonic() - started, 2)
    return row, "\n".join(feedback) + "\n"


class Gradebook:
    """The CSV, rewritten atomically (temp file + rename) after every finished submission."""

    def __init__(self, path: Path, columns: list[str]):
        self.path, self.columns = Path(path), columns
        self.rows: dict[str, dict] = {}
        if self.path.exists() and self.path.stat().st_size:
            with open(self.path, newline="", encoding="utf-8") as f:
                reader = csv.DictReader(f)
                if reader.fieldnames != columns:
                    raise ValueError(
                        f"{self.path} was written for another assignment or version (its columns "
                        f"differ); choose another --out file or remove it"
                    )
                self.rows = {r["submission"]: r for r in reader}
        self.lock = threading.Lock()

    def done(self, submission: str) -> bool:
        return submission in self.rows

    def add(self, row: dict) -> None:
        with self.lock:
            self.rows[row["submission"]] = row
            buffer = io.StringIO()
            writer = csv.DictWriter(buffer, fieldnames=self.columns, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(sorted(self.rows.values(), key=lambda r: r["submission"]))
            tmp = self.path.with_name(f".{self.path.name}.tmp")
            tmp.write_text(buffer.getvalue(), encoding="utf-8")
            os.replace(tmp, self.path)


def feedback_path(out: Path, submission: str) -> Path:
    """Where a submission's feedback file goes: ``<out stem>_feedback/<safe name>.md``."""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "_", str(Path(submission).with_suffix(""))).strip("._")
    return out.with_name(f"{out.stem}_feedback") / f"{safe or 'submission'}.md"


def grade_batch(source_path: Path, submissions: list[Path], out: Path, settings: GradeSettings,
                *, jobs: int = 1, hidden_path: Path | None = None, progress: bool = True) -> Gradebook:
    """Grade every submission (skipping those already in ``out``) and return the gradebook."""
    from tqdm.auto import tqdm

    from booktools.grading.runner import reference_hashes

    source, exercise = load_source(source_path)
    hidden = read_hidden_tests(hidden_path) if hidden_path else None
    test_ids = list(_points(exercise))
    columns = ["submission", "status", "score", "max_score", *test_ids, "flags", "seconds", "error"]
    book = Gradebook(out, columns)
    imports, reference = protected_imports(source), reference_hashes()
    todo = [p for p in dict.fromkeys(map(str, submissions)) if not book.done(p)]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [None]
    bar = tqdm(total=len(todo), desc="grading", unit="notebook", disable=not progress)
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {pool.submit(grade_one, Path(p), source, exercise, imports, reference, settings,
                               hidden, cpus[i % len(cpus)]): p for i, p in enumerate(todo)}
        for future in as_completed(futures):
            try:
                row, text = future.result()
            except Exception as exc:  # a grader bug must not stop the batch or lose the row
                path = futures[future]
                row = {"submission": path, "status": "grader_error", "score": 0.0,
                       "max_score": sum(_points(exercise).values()), "flags": "", "seconds": 0,
                       "error": _one_line(f"{type(exc).__name__}: {exc}"), **{g: 0.0 for g in test_ids}}
                text = f"# Feedback: {Path(path).name}\n\nThis notebook could not be graded; your instructor will look at it.\n"
            target = feedback_path(out, row["submission"])
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            book.add(row)
            bar.set_postfix_str(f"{Path(row['submission']).name}: {row['status']} {row['score']:g}")
            bar.update()
    bar.close()
    return book
