"""nbgrader preprocessors that make ``nbgrader generate_assignment`` write the book's exercises.

nbgrader's own ``ClearSolutions`` replaces every solution region with ``raise
NotImplementedError()``: a pencil-and-paper answer ``answer_2_1 = -10`` then disappears, and the
check cell below fails with a ``NameError`` instead of the book's ⏳ "not done yet". And the
title keeps its " — solutions" suffix. With ``nbgrader_config.py`` (repository root) nbgrader
uses these instead, which call the same code as ``python -m booktools.grading generate``:

* :class:`BookClearSolutions` -- the book's stubs (``answer_2_1 = ...``; ``raise
  NotImplementedError("Exercise 2.6: write your code here")`` in a function body; ``YOUR ANSWER
  HERE`` in a free-text answer);
* :class:`DropSolutionsTitle` -- the title without " — solutions".
"""

from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions, NbGraderPreprocessor

from booktools.grading.generate import BEGIN, END, TITLE_SUFFIX, _replace_regions, _stub, exercise_label

__all__ = ["BookClearSolutions", "DropSolutionsTitle", "configure"]


class BookClearSolutions(ClearSolutions):
    """``ClearSolutions`` with the book's stubs (see :mod:`booktools.grading.generate`)."""

    def _replace_solution_region(self, cell, language):
        if not any(line.strip().startswith(BEGIN) for line in cell.source.split("\n")):
            return False
        if cell.cell_type == "code":
            label = exercise_label(cell.metadata.get("nbgrader", {}).get("grade_id", ""))
            cell.source = _replace_regions(cell.source, BEGIN, END, lambda region, ind: _stub(region, ind, label))
        else:
            cell.source = _replace_regions(cell.source, BEGIN, END, lambda region, ind: [f"{ind}{self.text_stub}"])
        return True


class DropSolutionsTitle(NbGraderPreprocessor):
    """Drop " — solutions" from the end of the first line of the first (title) cell."""

    def preprocess(self, nb, resources):
        if nb.cells and nb.cells[0].cell_type == "markdown":
            lines = nb.cells[0].source.split("\n")
            if lines[0].endswith(TITLE_SUFFIX):
                lines[0] = lines[0][: -len(TITLE_SUFFIX)]
                nb.cells[0].source = "\n".join(lines)
        return nb, resources


def configure(c) -> None:
    """Point an nbgrader config at the preprocessors above (used by ``nbgrader_config.py``)."""
    from nbgrader.converters import GenerateAssignment

    steps = list(GenerateAssignment.class_traits()["preprocessors"].default())
    steps = [BookClearSolutions if step is ClearSolutions else step for step in steps]
    c.GenerateAssignment.preprocessors = [DropSolutionsTitle, *steps]
    c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
