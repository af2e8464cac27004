"""booktools.book: the repository URL and the notebooks' Colab set-up cells."""


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
