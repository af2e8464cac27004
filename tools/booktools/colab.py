"""A Colab-like runtime on this machine: what a notebook meets in Google Colab, made offline.

Colab has the scientific stack preinstalled (torch, numpy, matplotlib, ...) but not the course
package; it imports ``google.colab`` when a kernel starts; a notebook runs in an empty folder
(``/content``) with no repository around it. :func:`build` makes the same here:

* **the repository at its GitHub URL**: a snapshot of this checkout (its tracked files and its
  untracked, not ignored ones, as they are in the working tree -- what ``git add -A && git push``
  would publish) in a git repository that git fetches *instead of* the URL in ``_config.yml``
  (``url.<snapshot>.insteadOf``, given to the kernels' environment), with the branch or tag the
  set-up cell names. So the notebooks' set-up cell runs *unchanged*;
* **a Python environment** that sees this environment's libraries (a path file naming its
  site-packages folder) but not the editable ``helpers``: a folder named in a path file is not a
  site folder, so the editable install's own path file there is not processed;
* **``google.colab``**: a stand-in module, imported when a kernel starts, as Colab does; so the
  set-up cell fires;
* **a kernel spec** (:data:`KERNEL_NAME`) whose kernels start in a fresh empty folder each, with
  pip offline (``PIP_NO_INDEX``: the dependencies are all preinstalled) and the reader's own
  checkpoints folder empty (``CNN_BOOK_CHECKPOINTS``), so the checkpoints the package ships are
  the ones that load;
* :meth:`ColabRuntime.install` then runs the set-up cell itself in such a kernel: the package is
  installed the way a reader's first notebook in Colab installs it (from git, not editable).

The tests run every notebook in one such runtime (root ``conftest.py``); ``tests/tools/test_colab_setup.py``
says why and checks the runtime itself.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import venv
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from booktools.book import ROOT, book_setup_cell, package_tag, repo_branch, repo_url

KERNEL_NAME = "cnn-book-colab"

__all__ = ["KERNEL_NAME", "ColabRuntime", "snapshot", "build"]

_LAUNCHER = '''"""Starts an IPython kernel the way Colab does: google.colab imported, in a fresh empty folder."""
import os
import sys
import tempfile

import google.colab  # noqa: F401  (Colab imports it when a kernel starts)

os.chdir(tempfile.mkdtemp(prefix="content-", dir=os.environ["CNN_BOOK_COLAB_CONTENT"]))
from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
'''

_PROBE = ("import importlib.util as u, json; "
          "print(json.dumps({m: getattr(u.find_spec(m), 'origin', None) for m in ('helpers', 'torch')}))")


def _git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def snapshot(repo: Path, dest: Path, refs: list[str] | tuple[str, ...] = ("main",), *,
             tags: list[str] | tuple[str, ...] = ()) -> Path:
    """A git repository at ``dest`` holding one commit: ``repo``'s working tree as ``git add -A``
    would commit it (tracked files as they are now, untracked files that are not ignored).

    ``refs`` become branches and ``tags`` tags on that commit (the ones a set-up cell may name).
    """
    files = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=repo).split("\0")
    dest.mkdir(parents=True)
    for rel in filter(None, dict.fromkeys(files)):
        src = repo / rel
        if not (src.is_file() or src.is_symlink()):
            continue  # deleted in the working tree, or a submodule
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / rel, follow_symlinks=False)
    first, *others = list(refs) or ["main"]
    _git("init", "--quiet", f"--initial-branch={first}", cwd=dest)
    _git("add", "--all", "--force", cwd=dest)  # what was copied, ignored or not (a forced add)
    _git("-c", "user.name=cnn-book tests", "-c", "user.email=tests@cnn-book.invalid", "commit", "--quiet",
         "--no-verify", "--message", "snapshot of the working tree", cwd=dest)
    for ref in others:
        _git("branch", "--force", ref, cwd=dest)
    for tag in tags:
        _git("tag", tag, cwd=dest)
    return dest


@dataclass
class ColabRuntime:
    """The parts of a runtime made by :func:`build` (all under ``root``, a folder of its own)."""

    root: Path
    python: Path
    site: Path
    remote: Path
    url: str
    before: dict = field(default_factory=dict)  # helpers/torch origins before the install
    install_output: str = ""

    @property
    def jupyter_path(self) -> Path:
        """Put this on ``JUPYTER_PATH`` for other Jupyter tools (nbval) to find :data:`KERNEL_NAME`."""
        return self.root / "jupyter"

    def kernel_env(self) -> dict[str, str]:
        """What the kernels' environment adds to this process's (also written into the kernel spec)."""
        return {
            # the GitHub URL of the set-up cell is fetched from the snapshot instead
            "GIT_CONFIG_COUNT": "1",
            "GIT_CONFIG_KEY_0": f"url.{self.remote.as_uri()}.insteadOf",
            "GIT_CONFIG_VALUE_0": f"{self.url}.git",
            # offline: every dependency is preinstalled; build with the preinstalled setuptools
            "PIP_NO_INDEX": "1",
            "PIP_NO_BUILD_ISOLATION": "0",
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
            "PYTHONPATH": "",
            "CNN_BOOK_COLAB_CONTENT": str(self.root / "content"),
            "CNN_BOOK_CHECKPOINTS": str(self.root / "own-checkpoints"),
        }

    def kernel_manager(self):
        """A ``jupyter_client`` kernel manager for :data:`KERNEL_NAME` (for ``NotebookClient(km=...)``)."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        specs = KernelSpecManager(kernel_dirs=[str(self.jupyter_path / "kernels")])
        return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)

    def run(self, nb, *, timeout: int = 600, allow_errors: bool = True):
        """Execute notebook ``nb`` (in place) in a fresh kernel of this runtime; return it."""
        from nbclient import NotebookClient

        NotebookClient(nb, km=self.kernel_manager(), timeout=timeout, allow_errors=allow_errors).execute()
        return nb

    def probe(self) -> dict:
        """Where ``helpers`` and ``torch`` import from in this runtime (``None``: not importable)."""
        done = subprocess.run([str(self.python), "-c", _PROBE], capture_output=True, text=True,
                              cwd=self.root / "content", env={**os.environ, **self.kernel_env()})
        if done.returncode != 0:
            raise RuntimeError(f"the Colab-like Python does not start: {done.stderr.strip()}")
        return json.loads(done.stdout)

    def install(self, setup_source: str | None = None) -> str:
        """Run the notebooks' set-up cell in a kernel of this runtime; return what it printed.

        Raises:
            RuntimeError: the cell failed, or ``helpers`` is not importable from this runtime's own
                site-packages afterwards.
        """
        setup = nbformat.v4.new_code_cell(setup_source or book_setup_cell())
        check = nbformat.v4.new_code_cell("import sys, helpers\nprint(helpers.__file__)\n"
                                          "print('google.colab' in sys.modules)")
        nb = self.run(nbformat.v4.new_notebook(cells=[setup, check]))

        def text(cell):
            return "".join(o.get("text", "") or "\n".join(o.get("traceback", [])) for o in cell.outputs)

        self.install_output = text(nb.cells[0])
        printed = text(nb.cells[1]).split()
        if len(printed) != 2 or not printed[0].startswith(str(self.site)) or printed[1] != "True":
            raise RuntimeError(f"the set-up cell did not install helpers into {self.site}:\n"
                               f"{self.install_output}\n{text(nb.cells[1])}")
        return self.install_output


def build(where: Path, *, repo: Path = ROOT, install: bool = True) -> ColabRuntime:
    """Make a Colab-like runtime in the new folder ``where`` (see the module's docstring).

    With ``install`` the set-up cell is run once, so the package is installed for every kernel.
    """
    where.mkdir(parents=True)
    url, branch, tag = repo_url(repo), repo_branch(repo), package_tag(repo)
    remote = snapshot(repo, where / "remote", [branch], tags=[tag] if tag else [])
    env_dir = where / "env"
    venv.EnvBuilder(symlinks=os.name != "nt", with_pip=False).create(env_dir)
    python = env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    # Colab's preinstalled libraries (pip and setuptools among them): this environment's.
    ours = dict.fromkeys(sysconfig.get_paths()[k] for k in ("purelib", "platlib"))
    (site / "colab_preinstalled.pth").write_text("".join(f"{p}\n" for p in ours))
    # google.colab, as a namespace package's module (other google.* packages stay importable)
    (site / "google" / "colab").mkdir(parents=True)
    (site / "google" / "colab" / "__init__.py").write_text('"""Stand-in for Colab\'s module."""\n')
    (site / "cnn_book_colab_kernel.py").write_text(_LAUNCHER)
    for folder in ("content", "own-checkpoints"):
        (where / folder).mkdir()
    runtime = ColabRuntime(root=where, python=python, site=site, remote=remote, url=url)
    spec = runtime.jupyter_path / "kernels" / KERNEL_NAME
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), str(site / "cnn_book_colab_kernel.py"), "-f", "{connection_file}"],
        "display_name": "Python 3 (Colab-like)", "language": "python", "env": runtime.kernel_env(),
    }, indent=1))
    runtime.before = runtime.probe()
    if runtime.before["helpers"] is not None or runtime.before["torch"] is None:
        raise RuntimeError(f"the Colab-like Python should see torch but not helpers; it sees {runtime.before}")
    if install:
        runtime.install()
    return runtime


if __name__ == "__main__":  # python -m booktools.colab FOLDER: make one and say where it is
    made = build(Path(sys.argv[1]).resolve())
    print(f"kernel {KERNEL_NAME!r}: JUPYTER_PATH={made.jupyter_path}\n{made.install_output}")
