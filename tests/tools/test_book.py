"""booktools.book: the repository URL and the notebooks' Colab set-up cells."""


import pytest
import nbformat
from booktools.book import repo_url, setup_cell_source, sync_setup_cell, toc_files


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


def test_merge_streams_joins_a_table_printed_in_pieces():
    from booktools.book import merge_streams

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print(table)")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="a  1\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="b  2\n"),
                    nbformat.v4.new_output("stream", name="stderr", text="warning\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="c  3\n"),
                    nbformat.v4.new_output("stream", name="stdout", text="d  4\n")]
    nb.cells.append(cell)
    merge_streams(nb)
    assert [(o["name"], o["text"]) for o in nb.cells[0].outputs] == [
        ("stdout", "a  1\nb  2\n"), ("stderr", "warning\n"), ("stdout", "c  3\nd  4\n")]


def test_the_run_time_is_written_between_the_markers_and_into_the_table(tmp_path):
    import nbformat

    from booktools.book import format_duration, record_run_time, stamp_run_time

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("**Time:** an hour of reading; <!--run-time-->old<!--/run-time-->."),
        nbformat.v4.new_markdown_cell("<!--run-time-->not this one<!--/run-time-->")])
    assert stamp_run_time(nb, 125.4, "CPU only, 2 cores")
    assert nb.cells[0].source == ("**Time:** an hour of reading; <!--run-time-->the full run took 2 min 05 s on "
                                  "the book's machine (CPU only, 2 cores)<!--/run-time-->.")
    assert nb.cells[1].source == "<!--run-time-->not this one<!--/run-time-->"
    assert not stamp_run_time(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Time: 1 h")]), 1, "x")
    assert format_duration(59.6) == "1 min 00 s" and format_duration(7) == "7 s"
    table = tmp_path / "times.md"
    record_run_time(tmp_path / "b.ipynb", 61, "CPU only, 2 cores", table)
    record_run_time(tmp_path / "a.ipynb", 5, "GPU X, 16 CPU cores", table)
    record_run_time(tmp_path / "b.ipynb", 3, "CPU only, 2 cores", table)  # replaces b's row
    rows = [line for line in table.read_text().splitlines() if line.startswith("| ") and ".ipynb" in line]
    assert [r.split(" | ")[0] for r in rows] == ["| a.ipynb", "| b.ipynb"]
    assert "| 3 s | 5 min | within | CPU only, 2 cores |" in rows[1]
    assert "| (budgets are for the 2-core CPU) | GPU X, 16 CPU cores |" in rows[0]


def test_the_times_table_judges_each_run_against_its_budget(tmp_path):
    from booktools.book import FULL_SCALE_TRAINING, budget_verdict, parse_duration, record_run_time

    cpu = "CPU only, 2 cores"
    assert parse_duration("2 min 05 s") == 125 and parse_duration("7 s") == 7
    with pytest.raises(ValueError, match="not a run time"):
        parse_duration("about an hour")
    assert budget_verdict("chapters/01_why_not_mlp.ipynb", 300, cpu) == "within"
    assert budget_verdict("chapters/01_why_not_mlp.ipynb", 301, cpu) == "over by 1 s"
    assert "chapters/07_cifar10.ipynb" in FULL_SCALE_TRAINING
    assert budget_verdict("chapters/07_cifar10.ipynb", 900, cpu) == "within"
    assert budget_verdict("chapters/07_cifar10.ipynb", 6601, cpu) == "over by 95 min 01 s"
    # a table in the earlier four-column layout is read and rewritten with the budget columns
    table = tmp_path / "times.md"
    table.write_text("| notebook | full run | machine | date |\n|---|---|---|---|\n"
                     "| old.ipynb | 6 min 00 s | CPU only, 2 cores | 2026-11-30 |\n")
    record_run_time(tmp_path / "new.ipynb", 10, cpu, table)
    text = table.read_text()
    assert "| old.ipynb | 6 min 00 s | 5 min | over by 1 min 00 s | CPU only, 2 cores | 2026-11-30 |" in text
    assert "| new.ipynb | 10 s | 5 min | within |" in text
    assert "`chapters/07_cifar10.ipynb`: trains" in text
    # the budgets apply to any 2-core CPU, whatever its model
    assert budget_verdict("chapters/01_why_not_mlp.ipynb", 301, "CPU only, 2 cores (AMD EPYC)") == "over by 1 s"


def test_the_machine_line_names_the_cpu_model(monkeypatch):
    import booktools.book as book

    monkeypatch.setattr(book, "cpu_model", lambda: "Test CPU 9000")
    assert book.machine_line().endswith(" cores (Test CPU 9000)")
    monkeypatch.setattr(book, "cpu_model", lambda: "")
    assert book.machine_line().endswith(" cores")
