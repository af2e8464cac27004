"""The assignment: the source notebook analysed, run once in a trusted kernel, and the student-side
programs built from that run.

The reference run executes the instructor's source notebook (solutions included) in its own
kernel, with every test cell rewritten by :mod:`booktools.grading.split` so that it publishes the
expected values, the function checks' inputs and outputs, and the inputs the student's side needs.
It never sees a submission. Its results are cached next to the gradebook (keyed by a hash of the
source, the hidden tests and this grader's code), so a resumed batch does not run it again.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from booktools.grading.assemble import grade_id, meta
from booktools.grading.codec import dumps
from booktools.grading.generate import generate_exercise
from booktools.grading.references import named_references
from booktools.grading.sandbox import Kernel, Limits
from booktools.grading.split import G, CellSplit, SplitError, Taint, solution_names, split_cell

HERE = Path(__file__).parent
HIDDEN = "hidden:"  # prefix of the hidden sections' cell names

__all__ = ["Assignment", "SourceError", "bootstrap", "load_assignment", "read_hidden_tests", "run_reference"]


class SourceError(ValueError):
    """The source notebook or the hidden tests cannot be graded from; the message says why."""


@dataclass
class Assignment:
    source_path: Path
    source: nbformat.NotebookNode
    exercise: nbformat.NotebookNode
    tests: dict[str, float]  # auto-graded test cells, in notebook order: grade_id -> points
    manual: dict[str, float]  # manually graded answer cells (free text): grade_id -> points
    splits: dict[str, CellSplit]
    fingerprint: str
    records: dict[str, dict] = field(default_factory=dict)  # cell -> {"calls": [...], "ships": {...}}
    programs: dict[str, str] = field(default_factory=dict)  # cell -> code for the student's kernel
    inputs: Path | None = None  # pickled inputs, read-only in every student's sandbox
    references: dict[str, set[str]] = field(default_factory=dict)  # test cell -> helpers it names

    @property
    def max_score(self) -> float:
        return float(sum(self.tests.values()) + sum(self.manual.values()))


def read_hidden_tests(path: Path) -> dict[str, str]:
    """Parse an instructor-only hidden-test file: sections ``# %% <grade_id>`` followed by code."""
    sections: dict[str, list[str]] = {}
    current = None
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^#\s*%%\s*(\S+)\s*$", line)
        if m:
            current = m.group(1)
            if current in sections:
                raise SourceError(f"{path}:{number}: a second section for {current}")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise SourceError(f"{path}:{number}: code before the first '# %% <grade_id>' line")
    return {k: "\n".join(v).strip() + "\n" for k, v in sections.items()}


def load_assignment(source_path: Path, hidden_path: Path | None = None) -> Assignment:
    """Read and analyse the source notebook (and hidden tests); raise SourceError if unusable."""
    source_path = Path(source_path)
    try:
        source = nbformat.read(source_path, as_version=4)
        exercise = generate_exercise(source)
    except (OSError, ValueError) as exc:
        raise SourceError(f"{source_path}: {exc}") from None
    hidden = read_hidden_tests(hidden_path) if hidden_path else {}
    answers = [c.source for c in source.cells if c.cell_type == "code" and meta(c).get("solution")]
    taint = Taint(solution_names(answers))
    tests, manual, splits = {}, {}, {}
    for cell in source.cells:
        m, gid = meta(cell), grade_id(cell)
        if not m.get("grade"):
            continue
        if m.get("solution") or cell.cell_type != "code":
            manual[gid] = float(m.get("points", 0))
            continue
        tests[gid] = float(m.get("points", 0))
        try:
            splits[gid] = split_cell(cell.source, gid, taint)
            if gid in hidden:
                splits[HIDDEN + gid] = split_cell(hidden[gid], HIDDEN + gid, taint, hidden=True)
        except SplitError as exc:
            raise SourceError(str(exc)) from None
    unknown = sorted(set(hidden) - set(tests))
    if unknown:
        raise SourceError(f"hidden tests name grade_ids that are not test cells: {unknown}")
    digest = hashlib.sha256(source_path.read_bytes())
    digest.update(Path(hidden_path).read_bytes() if hidden_path else b"")
    for name in ("agent.py", "codec.py", "split.py", "reference.py"):
        digest.update((HERE / name).read_bytes())
    kinds = [("test" if grade_id(c) in tests else "answer" if meta(c).get("solution") else "source",
              c.source, grade_id(c)) for c in source.cells if c.cell_type == "code"]
    return Assignment(source_path, source, exercise, tests, manual, splits, digest.hexdigest()[:16],
                      references=named_references(kinds))


def bootstrap(role: str, inputs: str | None) -> str:
    """Code that installs the grader's agent (codec + agent, as source) in a fresh kernel."""
    parts = [(HERE / "codec.py").read_text(encoding="utf-8"), (HERE / "agent.py").read_text(encoding="utf-8")]
    return ("import sys as _s, types as _t\n_m = _t.ModuleType('_cnnbook_grader')\n"
            + "".join(f"exec(compile({p!r}, '<grader>', 'exec'), _m.__dict__)\n" for p in parts)
            + f"_s.modules['_cnnbook_grader'] = _m\n_m.install(get_ipython(), {role!r}, {inputs!r})\n"
            + f"{G} = _m\ndel _m, _s, _t\n")


def run_reference(assignment: Assignment, cache: Path, *, isolation: str = "bwrap", timeout: float = 900,
                  zygote=None) -> None:
    """Fill ``assignment.records``/``programs``/``inputs`` from the cache or a reference run.

    With a ``zygote`` (:mod:`booktools.grading.zygote`, the grader's) the reference kernel is forked
    from it into its own sandbox like the students' kernels, instead of importing PyTorch itself."""
    cache.mkdir(parents=True, exist_ok=True)
    stored, inputs = cache / f"reference-{assignment.fingerprint}.json", cache / f"inputs-{assignment.fingerprint}"
    if stored.exists():
        records = json.loads(stored.read_text(encoding="utf-8"))
    else:
        shutil.rmtree(inputs, ignore_errors=True)
        inputs.mkdir()
        records = _run(assignment, inputs, isolation, timeout, zygote)
        tmp = stored.with_suffix(".tmp")
        tmp.write_text(json.dumps(records), encoding="utf-8")
        os.replace(tmp, stored)
    assignment.inputs = inputs
    assignment.records = _organise(records)
    for cell in assignment.splits:
        assignment.programs[cell] = student_program(assignment.splits[cell], assignment.records.get(cell, {}), cell)


def _run(assignment: Assignment, inputs: Path, isolation: str, timeout: float, zygote=None) -> list[dict]:
    records: list[dict] = []
    limits = Limits(memory_mb=8192, disk_mb=1024, max_file_mb=1024, max_processes=256)
    with Kernel(limits, isolation=isolation, inputs=inputs, writable_inputs=True, zygote=zygote) as kernel:
        first = kernel.execute(bootstrap("reference", kernel.inputs_inside), 120, store_history=False)
        if first.status != "ok":
            raise SourceError(f"the grader could not start its reference kernel ({first.ename}: {first.evalue})")
        for number, cell in enumerate(assignment.source.cells):
            if cell.cell_type != "code":
                continue
            gid = grade_id(cell)
            codes = [cell.source]
            if gid in assignment.tests:
                codes = [assignment.splits[gid].trusted]
                if HIDDEN + gid in assignment.splits:
                    codes.append(assignment.splits[HIDDEN + gid].trusted)
            for code in codes:
                out = kernel.execute(code, timeout, max_bytes=2**30)
                records += out.records
                if out.truncated:
                    raise SourceError(f"{assignment.source_path}: test cell {gid} sends more than 1 GB of "
                                      "expected values and inputs; use smaller cases")
                if out.status != "ok":
                    what = f"{out.ename}: {out.evalue}" if out.status == "error" else out.status
                    raise SourceError(f"{assignment.source_path}: the source notebook fails in cell {number} "
                                      f"({gid or 'no grade_id'}) when the grader runs it: {what}")
    bad = [r for r in records if r.get("sanity")]
    if bad:
        raise SourceError(f"{assignment.source_path}: the source's own answer fails test cell {bad[0]['cell']}: "
                          f"{bad[0]['sanity']}")
    ran = {r["cell"] for r in records if r.get("kind") in ("check", "function")}
    missing = [c for c in assignment.splits if c not in ran]
    if missing:
        raise SourceError(f"{assignment.source_path}: no check ran in test cell {missing[0]}")
    return records


def _organise(records: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for r in records:
        cell = out.setdefault(r["cell"], {"calls": [], "ships": {}})
        if r["kind"] == "ship":
            cell["ships"][int(r["point"])] = r["values"]
        else:
            cell["calls"].append(r)
    return out


def student_program(split: CellSplit, records: dict, cell: str) -> str:
    """The student's side of one test cell: its statements, the inputs sent in, and the emits."""
    ships, calls = records.get("ships", {}), records.get("calls", [])
    body: list[str] = []
    for step in split.steps:
        if step[0] == "exec":
            _, index, code = step
            if index in ships or str(index) in ships:
                body.append(f"{G}.load({dumps(ships.get(index, ships.get(str(index))))!r})")
            body.append(code)
            continue
        for r in calls:
            if r["site"] not in step[2]:
                continue
            site = split.sites[r["site"]]
            if site.kind == "check":
                bridge = dumps(r["bridge"]) if r["bridge"] != ["dict", []] else None
                body.append(f"{G}.emit({cell!r}, {r['site']}, {r['inv']}, {site.code!r}, {bridge!r})")
            else:
                cases = [dumps(c) for c in r["cases"]]
                body.append(f"{G}.call({cell!r}, {r['site']}, {r['inv']}, {site.code!r}, {cases!r})")
    inner = textwrap.indent("\n".join(body) or "pass", "    ")
    return (f"{G} = __import__('sys').modules['_cnnbook_grader']\ntry:\n{inner}\n"
            f"except Exception as _cnnbook_exc_:\n    {G}.fail({cell!r}, _cnnbook_exc_)\n")
