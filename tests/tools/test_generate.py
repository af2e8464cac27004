"""booktools.grading.generate: exercise notebooks made from solution notebooks."""


import nbformat
import pytest
from booktools.grading import exercise_label, generate_all, generate_exercise


def _solution_notebook():
    def meta(**kw):
        return {"nbgrader": {"schema_version": 3, "task": False, **kw}}

    cells = [
        nbformat.v4.new_markdown_cell("# Exercises 09 · Test — solutions\nintro"),
        nbformat.v4.new_code_cell(
            "### BEGIN SOLUTION\nanswer_9_1 = 6 * (5 * 5 * 3 + 1)\nother = [1,\n 2]\n### END SOLUTION",
            metadata=meta(solution=True, grade=False, locked=False, grade_id="ex09_1_answer"),
        ),
        nbformat.v4.new_code_cell(
            "check('9.1', answer_9_1, 456)\n### BEGIN HIDDEN TESTS\nassert answer_9_1 == 456\n### END HIDDEN TESTS",
            metadata=meta(solution=False, grade=True, locked=True, points=1, grade_id="ex09_1_check"),
        ),
        nbformat.v4.new_code_cell(
            'def f(x):\n    """Doc."""\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n    ### END SOLUTION',
            metadata=meta(solution=True, grade=False, locked=False, grade_id="ex09_2_answer"),
        ),
        nbformat.v4.new_markdown_cell(
            "Why?\n\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
            metadata=meta(solution=True, grade=False, locked=False, grade_id="ex09_3_answer"),
        ),
    ]
    cells[2].outputs = [nbformat.v4.new_output("stream", text="✅")]
    cells[2].execution_count = 3
    return nbformat.v4.new_notebook(cells=cells)


def test_generate_exercise_stubs():
    solution = _solution_notebook()
    before = nbformat.writes(solution)
    ex = generate_exercise(solution)
    assert nbformat.writes(solution) == before, "the solution notebook must not be modified"
    assert ex.cells[0].source == "# Exercises 09 · Test\nintro"
    assert ex.cells[1].source == "answer_9_1 = ...  # your answer here\nother = ...  # your answer here"
    assert ex.cells[2].source == "check('9.1', answer_9_1, 456)"
    assert ex.cells[2].outputs == [] and ex.cells[2].execution_count is None
    assert ex.cells[3].source == (
        'def f(x):\n    """Doc."""\n    raise NotImplementedError("Exercise 9.2: write your code here")'
    )
    assert ex.cells[4].source == "Why?\n\nYOUR ANSWER HERE"
    assert ex.cells[1].metadata == solution.cells[1].metadata
    assert [c.id for c in ex.cells] == [c.id for c in solution.cells]


def test_generate_errors():
    nb = _solution_notebook()
    nb.cells[0].source = "# No suffix"
    with pytest.raises(ValueError, match="title must end with ' — solutions'"):
        generate_exercise(nb)
    nb = _solution_notebook()
    nb.cells[1].source = "### BEGIN SOLUTION\nx = 1"
    with pytest.raises(ValueError, match="ex09_1_answer.*never closed"):
        generate_exercise(nb)
    nb.cells[1].source = "x = 1\n### END SOLUTION"
    with pytest.raises(ValueError, match="without"):
        generate_exercise(nb)


def test_generate_all_writes_then_is_up_to_date(tmp_path):
    (tmp_path / "solutions").mkdir()
    nbformat.write(_solution_notebook(), tmp_path / "solutions" / "09_test.ipynb")
    written = generate_all(tmp_path / "solutions", tmp_path / "exercises")
    assert written == [tmp_path / "exercises" / "09_test.ipynb"]
    assert generate_all(tmp_path / "solutions", tmp_path / "exercises", check=True) == []
    (tmp_path / "exercises" / "09_test.ipynb").write_text("{}")
    assert generate_all(tmp_path / "solutions", tmp_path / "exercises", check=True) != []


def test_exercise_label():
    assert exercise_label("ex02_3_check") == "2.3"
    assert exercise_label("ex12_10_answer") == "12.10"
    assert exercise_label("custom") == "custom"
