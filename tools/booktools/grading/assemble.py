"""Read a submitted notebook safely and rebuild it in the exercise notebook's order.

Only the student's *answer* cells and their own extra code cells are taken from a submission;
every other cell (set-up code, test cells, text) comes from the instructor's source. An answer
cell is found by its nbgrader ``grade_id``; failing that (VS Code, Colab and others drop the
nbgrader metadata) by its cell ``id``; failing that (no ids: nbformat 4.0-4.4) by its position
between the cells the student left as they were, which is flagged ``matched_by_position``.
Extra code cells run right after the cell they follow, so an answer written in a new cell below
an untouched stub runs, and counts. A cell that is not valid text (a lone surrogate) becomes a
cell that fails with that reason; it fails alone.
"""

from __future__ import annotations

import difflib
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4.rwbase import rejoin_lines

MAX_NOTEBOOK_BYTES = 20 * 2**20

__all__ = ["InvalidNotebook", "Plan", "PlannedCell", "plan_submission", "read_submission"]


class InvalidNotebook(ValueError):
    """A submission that cannot be graded; the message is the one-line reason for the gradebook."""


@dataclass
class PlannedCell:
    kind: str  # "source" (instructor code), "answer", "extra" (the student's own), "test"
    source: str
    grade_id: str | None = None


@dataclass
class Plan:
    cells: list[PlannedCell]
    answered: list[str] = field(default_factory=list)  # answer grade_ids with the student's work
    texts: dict[str, str] = field(default_factory=dict)  # free-text answers (manually graded)
    flags: list[str] = field(default_factory=list)


def meta(cell) -> dict:
    """A cell's nbgrader metadata, or {} when it is missing or malformed."""
    m = cell.get("metadata") if isinstance(cell, dict) else None
    m = m.get("nbgrader") if isinstance(m, dict) else None
    return m if isinstance(m, dict) else {}


def grade_id(cell) -> str | None:
    gid = meta(cell).get("grade_id")
    return gid if isinstance(gid, str) and gid else None


def read_submission(path: Path, *, max_bytes: int = MAX_NOTEBOOK_BYTES) -> nbformat.NotebookNode:
    """Parse a submitted file as a version-4 notebook, or raise InvalidNotebook with a reason."""
    try:
        size = Path(path).stat().st_size
        raw = Path(path).read_bytes() if size <= max_bytes else b""
    except OSError as exc:
        raise InvalidNotebook(f"cannot read the file: {exc.strerror}") from None
    if size > max_bytes:
        raise InvalidNotebook(f"file is {size / 2**20:.1f} MB, over the {max_bytes / 2**20:.0f} MB limit "
                              "(clear the outputs and submit again)")
    if size == 0:
        raise InvalidNotebook("file is empty")
    try:
        text = raw.decode("utf-8-sig")
        data = json.loads(text)
    except UnicodeDecodeError:
        raise InvalidNotebook("not a text file (is it really an .ipynb notebook?)") from None
    except json.JSONDecodeError as exc:
        hint = "the file is cut short" if _unclosed(text) else "malformed JSON"
        raise InvalidNotebook(f"not valid notebook JSON ({hint}: {exc.msg} at line {exc.lineno})") from None
    except RecursionError:
        raise InvalidNotebook("not valid notebook JSON (nested too deeply)") from None
    if not isinstance(data, dict) or ("cells" not in data and "worksheets" not in data):
        raise InvalidNotebook("JSON but not a Jupyter notebook (no 'cells')")
    if data.get("nbformat") != 4:
        raise InvalidNotebook(f"notebook format {data.get('nbformat')!r} is not supported; "
                              "open and save it with Jupyter 4 or later")
    cells = data.get("cells")
    if isinstance(cells, list) and any(isinstance(c, dict) and "id" not in c for c in cells) \
            and isinstance(data.get("nbformat_minor"), int) and data["nbformat_minor"] >= 5:
        data["nbformat_minor"] = 4  # ids missing (an editor dropped them): match by position
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = rejoin_lines(nbformat.from_dict(data))
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
                return False
    return in_string or bool(stack)


def _norm(text: str) -> str:
    return "\n".join(line.rstrip() for line in str(text).strip().splitlines())


def _safe(source: str, where: str) -> str:
    """The cell's code, or code that fails with the reason if it is not valid text."""
    try:
        source.encode("utf-8")
        return source
    except UnicodeEncodeError as exc:
        line = source[: exc.start].count("\n") + 1
        return (f"raise SyntaxError({where!r} + ': line {line} holds a character that is not valid text "
                "(a lone surrogate); retype that line')")


def _match(cells: list, exercise) -> tuple[dict[int, int], list[str]]:
    """Map submission cell index -> exercise cell index for the cells the student kept or answered."""
    by_gid = {grade_id(c): i for i, c in enumerate(exercise.cells) if grade_id(c)}
    by_id = {c.get("id"): i for i, c in enumerate(exercise.cells) if c.get("id")}
    answers = {i for i, c in enumerate(exercise.cells) if meta(c).get("solution")}
    mapping, flags, taken = {}, [], set()
    for j, cell in enumerate(cells):
        raw = cell.get("metadata", {}).get("nbgrader")
        if raw is not None and (not isinstance(raw, dict) or not isinstance(raw.get("grade_id", ""), str)):
            flags.append("malformed_nbgrader_metadata")  # ignored: the cell is matched by id or position
        i = by_gid.get(grade_id(cell))
        if i is None and isinstance(cell.get("id"), str):
            i = by_id.get(cell.get("id"))
        if i is not None and exercise.cells[i].cell_type == cell.get("cell_type") and i not in taken:
            mapping[j] = i
            taken.add(i)
        elif i is not None and i in answers and i in taken:
            flags.append(f"duplicate_answer_cell:{grade_id(exercise.cells[i])}")
    # the rest by position: align on the cells left as handed out, then fill the gaps in order
    sig = lambda c: (c.get("cell_type"), _norm(c.get("source", "")))  # noqa: E731
    left = [j for j in range(len(cells)) if j not in mapping]
    free = [i for i in range(len(exercise.cells)) if i not in taken]
    matcher = difflib.SequenceMatcher(None, [sig(cells[j]) for j in left],
                                      [sig(exercise.cells[i]) for i in free], autojunk=False)
    for tag, a1, a2, b1, b2 in matcher.get_opcodes():
        if tag == "equal":
            mapping.update({left[a]: free[b] for a, b in zip(range(a1, a2), range(b1, b2))})
        elif tag == "replace":
            todo = [free[b] for b in range(b1, b2) if free[b] in answers]
            for a in range(a1, a2):
                hit = next((i for i in todo if exercise.cells[i].cell_type == cells[left[a]].get("cell_type")), None)
                if hit is not None:
                    todo.remove(hit)
                    mapping[left[a]] = hit
                    flags.append(f"matched_by_position:{grade_id(exercise.cells[hit])}")
    return mapping, flags


def plan_submission(submission, exercise) -> Plan:
    """Rebuild a submission in the exercise's order (see the module docstring).

    Raises:
        InvalidNotebook: it has none of the assignment's cells, or its structure is malformed.
    """
    try:
        return _plan(submission, exercise)
    except InvalidNotebook:
        raise
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise InvalidNotebook(f"the notebook's structure is malformed ({type(exc).__name__}: {exc})"[:200]) from None


def _plan(submission, exercise) -> Plan:
    cells = [c for c in submission.cells if isinstance(c, dict)]
    mapping, flags = _match(cells, exercise)
    positional = {f.split(":", 1)[1] for f in flags if f.startswith("matched_by_position:")}
    if not any(grade_id(exercise.cells[i]) not in (None, *positional) for i in mapping.values()):
        first = next((grade_id(c) for c in exercise.cells if grade_id(c)), "?")
        raise InvalidNotebook(f"none of this assignment's exercise cells were found (expected cells such as "
                              f"{first}): is this the right notebook?")
    answers: dict[int, str] = {}
    extras: dict[int, list[str]] = {}  # exercise cell index the extra cells followed (-1: before all)
    anchor = -1
    for j, cell in enumerate(cells):
        if j in mapping:
            anchor = mapping[j]
            if meta(exercise.cells[anchor]).get("solution"):
                answers[anchor] = str(cell.get("source", ""))
        elif cell.get("cell_type") == "code" and str(cell.get("source", "")).strip():
            extras.setdefault(anchor, []).append(str(cell.get("source", "")))
    plan = Plan(cells=[], flags=flags)
    first_answer = next((i for i, c in enumerate(exercise.cells) if meta(c).get("solution")), 0)
    pending = list(extras.get(-1, []))
    for i, cell in enumerate(exercise.cells):
        m, gid = meta(cell), grade_id(cell)
        if i == first_answer:
            plan.cells += [PlannedCell("extra", _safe(s, "an extra cell"), None) for s in pending]
            pending = []
        if m.get("solution"):
            if i not in answers:
                plan.flags.append(f"missing_answer_cell:{gid}")
            text = answers.get(i, cell.source)
            changed = _norm(text) != _norm(cell.source)
            if cell.cell_type == "code":
                plan.cells.append(PlannedCell("answer", _safe(text, f"answer cell {gid}"), gid))
                if changed or extras.get(i):
                    plan.answered.append(gid)
                if extras.get(i) and not changed:
                    plan.flags.append(f"answer_below_stub:{gid}")
            elif changed:
                plan.texts[gid] = text
                plan.answered.append(gid)
        elif cell.cell_type == "code" and m.get("grade"):
            plan.cells.append(PlannedCell("test", "", gid))
        elif cell.cell_type == "code" and cell.source.strip():
            plan.cells.append(PlannedCell("source", cell.source, gid))
        if i >= first_answer:
            plan.cells += [PlannedCell("extra", _safe(s, "an extra cell"), None) for s in extras.get(i, [])]
        else:
            pending += extras.get(i, [])
    plan.cells += [PlannedCell("extra", _safe(s, "an extra cell"), None) for s in pending]
    return plan
