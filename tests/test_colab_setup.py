"""The hidden set-up cell, met the way Colab meets it.

Colab has the scientific stack (torch, numpy, matplotlib, ...) but not the course package. So:
a fresh virtual environment that sees those libraries but not ``helpers``, a fake ``google.colab``
module, and the repository reachable at a git URL (a bare clone of this checkout standing in for
the URL in ``_config.yml``). Executing a notebook's first cells there must install the package
with the set-up cell's own ``%pip install`` line, import ``helpers`` and run the imports.
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from booktools.book import ROOT, SETUP_MARKER, repo_url, setup_cell_source

pytestmark = pytest.mark.skipif(
    subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0,
    reason="needs the repository's git history (a bare clone stands in for the URL in _config.yml)",
)


@pytest.fixture(scope="module")
def colab_like(tmp_path_factory):
    root = tmp_path_factory.mktemp("colab")
    bare = root / "cnn-book.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(bare)], check=True)
    env_dir = root / "env"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Colab's preinstalled libraries: this environment's site-packages, but not its own
    # editable install of the course package (that .pth is not processed from a path line).
    (site / "colab_preinstalled.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    colab = site / "google" / "colab"
    colab.mkdir(parents=True)
    (site / "google" / "__init__.py").write_text("")
    (colab / "__init__.py").write_text('"""Stand-in for Colab\'s module: its presence is what the cell checks."""\n')
    (site / "colab_startup.pth").write_text("import google.colab\n")  # Colab imports it at start-up
    kernel = root / "kernels" / "colab"
    kernel.mkdir(parents=True)
    (kernel / "kernel.json").write_text(
        '{"argv": ["%s", "-m", "ipykernel_launcher", "-f", "{connection_file}"], '
        '"display_name": "colab-like", "language": "python"}' % python
    )
    return python, bare, root


def test_fresh_environment_lacks_the_package(colab_like):
    python, _, _ = colab_like
    probe = subprocess.run([python, "-c", "import importlib.util as u; print(u.find_spec('helpers') is None, "
                                          "u.find_spec('torch') is not None)"],
                           capture_output=True, text=True, cwd="/", check=True)
    assert probe.stdout.split() == ["True", "True"]


@pytest.mark.parametrize("notebook", ["chapters/02_convolution.ipynb", "exercises/01_why_not_mlp.ipynb"])
def test_setup_cell_installs_helpers_and_the_imports_run(colab_like, notebook, monkeypatch):
    python, bare, root = colab_like
    nb = nbformat.read(ROOT / notebook, as_version=4)
    setup = nb.cells[1]
    assert setup.source == setup_cell_source(repo_url()) and setup.source.startswith(SETUP_MARKER)
    # the same cell with the bare clone standing in for the GitHub URL (no network here)
    setup.source = setup_cell_source(f"file://localhost{bare.with_suffix('')}")
    first_code = [setup] + [c for c in nb.cells[2:] if c.cell_type == "code"][:1]
    check = nbformat.v4.new_code_cell(
        "import helpers, sys\nprint('helpers from', helpers.__file__)\nprint('colab' , 'google.colab' in sys.modules)")
    small = nbformat.v4.new_notebook(cells=first_code + [check])
    monkeypatch.setenv("JUPYTER_PATH", str(root))
    # build with the preinstalled setuptools instead of fetching one (the tests run offline)
    monkeypatch.setenv("PIP_NO_BUILD_ISOLATION", "0")
    client = NotebookClient(small, timeout=600, kernel_name="colab", allow_errors=True,
                            resources={"metadata": {"path": str(root)}})
    client.execute()
    setup_output = "".join(o.get("text", "") for o in small.cells[0].outputs)
    printed = "".join(o.get("text", "") for o in small.cells[-1].outputs)
    assert "helpers from" in printed and str(ROOT) not in printed, (setup_output, printed)
    assert "colab True" in printed


def test_setup_cell_does_nothing_outside_colab():
    namespace: dict = {}
    source = setup_cell_source(repo_url())
    # outside Colab the %pip line is never reached; the cell body must still be valid Python
    # once IPython has turned the magic into a call
    body = source.replace("%pip install", "get_ipython().run_line_magic('pip', 'install") + "')"
    assert "google.colab" not in sys.modules
    exec(compile(body, "setup", "exec"), {"get_ipython": lambda: pytest.fail("called outside Colab")}, namespace)
