"""Keeping the book's notebooks in order: set-up cells, table of contents, re-execution.

Command line (what ``make exercises`` and ``make execute`` call)::

    python -m booktools.book sync NOTEBOOK...      # rewrite each Colab set-up cell from _config.yml
    python -m booktools.book execute NOTEBOOK...   # re-run in a clean kernel, save outputs in place

The repository URL and the version of the course package that Colab installs are configured
once, in ``_config.yml`` (``repository.url``, and ``repository.package_tag`` -- a release tag; when
it is empty, ``repository.branch``); every notebook's hidden set-up cell is generated from them
here, and a test checks that the committed cells match.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import re
import sys
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
SETUP_TAG = "remove-cell"
SETUP_MARKER = "# Colab set-up"

__all__ = ["repo_url", "repo_branch", "package_tag", "package_ref", "setup_cell_source", "book_setup_cell",
           "toc_files", "sync_setup_cell", "execute", "strip_widget_state"]


def _load_yaml(path: Path) -> dict:
    import yaml

    if not path.exists():
        raise FileNotFoundError(f"{path} not found: run this from the book's repository")
    return yaml.safe_load(path.read_text(encoding="utf-8")) or {}


def _repository(root: Path) -> dict:
    return _load_yaml(root / "_config.yml").get("repository") or {}


def repo_url(root: Path = ROOT) -> str:
    """The repository URL from ``_config.yml`` (``repository.url``), without a trailing slash."""
    url = _repository(root).get("url")
    if not url:
        raise ValueError(f"{root / '_config.yml'} has no repository.url")
    return str(url).rstrip("/")


_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/+-]*")


def _ref(root: Path, key: str, default: str) -> str:
    value = str(_repository(root).get(key) or default).strip()
    if value and not _REF.fullmatch(value):
        raise ValueError(f"{root / '_config.yml'}: repository.{key} must be a git branch or tag name "
                         f"such as 'main' or 'v0.1.0'; got {value!r}")
    return value


def repo_branch(root: Path = ROOT) -> str:
    """The book's branch (``repository.branch`` in ``_config.yml``; ``main`` if unset)."""
    return _ref(root, "branch", "main")


def package_tag(root: Path = ROOT) -> str:
    """The release tag Colab installs (``repository.package_tag``), or ``""`` when none is set."""
    return _ref(root, "package_tag", "")


def package_ref(root: Path = ROOT) -> str:
    """What the set-up cells install: the release tag when one is set, else the branch."""
    return package_tag(root) or repo_branch(root)


def setup_cell_source(url: str, ref: str = "") -> str:
    """The hidden first code cell of every notebook: installs ``helpers`` in Colab if missing.

    In Colab it runs ``%pip install "cnn-book @ git+URL.git@REF"`` once per runtime (``ref`` a
    release tag, or a branch; no ``ref``: the default branch). Elsewhere (JupyterLab, the book
    build) it does nothing and prints nothing, so it never touches a reader's own environment.
    """
    if ref and not _REF.fullmatch(ref):
        raise ValueError(f"ref must be a git branch or tag name; got {ref!r}")
    at = f"@{ref}" if ref else ""
    return (
        f"{SETUP_MARKER} (hidden in the book): in Google Colab, install the course package `helpers`\n"
        "# once per runtime. Anywhere else this cell does nothing.\n"
        "import importlib.util\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules and importlib.util.find_spec("helpers") is None:\n'
        f'    %pip install --quiet "cnn-book @ git+{url}.git{at}"'
    )


def book_setup_cell(root: Path = ROOT) -> str:
    """The set-up cell of this book's notebooks, from ``_config.yml``: URL and :func:`package_ref`."""
    return setup_cell_source(repo_url(root), package_ref(root))


def toc_files(root: Path = ROOT) -> list[str]:
    """Every file listed in ``_toc.yml`` (root, chapters and their sections), without suffix."""
    toc = _load_yaml(root / "_toc.yml")
    files = [toc["root"]]

    def walk(entries):
        for entry in entries or []:
            if "file" in entry:
                files.append(entry["file"])
            walk(entry.get("sections"))
            walk(entry.get("chapters"))

    for part in toc.get("parts", []):
        walk(part.get("chapters"))
    walk(toc.get("chapters"))
    return files


def _setup_cell_index(nb) -> int | None:
    for i, cell in enumerate(nb.cells[:4]):
        if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
            return i
    return None


def sync_setup_cell(path: Path, url: str, ref: str = "") -> bool:
    """Make the notebook's set-up cell match ``setup_cell_source(url, ref)``. Returns True if changed.

    The cell goes right after the title cell; an existing set-up cell is rewritten in place. The
    file is read right before it is written, so a sync of many notebooks changes each one only
    for the moment of its own write.
    """
    source = setup_cell_source(url, ref)
    nb = nbformat.read(path, as_version=4)
    i = _setup_cell_index(nb)
    if i is not None and nb.cells[i].source == source:
        return False
    if i is None:
        cell = nbformat.v4.new_code_cell(source, metadata={"tags": [SETUP_TAG]})
        nb.cells.insert(1, cell)
    else:
        nb.cells[i].source = source
        tags = nb.cells[i].metadata.setdefault("tags", [])
        if SETUP_TAG not in tags:
            tags.append(SETUP_TAG)
    nbformat.write(nb, path)
    return True


def execute(path: Path, *, timeout: int = 3600) -> None:
    """Run a notebook top to bottom in a clean kernel and save its outputs in place.

    Always in full mode (``CNN_BOOK_MODE=full``), in the notebook's folder, as JupyterLab would
    run it. The checkpoints a chapter saves go to the package's ``helpers/checkpoints/`` (the
    ones that ship), since this is the book's own run: ``CNN_BOOK_CHECKPOINTS`` points there.
    """
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    os.environ["CNN_BOOK_MODE"] = "full"  # committed outputs always come from a full run
    os.environ["CNN_BOOK_CHECKPOINTS"] = str(ROOT / "helpers" / "checkpoints")
    os.environ["CNN_BOOK_GRADING"] = "1"  # a solution whose check is not ✅ stops the run (helpers.checks)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        record_timing=False,  # no timestamps in cell metadata: re-running changes only outputs
        store_widget_state=False,
        resources={"metadata": {"path": str(Path(path).parent)}},
    )
    print(f"executing {path} in full mode ...", flush=True)
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    strip_widget_state(nb)
    merge_streams(nb)
    machine = machine_line()
    stamp_run_time(nb, seconds, machine)
    nbformat.write(nb, path)
    record_run_time(Path(path), seconds, machine)
    print(f"{path}: {format_duration(seconds)} on {machine}", flush=True)


RUN_TIME = re.compile(r"(<!--run-time-->).*?(<!--/run-time-->)", re.S)
TIMES_TABLE = ROOT / "benchmarks" / "chapter_times.md"


def cpu_model() -> str:
    """The CPU's model name as the system reports it ("" where it does not say): two "2-core"
    machines may differ twice in speed (the book's ran on an Intel Xeon with AMX, which has
    bfloat16 matrix units, and on an AMD EPYC without them)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.lower().startswith("model name"):
                    return " ".join(line.split(":", 1)[1].split())
    except OSError:
        pass
    return platform.processor() or ""


def machine_line() -> str:
    """Where the notebooks ran: the GPU's name, or "CPU only", with the core count and CPU model."""
    import torch

    model = f" ({cpu_model()})" if cpu_model() else ""
    if torch.cuda.is_available():
        return f"GPU {torch.cuda.get_device_name(0)}, {os.cpu_count()} CPU cores{model}"
    return f"CPU only, {os.cpu_count()} cores{model}"


def format_duration(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes} min {secs:02d} s" if minutes else f"{secs} s"


def stamp_run_time(nb, seconds: float, machine: str) -> bool:
    """Write the full run's wall-clock time into the chapter's ``**Time:**`` line, between the
    markers ``<!--run-time-->`` and ``<!--/run-time-->`` (the only text this tool writes into a
    markdown cell; a notebook without the markers is left as it is). Returns whether it wrote."""
    for cell in nb.cells:
        if cell.cell_type == "markdown" and RUN_TIME.search(cell.source):
            text = f"the full run took {format_duration(seconds)} on the book's machine ({machine})"
            cell.source = RUN_TIME.sub(lambda m: m.group(1) + text + m.group(2), cell.source, count=1)
            return True
    return False


# The budget of a full run on the book's 2-core CPU (issue: "speed where readers wait"): five
# minutes, or fifteen for a notebook whose lesson is training at full scale -- these, and why.
BUDGET_MINUTES = 5
FULL_SCALE_BUDGET_MINUTES = 15
FULL_SCALE_TRAINING = {
    "chapters/06_mnist.ipynb": "trains and compares four networks on all of MNIST and Fashion-MNIST, three seeds each",
    "chapters/07_cifar10.ipynb": "trains the lecture's CNN and MLP on all of CIFAR-10, three seeds each, "
                                 "after a recipe sweep and an ablation",
    "chapters/08_architectures.ipynb": "races four CIFAR-10 models, three seeds each",
    "chapters/09_transfer.ipynb": "fine-tunes a pre-trained network against training from scratch, three seeds each",
    "chapters/13_speedrun.ipynb": "trains the 94 % recipe on all of CIFAR-10, after a three-seed ablation",
}


def budget_minutes(name: str) -> int:
    """The full-run budget of the notebook ``name`` (a path relative to the repository)."""
    return FULL_SCALE_BUDGET_MINUTES if name in FULL_SCALE_TRAINING else BUDGET_MINUTES


def parse_duration(text: str) -> float:
    """Seconds of a :func:`format_duration` string ("2 min 05 s", "7 s")."""
    match = re.fullmatch(r"(?:(\d+) min )?(\d+) s", text.strip())
    if not match:
        raise ValueError(f"not a run time written by format_duration: {text!r}")
    return 60 * int(match.group(1) or 0) + int(match.group(2))


def budget_verdict(name: str, seconds: float, machine: str) -> str:
    """"within" or "over by ..." against the notebook's budget; the budgets are for the 2-core CPU."""
    if not machine.startswith("CPU only, 2 cores"):
        return "(budgets are for the 2-core CPU)"
    over = seconds - 60 * budget_minutes(name)
    return "within" if over <= 0 else f"over by {format_duration(over)}"


def record_run_time(path: Path, seconds: float, machine: str, table: Path = TIMES_TABLE) -> None:
    """Update this notebook's row of the committed table of full-run times (written only here)."""
    rows = {}
    if table.is_file():
        for line in table.read_text().splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) in (4, 6) and cells[0].endswith(".ipynb"):
                name, run = cells[0], cells[1]
                machine_, date = (cells[2], cells[3]) if len(cells) == 4 else (cells[4], cells[5])
                rows[name] = (name, parse_duration(run), machine_, date)
    name = path.resolve().relative_to(ROOT).as_posix() if path.resolve().is_relative_to(ROOT) else path.name
    rows[name] = (name, seconds, machine, datetime.date.today().isoformat())
    lines = ["# Full-run times of the notebooks", "",
             "Written by `python -m booktools.book execute` (`make execute`) after each full run: the",
             "wall-clock time of the whole notebook, the machine and the date. Never edited by hand.", "",
             f"Budget on the book's 2-core CPU: {BUDGET_MINUTES} minutes, or {FULL_SCALE_BUDGET_MINUTES} for a "
             "notebook whose lesson is training at full scale:", ""]
    lines += [f"- `{k}`: {why}" for k, why in FULL_SCALE_TRAINING.items()]
    lines += ["", "| notebook | full run | budget | verdict | machine | date |", "|---|---|---|---|---|---|"]
    for key in sorted(rows):
        name_, secs, machine_, date = rows[key]
        lines.append(f"| {name_} | {format_duration(secs)} | {budget_minutes(name_)} min | "
                     f"{budget_verdict(name_, secs, machine_)} | {machine_} | {date} |")
    table.parent.mkdir(parents=True, exist_ok=True)
    table.write_text("\n".join(lines) + "\n")


def merge_streams(nb) -> None:
    """Join each cell's consecutive outputs of the same stream (stdout, stderr) into one, so that a
    table printed line by line shows as one block in the book, however the kernel flushed it."""
    for cell in nb.cells:
        merged = []
        for output in cell.get("outputs", []):
            if (output.get("output_type") == "stream" and merged
                    and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == output["name"]):
                merged[-1]["text"] = "".join(merged[-1]["text"]) + "".join(output["text"])
            else:
                merged.append(output)
        if "outputs" in cell:
            cell["outputs"] = merged


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def strip_widget_state(nb) -> None:
    """Drop saved ipywidgets state and views: the static book cannot run them (and would load a
    widget manager from a CDN), while JupyterLab and Colab recreate them when the cell runs."""
    nb.metadata.pop("widgets", None)
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            output.get("data", {}).pop(WIDGET_VIEW, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m booktools.book", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p_sync = sub.add_parser("sync", help="rewrite the Colab set-up cell of each notebook")
    p_sync.add_argument("notebooks", nargs="+", type=Path)
    p_exec = sub.add_parser("execute", help="re-run notebooks and save their outputs")
    p_exec.add_argument("notebooks", nargs="+", type=Path)
    args = parser.parse_args(argv)

    if args.command == "sync":
        url, ref = repo_url(), package_ref()
        for path in args.notebooks:
            if sync_setup_cell(path, url, ref):
                print(f"updated set-up cell: {path}")
        return 0
    for path in args.notebooks:
        if path.parts and path.parts[0] == "exercises":
            print(f"skipping {path}: exercise notebooks are generated without outputs")
            continue
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
