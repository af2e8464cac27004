"""Turn a solution notebook into the student's exercise notebook.

In every cell nbgrader marks as a solution (``metadata.nbgrader.solution``), each
``### BEGIN SOLUTION`` ... ``### END SOLUTION`` region is replaced by a stub:

* a region made only of assignments (``answer_2_1 = -6``) becomes ``answer_2_1 = ...`` -- a
  pencil-and-paper answer the student types in; ``...`` is what the check cell reads as
  "not done yet";
* any other region (a function body) becomes ``raise NotImplementedError("Exercise 2.3: ...")``,
  indented like the region, so the signature and docstring stay;
* in a markdown cell the region becomes ``YOUR ANSWER HERE`` (nbgrader's own stub).

``### BEGIN HIDDEN TESTS`` ... ``### END HIDDEN TESTS`` regions are removed, outputs and
execution counts and timings cleared, and the title's " — solutions" suffix dropped. Everything else,
nbgrader metadata and cell ids included, is kept, so that the result is deterministic and a test
can compare the committed exercises with a fresh generation.
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
from pathlib import Path

import nbformat

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
TITLE_SUFFIX = " — solutions"

__all__ = ["exercise_label", "generate_exercise", "generate_all"]


def exercise_label(grade_id: str) -> str:
    """``"ex02_3_conv_loop"`` -> ``"2.3"``; other ids are returned unchanged."""
    m = re.match(r"ex0*(\d+)_0*(\d+)", grade_id or "")
    return f"{m.group(1)}.{m.group(2)}" if m else (grade_id or "?")


def _stub(region: list[str], indent: str, label: str) -> list[str]:
    """The student's version of one solution region (a list of source lines)."""
    body = textwrap.dedent("\n".join(region))
    try:
        tree = ast.parse(body)
    except SyntaxError:
        tree = None
    names = []
    if tree is not None and tree.body:
        for stmt in tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                names.append(stmt.targets[0].id)
            else:
                names = []
                break
    if names:
        return [f"{indent}{name} = ...  # your answer here" for name in names]
    return [f'{indent}raise NotImplementedError("Exercise {label}: write your code here")']


def _replace_regions(source: str, begin: str, end: str, replace) -> str:
    lines = source.split("\n")
    out: list[str] = []
    region: list[str] | None = None
    indent = ""
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith(begin):
            if region is not None:
                raise ValueError(f"line {number}: {begin!r} inside another region")
            region, indent = [], line[: len(line) - len(line.lstrip())]
        elif stripped.startswith(end):
            if region is None:
                raise ValueError(f"line {number}: {end!r} without {begin!r}")
            out.extend(replace(region, indent))
            region = None
        elif region is not None:
            region.append(line)
        else:
            out.append(line)
    if region is not None:
        raise ValueError(f"{begin!r} is never closed by {end!r}")
    return "\n".join(out)


def generate_exercise(solution: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return the exercise version of a solution notebook (the input is not modified)."""
    nb = copy.deepcopy(solution)
    if not nb.cells or nb.cells[0].cell_type != "markdown":
        raise ValueError("a solution notebook must start with a markdown title cell")
    title_lines = nb.cells[0].source.split("\n")
    if not title_lines[0].endswith(TITLE_SUFFIX):
        raise ValueError(f"the solution notebook's title must end with {TITLE_SUFFIX!r}")
    title_lines[0] = title_lines[0][: -len(TITLE_SUFFIX)]
    nb.cells[0].source = "\n".join(title_lines)

    for index, cell in enumerate(nb.cells):
        meta = cell.metadata.get("nbgrader", {})
        label = exercise_label(meta.get("grade_id", ""))
        try:
            if meta.get("solution"):
                if cell.cell_type == "code":
                    cell.source = _replace_regions(
                        cell.source, BEGIN, END, lambda r, ind: _stub(r, ind, label)
                    )
                else:
                    cell.source = _replace_regions(
                        cell.source, BEGIN, END, lambda r, ind: [f"{ind}YOUR ANSWER HERE"]
                    )
            cell.metadata.pop("execution", None)  # run timings of the solution notebook
            if cell.cell_type == "code":
                cell.source = _replace_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, lambda r, i: [])
                cell.outputs = []
                cell.execution_count = None
        except ValueError as exc:
            raise ValueError(f"cell {index} ({meta.get('grade_id', 'no grade_id')}): {exc}") from None
    return nb


def generate_all(solutions_dir: Path, exercises_dir: Path, *, check: bool = False) -> list[Path]:
    """Write ``exercises_dir/X.ipynb`` for every ``solutions_dir/X.ipynb``.

    Args:
        solutions_dir: the folder of solution notebooks, or a single solution notebook.
        check: only compare; return the exercise files that differ from a fresh generation
            (or are missing) instead of writing them.

    Returns:
        The files written (or, with ``check``, the files that are out of date).
    """
    solutions_dir, exercises_dir = Path(solutions_dir), Path(exercises_dir)
    sources = [solutions_dir] if solutions_dir.is_file() else sorted(solutions_dir.glob("*.ipynb"))
    changed = []
    for sol_path in sources:
        exercise = generate_exercise(nbformat.read(sol_path, as_version=4))
        text = nbformat.writes(exercise) + "\n"
        target = exercises_dir / sol_path.name
        if target.exists() and target.read_text(encoding="utf-8") == text:
            continue
        changed.append(target)
        if not check:
            exercises_dir.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    return changed
