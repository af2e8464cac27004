"""Test-wide settings: quick mode for every notebook kernel, and notebooks run as in Colab.

At the repository root so that it applies however pytest is called, also to one notebook alone
(`pytest chapters/07_cifar10.ipynb`), not only when tests/ is collected.

Notebooks (nbval's chapters and solutions, and tests/tools/test_notebooks.py's exercises) run in a
Colab-like runtime (``booktools.colab``), made once per test session when the first notebook
needs it: the course package installed by the notebooks' own set-up cell from a git snapshot of
this checkout, not the editable ``helpers`` of ``.venv``; each kernel in an empty folder of its
own, with ``google.colab`` imported. tests/tools/test_colab_setup.py says why it is done this way.
``CNN_BOOK_TEST_KERNEL=local`` runs them in this environment instead, in the notebook's folder
(quicker to start when iterating on one notebook; not what ``make test`` does).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from pathlib import Path

import pytest

# Notebook kernels inherit this process's environment: small subsets and few epochs.
os.environ["CNN_BOOK_MODE"] = "quick"
# Checks that are not ✅ raise, as under a grader: a solution failing its own check fails its test
# (tests of the student's view, which only prints, remove it).
os.environ["CNN_BOOK_GRADING"] = "1"
# One thread per kernel: the machines that run the tests have two cores and run two things at once.
os.environ.setdefault("OMP_NUM_THREADS", "1")
# Figures render off-screen.
os.environ.setdefault("MPLBACKEND", "Agg")

_runtime: dict = {}


def colab_runtime_for(config: pytest.Config):
    """The session's Colab-like runtime (built on first use; an error is raised again each time)."""
    if "value" not in _runtime:
        from booktools.colab import build

        folder = Path(tempfile.mkdtemp(prefix="cnn-book-colab-"))
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
        try:
            _runtime["value"] = build(folder / "runtime")
        except Exception as exc:  # reported by every notebook that needed it
            _runtime["value"] = RuntimeError(f"the Colab-like runtime could not be made: {exc}")
        else:
            runtime = _runtime["value"]
            os.environ["JUPYTER_PATH"] = os.pathsep.join(
                filter(None, [str(runtime.jupyter_path), os.environ.get("JUPYTER_PATH")]))
            # kernels are forked from one that has imported the stack (booktools.colab, PRELOAD);
            # without it they start as before, only slower
            try:
                runtime.start_zygote()
            except (OSError, RuntimeError) as exc:
                warnings.warn(f"notebook kernels start without the kernel zygote: {exc}")
            else:
                config.add_cleanup(runtime.stop_zygote)
    if isinstance(_runtime["value"], Exception):
        raise _runtime["value"]
    return _runtime["value"]


def _local() -> bool:
    return os.environ.get("CNN_BOOK_TEST_KERNEL", "").strip().lower() == "local"


@pytest.fixture(scope="session")
def colab_runtime(request):
    """The Colab-like runtime (``booktools.colab.ColabRuntime``) every notebook runs in."""
    return colab_runtime_for(request.config)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Before nbval starts a notebook's kernel: make it a Colab-like one."""
    if type(item).__module__ != "nbval.plugin" or _local():
        return
    from booktools.colab import KERNEL_NAME

    colab_runtime_for(item.config)
    item.config.option.nbval_current_env = False
    item.config.option.nbval_kernel_name = KERNEL_NAME


# Parallel runs (pytest-xdist, ``-n N --dist loadfile --no-loadscope-reorder``, as ``make test`` does):
# the tests of one file run on one worker -- a notebook's cells share one kernel, and module- and
# session-scoped fixtures (the built book, a graded batch) are made once. The files below are handed
# out first, longest first, so that no long file is left running alone at the end (a scheduling hint
# only: any order gives the same results). Without --no-loadscope-reorder, pytest-xdist 3.5 and later
# hand out the files with the most tests first instead, whatever their length: the grader's book
# tests (14 tests, over two minutes) then started two thirds of the way through and ran alone at
# the end (one core idle for 33 s of a 395-s run, 2026-12-08). Order: per-file wall-clock times of
# that run (each file's tests on one worker, the other worker busy beside it).
SLOW_FIRST = ("tests/tools/test_grading_book.py", "tests/tools/test_browser.py", "tests/widgets/test_conv.py",
              "tests/tools/test_notebooks.py", "tests/tools/test_grading_batch.py", "tests/tools/test_explorer_page.py",
              "chapters/13_", "chapters/07_", "tests/tools/test_grading.py", "chapters/A1_",
              "tests/tools/test_colab_setup.py", "tests/tools/test_grading_nbgrader.py", "chapters/11_",
              "tests/tools/test_grading_cheats.py", "chapters/08_", "solutions/07_", "tests/training/test_distributed.py")


def pytest_collection_modifyitems(config, items):
    def rank(item):
        path = item.nodeid.split("::", 1)[0]
        return next((i for i, prefix in enumerate(SLOW_FIRST) if path.startswith(prefix)), len(SLOW_FIRST))

    items.sort(key=rank)  # stable: the order within a file is kept


def pytest_report_header(config):
    if _local():
        return "notebooks: this environment's kernel, in each notebook's folder (CNN_BOOK_TEST_KERNEL=local)"
    return "notebooks: a Colab-like kernel each, in an empty folder, helpers installed by the set-up cell"
