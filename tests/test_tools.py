"""helpers.config, helpers.checks, helpers.images, booktools.book and the exercise generator."""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np
import pytest

from helpers import checks, config
from booktools.book import repo_url, setup_cell_source, sync_setup_cell, toc_files
from booktools.grading import exercise_label, generate_all, generate_exercise
from helpers.data.photos import PHOTOS, sample_photo, to_gray
from helpers.scratch.conv import conv2d

# ----------------------------------------------------------------------------- config


def test_data_root_precedence(monkeypatch, tmp_path):
    monkeypatch.delenv("CNN_BOOK_DATA", raising=False)
    assert config.data_root() == Path.home() / ".cache" / "cnn-book"
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path))
    assert config.data_root() == tmp_path
    assert config.data_root(tmp_path / "explicit") == tmp_path / "explicit"


def test_mode(monkeypatch):
    monkeypatch.delenv("CNN_BOOK_MODE", raising=False)
    assert config.mode() == "full" and not config.is_quick()
    monkeypatch.setenv("CNN_BOOK_MODE", " Quick ")
    assert config.mode() == "quick" and config.is_quick()
    monkeypatch.setenv("CNN_BOOK_MODE", "fast")
    with pytest.raises(ValueError, match=r"CNN_BOOK_MODE must be one of \('full', 'quick'\); got 'fast'"):
        config.mode()


# ----------------------------------------------------------------------------- checks


def test_check_correct_prints(capsys):
    checks.check("1.1", 115, 115)
    checks.check("1.2", np.array([1.0, 2.0]), [1.0, 2.0 + 1e-9])
    assert capsys.readouterr().out.count("✅") == 2


def test_check_not_done_and_wrong():
    with pytest.raises(checks.NotDoneYet, match="Exercise 1.1: not done yet"):
        checks.check("1.1", ..., 115)
    with pytest.raises(checks.CheckFailed, match="You gave 187") as info:
        checks.check("1.1", 187, 115, reveal=False, hint="count the inputs")
    assert "115" not in str(info.value) and "Hint: count the inputs" in str(info.value)
    with pytest.raises(checks.CheckFailed, match="Expected 115"):
        checks.check("1.1", 187, 115)
    with pytest.raises(checks.CheckFailed):  # shape mismatch is wrong, not broadcast
        checks.check("1.3", np.zeros((2, 2)), np.zeros((1, 2, 2)))
    # IPython shows only the message, no traceback
    assert checks.NotDoneYet("x")._render_traceback_() == ["x"]
    assert issubclass(checks.CheckFailed, AssertionError)


def test_check_function():
    def stub(x, k):
        raise NotImplementedError("Exercise 2.3: write your code here")

    def wrong(x, k):
        return conv2d(x, k) + 1

    def crashes(x, k):
        return x[100]

    cases = [((np.eye(4), np.ones((2, 2))), {}), ((np.ones((3, 5)), np.ones((2, 3))), {})]
    checks.check_function("2.3", lambda x, k: conv2d(x, k), conv2d, cases)
    with pytest.raises(checks.NotDoneYet):
        checks.check_function("2.3", stub, conv2d, cases)
    with pytest.raises(checks.CheckFailed, match=r"case 1 of 2, wrong\(<array \(4, 4\)>"):
        checks.check_function("2.3", wrong, conv2d, cases)
    with pytest.raises(checks.CheckFailed, match="raised IndexError"):
        checks.check_function("2.3", crashes, conv2d, cases)


# ----------------------------------------------------------------------------- images


@pytest.mark.parametrize("name", PHOTOS)
def test_sample_photos_ship_with_packages(name):
    rgb = sample_photo(name)
    assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[-1] == 3 and rgb.std() > 10
    gray = sample_photo(name, gray=True)
    assert gray.shape == rgb.shape[:2]
    np.testing.assert_allclose(gray, to_gray(rgb))


def test_photo_errors():
    with pytest.raises(ValueError, match="name must be one of"):
        sample_photo("lena")
    with pytest.raises(ValueError, match=r"shape \(H, W, 3\); got shape \(4, 4\)"):
        to_gray(np.zeros((4, 4)))


# ----------------------------------------------------------------------------- book tools


def test_repo_url_and_setup_cell():
    url = repo_url()
    assert url.startswith("https://") and not url.endswith("/")
    source = setup_cell_source(url)
    assert f"git+{url}.git" in source and '"google.colab" in sys.modules' in source
    assert "index.html" not in toc_files() and toc_files()[0] == "intro"


def test_sync_setup_cell(tmp_path):
    path = tmp_path / "nb.ipynb"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# T"), nbformat.v4.new_code_cell("1 + 1")])
    nbformat.write(nb, path)
    assert sync_setup_cell(path, "https://example.org/r")
    cells = nbformat.read(path, as_version=4).cells
    assert [c.cell_type for c in cells] == ["markdown", "code", "code"]
    assert cells[1].source == setup_cell_source("https://example.org/r")
    assert cells[1].metadata["tags"] == ["remove-cell"]
    assert not sync_setup_cell(path, "https://example.org/r")  # idempotent
    assert sync_setup_cell(path, "https://example.org/other")  # rewritten in place
    cells = nbformat.read(path, as_version=4).cells
    assert len(cells) == 3 and "example.org/other" in cells[1].source


# ----------------------------------------------------------------------------- generator


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


def test_display_path_names_no_machine_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("CNN_BOOK_DATA", str(tmp_path / "data"))
    assert config.display_path(tmp_path / "data" / "cifar10" / "train") == "$CNN_BOOK_DATA/cifar10/train"
    assert config.display_path(tmp_path / "data") == "$CNN_BOOK_DATA"
    assert config.describe().endswith("data folder: $CNN_BOOK_DATA")
    monkeypatch.delenv("CNN_BOOK_DATA")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert config.display_path(tmp_path / ".cache" / "cnn-book" / "MNIST") == "~/.cache/cnn-book/MNIST"
    assert config.display_path(tmp_path / "elsewhere") == "~/elsewhere"
