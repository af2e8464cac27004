"""Read a submitted notebook safely and rebuild it in the instructor's order.

The submission is never trusted: only its *answer* cells (matched by nbgrader ``grade_id``) and
the student's own extra cells are taken from it. Every other cell -- tests, locked cells, the
instructor's code and text -- comes from the source (solution) notebook, with the solution
regions replaced by stubs exactly as in the exercise notebook. Student metadata, outputs, points
and kernelspec are ignored.
"""

from __future__ import annotations

import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from booktools.grading.generate import generate_exercise

MAX_NOTEBOOK_BYTES = 20 * 2**20

__all__ = [
    "InvalidNotebook",
    "Plan",
    "PlannedCell",
    "load_source",
    "plan_submission",
    "protected_imports",
    "read_hidden_tests",
    "read_submission",
]


class InvalidNotebook(ValueError):
    """A submission that cannot be graded; the message is the one-line reason for the gradebook."""


@dataclass
class PlannedCell:
    """One cell the grader will run, and where it came from."""

    kind: str  # "source" (instructor code), "answer", "extra" (student's own), "test", "hidden"
    source: str
    grade_id: str | None = None
    points: float = 0.0


@dataclass
class Plan:
    """The rebuilt notebook: cells in order, plus what the gradebook needs to know."""

    cells: list[PlannedCell]
    tests: dict[str, float]  # grade_id -> points, in notebook order
    answered: list[str] = field(default_factory=list)  # answer grade_ids the student changed
    flags: list[str] = field(default_factory=list)

    @property
    def max_score(self) -> float:
        return float(sum(self.tests.values()))


def _meta(cell) -> dict:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def load_source(path: Path) -> tuple[nbformat.NotebookNode, nbformat.NotebookNode]:
    """Read the instructor's solution notebook; return it and its exercise (stub) version."""
    source = nbformat.read(path, as_version=4)
    return source, generate_exercise(source)


def read_submission(path: Path, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> nbformat.NotebookNode:
    """Parse a submitted file as a version-4 notebook, or raise InvalidNotebook with a reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidNotebook(f"cannot read the file: {exc.strerror}") from None
    if size > max_bytes:
        raise InvalidNotebook(
            f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit "
            "(clear the outputs and submit again)"
        )
    if size == 0:
        raise InvalidNotebook("file is empty")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebook("not a text file (is it really an .ipynb notebook?)") from None
    except json.JSONDecodeError as exc:
        hint = "the file is cut short" if _unclosed(text) else "malformed JSON"
        raise InvalidNotebook(f"not valid notebook JSON ({hint}: {exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict) or "cells" not in data and "worksheets" not in data:
        raise InvalidNotebook("JSON but not a Jupyter notebook (no 'cells')")
    major = data.get("nbformat")
    if major != 4:
        raise InvalidNotebook(
            f"notebook format {major!r} is not supported; open and save it with Jupyter 4 or later"
        )
    try:
        with warnings.catch_warnings():  # duplicate cell ids (copied cells) are repaired quietly
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=nbformat.NO_CONVERT)
            nbformat.validate(nb)
    except Exception as exc:  # nbformat's ValidationError and friends
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidNotebook(f"not a valid notebook: {first[:160]}") from None
    return nb


def _unclosed(text: str) -> bool:
    """True if the text is well-formed so far but ends inside a string or an open bracket."""
    stack: list[str] = []
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            stack.append("]" if ch == "[" else "}")
        elif ch in "]}":
            if not stack or stack.pop() != ch:
                return False  # a bracket closed out of order: malformed, not cut short
    return in_string or bool(stack)


def protected_imports(source: nbformat.NotebookNode) -> str:
    """The instructor's import statements; the grader re-runs them to check nothing was patched."""
    lines = []
    for cell in source.cells:
        if cell.cell_type != "code" or _meta(cell).get("solution"):
            continue
        for line in cell.source.splitlines():
            if re.match(r"^(from\s+\S+\s+)?import\s", line) and not line.rstrip().endswith(("(", "\\")):
                lines.append(line.strip())
    return "\n".join(dict.fromkeys(lines))


def plan_submission(
    submission: nbformat.NotebookNode,
    source: nbformat.NotebookNode,
    exercise: nbformat.NotebookNode,
    hidden: dict[str, str] | None = None,
) -> Plan:
    """Rebuild a submission in the source's order (see the module docstring).

    A student's extra code cell runs after the source cell it followed in the submission; extra
    cells that came before the first exercise run just before it (after the instructor's set-up).

    Raises:
        InvalidNotebook: the submission has none of the source's cells (another assignment).
        ValueError: ``hidden`` names a grade_id that is not a test cell.
    """
    hidden = hidden or {}
    key_of_gid = {_meta(c)["grade_id"]: c.get("id") for c in source.cells if _meta(c).get("grade_id")}
    source_keys = {c.get("id") for c in source.cells} - {None}
    # code answers are graded by tests; markdown answers are for the instructor to read
    answer_ids = [_meta(c)["grade_id"] for c in source.cells
                  if _meta(c).get("solution") and c.cell_type == "code"]
    stubs = {_meta(c)["grade_id"]: c.source for c in exercise.cells
             if _meta(c).get("solution") and c.cell_type == "code"}

    flags: list[str] = []
    answers: dict[str, str] = {}
    extras: dict[str | None, list[str]] = {}  # source cell id the extra cells followed -> sources
    anchor, recognised = None, False
    for cell in submission.cells:
        gid = _meta(cell).get("grade_id")
        if gid in answer_ids and gid not in answers and cell.cell_type == "code":
            answers[gid] = cell.source
            anchor, recognised = key_of_gid[gid], True
        elif gid in key_of_gid and gid not in answer_ids:
            anchor, recognised = key_of_gid[gid], True  # a test or locked cell: the source's wins
        elif cell.get("id") in source_keys and gid is None:
            anchor = cell.get("id")  # the student's copy of an instructor cell: the source's wins
        elif cell.cell_type == "code" and cell.source.strip():
            if gid in answers:
                flags.append(f"duplicate_answer_cell:{gid}")
            extras.setdefault(anchor, []).append(cell.source)
    if not recognised:
        raise InvalidNotebook(
            "none of this assignment's exercise cells were found (expected grade_ids such as "
            f"{answer_ids[0] if answer_ids else '?'}): is this the right notebook?"
        )

    def norm(text: str) -> str:
        return "\n".join(line.rstrip() for line in text.strip().splitlines())

    answered = [g for g in answer_ids if g in answers and norm(answers[g]) != norm(stubs[g])]
    flags += [f"missing_answer_cell:{g}" for g in answer_ids if g not in answers]

    cells: list[PlannedCell] = []
    tests: dict[str, float] = {}
    waiting = list(extras.get(None, []))  # extras that run just before the first exercise
    started = False
    for cell in exercise.cells:
        meta, key = _meta(cell), cell.get("id")
        gid = meta.get("grade_id")
        if cell.cell_type == "code" and meta.get("solution"):
            if not started:
                cells += [PlannedCell("extra", s) for s in waiting]
                started = True
            cells.append(PlannedCell("answer", answers.get(gid, stubs[gid]), gid))
        elif cell.cell_type == "code" and meta.get("grade"):
            tests[gid] = float(meta.get("points", 0))
            cells.append(PlannedCell("test", cell.source, gid, tests[gid]))
            if gid in hidden:
                cells.append(PlannedCell("hidden", hidden[gid], gid))
        elif cell.cell_type == "code" and cell.source.strip():
            cells.append(PlannedCell("source", cell.source, gid))
        if started:
            cells += [PlannedCell("extra", s) for s in extras.get(key, [])]
        else:
            waiting += extras.get(key, [])
    if not started:
        cells += [PlannedCell("extra", s) for s in waiting]
    unknown = sorted(set(hidden) - set(tests))
    if unknown:
        raise ValueError(f"hidden tests name grade_ids that are not test cells: {unknown}")
    return Plan(cells=cells, tests=tests, answered=answered, flags=flags)


def read_hidden_tests(path: Path) -> dict[str, str]:
    """Parse an instructor-only hidden-test file: sections ``# %% <grade_id>`` followed by code.

    Each section runs as its own cell right after the test cell with that ``grade_id``; the test
    cell's points are earned only if both pass. Feedback says only whether hidden tests passed.
    """
    sections: dict[str, list[str]] = {}
    current = None
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), start=1):
        m = re.match(r"^#\s*%%\s*(\S+)\s*$", line)
        if m:
            current = m.group(1)
            if current in sections:
                raise ValueError(f"{path}:{number}: a second section for {current}")
            sections[current] = []
        elif current is not None:
            sections[current].append(line)
        elif line.strip() and not line.lstrip().startswith("#"):
            raise ValueError(f"{path}:{number}: code before the first '# %% <grade_id>' line")
    return {k: "\n".join(v).strip() + "\n" for k, v in sections.items()}
