"""Run one rebuilt submission in a fresh kernel, recording each cell's result as it finishes.

This module is the sandboxed worker: ``python -m booktools.grading.runner JOB.json RESULTS.jsonl``.
The grader starts it in its own process group, in an empty temporary folder, with a scrubbed
environment; here it sets the resource limits its kernel inherits (memory, file size, one CPU)
and runs the cells one by one through ``jupyter_client``.

A cell's result is its *execution status* as the kernel reports it in the execute reply, not
what it printed. After every cell the student's code could have touched (their answers, their
extra cells, and the tests that call their functions) an integrity probe runs with
``silent=True`` and reports through ``user_expressions``; any change to the kernel's input
transformers, event hooks, exception hooks, builtins, the instructor's imports or the ``helpers``
functions the tests rely on ends the run as ``tampered``.
"""

from __future__ import annotations

import ast
import json
import os
import resource
import sys
import time
from pathlib import Path
from queue import Empty

# A digest of a function's code that is the same in every process (marshal's output is not: it
# depends on reference counts). Shared by the probe (in the kernel) and the grader.
DIGEST = r'''
def _grader_code_digest(code):
    import hashlib, types
    def parts(c):
        out = [c.co_code, c.co_names, c.co_varnames, c.co_freevars, c.co_cellvars]
        for const in c.co_consts:
            if isinstance(const, types.CodeType):
                out.append(parts(const))
            elif isinstance(const, frozenset):
                out.append(sorted(map(repr, const)))
            else:
                out.append(repr(const))
        return out
    return hashlib.sha256(repr(parts(code)).encode()).hexdigest()
'''

PROBE = DIGEST + r'''
def _grader_probe(nonce, imports, reference):
    import builtins, hashlib, json, sys
    ip = get_ipython()
    fp = {}
    tm = ip.input_transformer_manager
    fp["input transformers"] = [repr(t) for t in (list(ip.input_transformers_cleanup)
        + list(ip.input_transformers_post) + list(tm.cleanup_transforms)
        + list(tm.line_transforms) + list(tm.token_transformers))]
    fp["AST transformers"] = [repr(t) for t in ip.ast_transformers]
    fp["event callbacks"] = {k: [repr(f) for f in v] for k, v in ip.events.callbacks.items()}
    fp["system hooks"] = [repr(sys.excepthook), repr(sys.displayhook), repr(sys.gettrace()),
        repr(sys.getprofile()), repr(getattr(ip, "custom_exceptions", ())),
        repr(getattr(ip, "CustomTB", None))]
    shell_methods = ("run_cell", "run_cell_async", "run_ast_nodes", "run_code", "showtraceback",
        "_showtraceback", "showsyntaxerror", "transform_cell", "transform_ast", "should_run_async")
    fp["shell methods"] = [(n, n in vars(ip), id(getattr(type(ip), n, None))) for n in shell_methods]
    fp["builtins"] = hashlib.sha256(repr(sorted((k, id(v)) for k, v in vars(builtins).items()
        if not k.startswith("_"))).encode()).hexdigest()
    mine = {}
    exec(imports, mine)
    ns = ip.user_ns
    fp["instructor imports replaced"] = sorted(k for k, v in mine.items()
        if k != "__builtins__" and k in ns and ns[k] is not v)
    changed = []
    for name, digest in reference.items():
        mod_name, _, attr = name.rpartition(".")
        mod = sys.modules.get(mod_name)
        if mod is None:
            continue
        obj = getattr(mod, attr, None)
        code = getattr(obj, "__code__", None)
        if code is None or _grader_code_digest(code) != digest:
            changed.append(name)
    fp["helpers functions replaced"] = sorted(changed)
    return json.dumps(fp, sort_keys=True)
'''

PREAMBLE = "%matplotlib inline\nimport matplotlib.pyplot\n"

__all__ = ["apply_limits", "reference_hashes", "run_job"]


def reference_hashes() -> dict[str, str]:
    """Code hashes of every function in the ``helpers`` package, as the grader itself loads them."""
    import importlib
    import pkgutil

    import helpers

    namespace: dict = {}
    exec(DIGEST, namespace)
    code_digest = namespace["_grader_code_digest"]
    digests = {}
    for info in pkgutil.walk_packages(helpers.__path__, "helpers."):
        if info.name.startswith("booktools.grading"):
            continue
        try:
            module = importlib.import_module(info.name)
        except Exception:  # an optional module whose dependency is missing is not protected
            continue
        for attr, obj in vars(module).items():
            code = getattr(obj, "__code__", None)
            if code is not None and getattr(obj, "__module__", None) == info.name:
                digests[f"{info.name}.{attr}"] = code_digest(code)
    return digests


def apply_limits(memory_mb: int, max_file_mb: int) -> None:
    """Resource limits for this process and the kernel it starts (inherited)."""
    data = memory_mb * 2**20
    resource.setrlimit(resource.RLIMIT_DATA, (data, data))
    size = max_file_mb * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # No RLIMIT_NPROC: it counts every process of the user (and root ignores it). The grader
    # counts the processes of this tree from outside and ends it past max_processes.


class _Cell:
    def __init__(self, cap: int):
        self.cap, self.size, self.truncated = cap, 0, False
        self.text: list[str] = []
        self.ename = self.evalue = None

    def add(self, text: str) -> None:
        if self.size >= self.cap:
            self.truncated = True
            return
        piece = text[: self.cap - self.size]
        self.truncated |= len(piece) < len(text)
        self.size += len(piece)
        self.text.append(piece)


def _execute(km, kc, code: str, timeout: float, cap: int, *, silent=False, expressions=None):
    """Run code; return (status, cell, reply_content). status: ok, error, timeout, stuck, died."""
    msg_id = kc.execute(code, silent=silent, store_history=not silent, allow_stdin=False,
                        stop_on_error=False, user_expressions=expressions or {})
    cell = _Cell(cap)
    deadline = time.monotonic() + timeout
    interrupted = False
    reply = None
    idle = False
    while reply is None or not idle:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            if interrupted:
                return "stuck", cell, None  # SIGINT was ignored: the grader ends the kernel
            km.interrupt_kernel()
            interrupted = True
            deadline = time.monotonic() + 5
            continue
        if not km.is_alive():
            return "died", cell, None
        if reply is None:
            try:
                msg = kc.get_shell_msg(timeout=min(remaining, 0.2))
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            except Empty:
                pass
        try:
            msg = kc.get_iopub_msg(timeout=0.05 if reply is None else min(remaining, 1.0))
        except Empty:
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        kind, content = msg["msg_type"], msg["content"]
        if kind == "stream":
            cell.add(content.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            cell.add(content.get("data", {}).get("text/plain", "") + "\n")
        elif kind == "error":
            cell.ename, cell.evalue = content.get("ename"), content.get("evalue")
        elif kind == "status" and content.get("execution_state") == "idle":
            idle = True
    status = reply.get("status", "error")
    if interrupted:
        return "timeout", cell, reply
    if status == "error" and cell.ename is None:
        cell.ename, cell.evalue = reply.get("ename"), reply.get("evalue")
    return ("ok" if status == "ok" else "error"), cell, reply


def _probe(km, kc, job) -> dict | None:
    args = f"_grader_probe({job['nonce']!r}, {job['imports']!r}, {job['reference']!r})"
    status, _, reply = _execute(km, kc, PROBE, 30, 1000, silent=True,
                                expressions={"fp": args})
    if status != "ok" or reply is None:
        return None
    value = reply.get("user_expressions", {}).get("fp", {})
    if value.get("status") != "ok":
        return None
    try:
        return json.loads(ast.literal_eval(value["data"]["text/plain"]))
    except (KeyError, ValueError, SyntaxError):
        return None


def _difference(before: dict, after: dict | None) -> str | None:
    if after is None:
        return "the integrity probe did not run normally"
    changed = [k for k in sorted(after) if after.get(k) != before.get(k)]
    replaced = after.get("helpers functions replaced") or after.get("instructor imports replaced")
    if replaced:
        return f"replaced: {', '.join(replaced)}"
    return f"changed: {', '.join(changed)}" if changed else None


def run_job(job: dict, results: Path) -> str:
    """Execute the planned cells; append one JSON line per cell to ``results``. Returns the end."""
    from jupyter_client import KernelManager

    out = open(results, "a", encoding="utf-8")

    def write(record: dict) -> None:
        out.write(json.dumps(record) + "\n")
        out.flush()
        os.fsync(out.fileno())

    km = KernelManager(kernel_name="python3")
    km.start_kernel(cwd=os.getcwd())
    kc = km.client()
    kc.start_channels()
    end = "ok"
    try:
        kc.wait_for_ready(timeout=120)
        _execute(km, kc, PREAMBLE, 120, 1000, silent=True)
        _execute(km, kc, PROBE, 30, 1000, silent=True)
        baseline = _probe(km, kc, job)
        if baseline is None:
            write({"end": "kernel_died", "error": "the kernel did not start cleanly"})
            return "kernel_died"
        for index, planned in enumerate(job["cells"]):
            started = time.monotonic()
            status, cell, _ = _execute(km, kc, planned["source"], job["cell_timeout"], job["output_cap"])
            record = {"index": index, "kind": planned["kind"], "grade_id": planned.get("grade_id"),
                      "status": status, "ename": cell.ename, "evalue": (cell.evalue or "")[:2000],
                      "output": "".join(cell.text), "truncated": cell.truncated,
                      "seconds": round(time.monotonic() - started, 3)}
            if status in ("stuck", "died", "timeout"):
                write(record)  # a time-out ends the submission; the scores so far are kept
                end = "kernel_died" if status == "died" else "timeout"
                break
            if status == "error" and cell.ename == "MemoryError":
                write(record)
                end = "memory"
                break
            if planned["kind"] == "source":
                baseline = _probe(km, kc, job) or baseline
            else:
                problem = _difference(baseline, _probe(km, kc, job))
                if problem:
                    record["tampered"] = problem
                    write(record)
                    end = "tampered"
                    break
            write(record)
        write({"end": end})
        return end
    finally:
        try:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
        except Exception:
            pass
        out.close()


def main(argv: list[str]) -> int:
    job_path, results = Path(argv[0]), Path(argv[1])
    job = json.loads(job_path.read_text(encoding="utf-8"))
    job_path.unlink()  # the student's kernel must not find the job (it holds the nonce)
    apply_limits(job["memory_mb"], job["max_file_mb"])
    if job.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {job["cpu"]})
    run_job(job, results)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
