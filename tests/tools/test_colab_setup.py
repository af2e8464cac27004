"""The notebooks as a reader meets them in Google Colab: the hidden set-up cell, the package it
installs from git, and the runtime every notebook of the tests runs in.

How the notebooks are tested Colab-like, and why this way
---------------------------------------------------------
Colab has the scientific stack but not the course package, and a notebook opened there stands
alone: no repository around it (no ``helpers/`` next to it, no ``../checkpoints``). So ``make
test`` runs *every* chapter and solution notebook (nbval) and every exercise notebook
(tests/tools/test_notebooks.py), top to bottom in quick mode, offline, in a Colab-like runtime
(``booktools.colab``; the root ``conftest.py`` hands nbval its kernel):

* the package is installed by the notebooks' own set-up cell, *unchanged*, with
  ``google.colab`` faked so that it fires, from the GitHub URL of ``_config.yml``, which git
  redirects (``insteadOf``) to a git snapshot of this checkout; non-editable, so the checkpoints
  arrive as package data, or not at all;
* into a separate environment that sees ``.venv``'s libraries but not its editable ``helpers``;
* each notebook's kernel starts in an empty folder of its own, with an empty folder for the
  reader's own checkpoints (so the shipped ones are what loads).

One install per test session, shared by every notebook, rather than one per notebook or a second
run of the notebooks: the install costs 10-40 s on the 2-core machine, the notebooks already run
once (nbval), and running them a second time outside Colab's setting would double the suite's
longest part for nothing -- Colab-like is the stricter setting (no repository, no editable
install). What one shared install does not show by itself -- that each notebook installs the
package when it is the first one opened -- holds because every notebook carries the same,
generated set-up cell (tests/tools/test_notebooks.py checks it is the one made from ``_config.yml``)
and that cell is exactly what made the shared install (checked below). Parallel workers
(pytest-xdist) were not added: the test machines have two cores shared with other work, and the
notebook kernels are single-threaded already.

Each notebook still gets a kernel of its own, but it is *forked* from the runtime's kernel zygote
(``ColabRuntime.start_zygote``; one per test worker), which has imported ipykernel, NumPy, PyTorch
(with ``torch._dynamo``, which a first optimizer imports) and matplotlib once: a training notebook's
first cells then cost about a sixth of the CPU they did in a started kernel (``benchmarks/kernel_start.py``).
The tests at the end of this file check that such a kernel is what a started one is -- its folder,
environment (but for one variable, set early), paths, signal handlers, threads and ipykernel
settings -- but for its process, and
that it is interrupted, killed and exits as a started one does.

The snapshot is of the working tree (tracked files and untracked ones that are not ignored), so
a developer's uncommitted change to ``helpers`` is what the notebooks test, as before. That the
*committed* history carries the checkpoints is checked separately: a wheel built from a bare clone
of ``HEAD`` must hold them.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from booktools.book import (ROOT, SETUP_MARKER, book_setup_cell, package_ref, package_tag, repo_branch,
                            repo_url, setup_cell_source)
from helpers.training.checkpoints import SHIPPED

IN_GIT = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode == 0
needs_git = pytest.mark.skipif(not IN_GIT, reason="needs the repository's git history")


def _text(cell) -> str:
    return "".join(o.get("text", "") or "\n".join(o.get("traceback", [])) for o in cell.outputs)


def _run(runtime, *sources: str) -> list[str]:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    return [_text(c) for c in runtime.run(nb).cells]


# --- the set-up cell -------------------------------------------------------------------------------

def test_setup_cell_names_the_configured_release_or_branch(tmp_path):
    url = repo_url()
    assert book_setup_cell() == setup_cell_source(url, package_ref())
    assert f'"cnn-book @ git+{url}.git@{package_ref()}"' in book_setup_cell()
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/me/book/\n  branch: dev\n")
    assert package_ref(tmp_path) == "dev" and package_tag(tmp_path) == ""
    assert '"cnn-book @ git+https://example.org/me/book.git@dev"' in book_setup_cell(tmp_path)
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/me/book\n  branch: dev\n"
                                          "  package_tag: v1.2.3\n")
    assert package_ref(tmp_path) == "v1.2.3" and repo_branch(tmp_path) == "dev"
    assert book_setup_cell(tmp_path).endswith('%pip install --quiet "cnn-book @ git+https://example.org/me/book.git@v1.2.3"')
    (tmp_path / "_config.yml").write_text("repository:\n  url: https://example.org/me/book\n  package_tag: 'v1 \"x'\n")
    with pytest.raises(ValueError, match="package_tag"):
        package_ref(tmp_path)


@needs_git
def test_a_configured_release_tag_exists_and_matches_the_version():
    tag = package_tag()
    if not tag:
        pytest.skip("no release tag configured: the set-up cells install the branch " + repo_branch())
    version = importlib.metadata.version("cnn-book")
    assert tag in (version, f"v{version}"), f"_config.yml's package_tag {tag} is not pyproject's version {version}"
    assert subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--verify", f"refs/tags/{tag}"],
                          capture_output=True).returncode == 0, f"no git tag {tag}: tag the release first"


def test_setup_cell_does_nothing_in_plain_jupyter(tmp_path):
    """A reader in JupyterLab (this environment's kernel) sees no output and no install."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(book_setup_cell())])
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert nb.cells[0].outputs == []
    assert "google.colab" not in sys.modules


# --- the Colab-like runtime and the install the set-up cell made -------------------------------

@needs_git
def test_runtime_had_torch_but_not_the_package_before_the_set_up_cell(colab_runtime):
    assert colab_runtime.before["helpers"] is None and colab_runtime.before["torch"]


@needs_git
def test_set_up_cell_installed_the_package_from_the_git_url_not_editable(colab_runtime):
    (dist,) = colab_runtime.site.glob("cnn_book-*.dist-info")
    direct = json.loads((dist / "direct_url.json").read_text())
    assert direct["url"] == repo_url() + ".git", direct
    assert direct["vcs_info"]["vcs"] == "git" and direct["vcs_info"]["requested_revision"] == package_ref()
    assert "dir_info" not in direct  # not an editable install
    assert (colab_runtime.site / "helpers" / "__init__.py").is_file()


@needs_git
def test_notebook_kernels_start_alone_in_an_empty_folder_in_colab(colab_runtime):
    listing, where, again = _run(colab_runtime,
                                 "import os, sys\nprint(os.listdir('.'), 'google.colab' in sys.modules)",
                                 "import helpers\nprint(helpers.__file__)",
                                 book_setup_cell())
    assert listing.strip() == "[] True"
    assert where.startswith(str(colab_runtime.site)) and str(ROOT) not in where
    assert again == ""  # in Colab with the package already installed, the cell does nothing


@needs_git
def test_installed_package_carries_the_checkpoints_and_a_readers_run_saves_outside_it(colab_runtime):
    out = _run(colab_runtime, """
import os, hashlib, json
from pathlib import Path
from torch import nn
from helpers.training.checkpoints import SHIPPED, find_checkpoint, save_run, shipped_folder
found = {name: str(find_checkpoint(name)) for name in SHIPPED}
digests = {name: hashlib.sha256(Path(p).read_bytes()).hexdigest() for name, p in found.items()}
os.environ.pop("CNN_BOOK_CHECKPOINTS")
os.environ["CNN_BOOK_DATA"] = str(Path("data").resolve())
saved = save_run("lenet5_mnist", nn.Linear(2, 2))
print(json.dumps({"found": found, "digests": digests, "saved": str(saved), "package": str(shipped_folder()),
                  "now": str(find_checkpoint("lenet5_mnist"))}))
""")[0]
    report = json.loads(out.splitlines()[-1])
    package = Path(report["package"])
    assert package.is_relative_to(colab_runtime.site), report
    for name in SHIPPED:
        assert Path(report["found"][name]).parent == package, (name, report)
        ours = ROOT / "helpers" / "checkpoints" / f"{name}.pt"
        assert report["digests"][name] == hashlib.sha256(ours.read_bytes()).hexdigest(), name
    saved = Path(report["saved"])
    assert saved.parent.name == "checkpoints" and saved.parent.parent.name == "data"
    assert not saved.is_relative_to(package) and report["now"] == str(saved)


@needs_git
def test_wheel_built_from_the_committed_history_carries_the_checkpoints(tmp_path):
    """What GitHub would serve: a bare clone of HEAD, built the way pip builds a git URL."""
    tracked = subprocess.run(["git", "-C", str(ROOT), "ls-files", "helpers/checkpoints/*.pt"],
                             capture_output=True, text=True, check=True).stdout.split()
    assert {f"helpers/checkpoints/{name}.pt" for name in SHIPPED} <= set(tracked), (
        f"shipped checkpoints not committed to git: {sorted(set(SHIPPED) - {Path(t).stem for t in tracked})}")
    bare = tmp_path / "cnn-book.git"
    subprocess.run(["git", "clone", "--quiet", "--bare", str(ROOT), str(bare)], check=True)
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "--no-index", "--wheel-dir", str(tmp_path / "wheels"), f"cnn-book @ git+file://localhost{bare}"],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    (wheel,) = (tmp_path / "wheels").glob("cnn_book-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert set(tracked) <= names, sorted(set(tracked) - names)
    assert "helpers/__init__.py" in names and not any(n.startswith(("booktools/", "tests/")) for n in names)


def test_every_notebook_starts_with_the_same_set_up_cell():
    """So the one install the tests make is the one every notebook would make."""
    sources = {}
    for path in sorted(ROOT.glob("*/*.ipynb")):
        if path.parent.name in ("chapters", "solutions", "exercises"):
            cell = nbformat.read(path, as_version=4).cells[1]
            sources.setdefault(cell.source, []).append(path.relative_to(ROOT).as_posix())
    assert list(sources) == [book_setup_cell()], {s[:40] + "...": len(p) for s, p in sources.items()}
    assert book_setup_cell().startswith(SETUP_MARKER)


# --- the kernel zygote: kernels forked from a Python that has imported the stack ------------------

_FACTS = """
import json, os, signal, sys, threading
unseen = sorted(m for m in ("torchvision", "matplotlib.pyplot", "helpers") if m in sys.modules)
import numpy, torch
env_before_optimizer = dict(os.environ)
torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)  # a training notebook's first optimizer
print(json.dumps({
    "env_before_optimizer": {k: v for k, v in env_before_optimizer.items() if k not in ("JPY_SESSION_NAME",)},
    "unseen": unseen,
    "pid": os.getpid(), "ppid": os.getppid(), "leads_group": os.getpgid(0) == os.getpid(),
    "cwd_empty": os.listdir(".") == [], "cwd_parent": os.path.dirname(os.getcwd()),
    "colab": "google.colab" in sys.modules, "argv": sys.argv[1:2], "path": sys.path,
    "env": {k: v for k, v in os.environ.items() if k not in ("JPY_SESSION_NAME",)},
    "sigint": signal.getsignal(signal.SIGINT) is signal.default_int_handler,
    "sigterm": signal.getsignal(signal.SIGTERM) == signal.SIG_DFL,
    "sigchld": signal.getsignal(signal.SIGCHLD) == signal.SIG_DFL,
    "threads": torch.get_num_threads(), "random": numpy.random.randint(2**31),
    "parent_handle": __import__("ipykernel.kernelapp").kernelapp.IPKernelApp.instance().parent_handle,
}))
"""


def _started(runtime, *sources, env=None):
    """Run ``sources`` as cells in a kernel of ``runtime`` whose launcher we hold; return the
    launcher's PID, the cells' printed text and the kernel manager (still running)."""
    km = runtime.kernel_manager()
    km.start_kernel(**({"env": env} if env else {}))
    client = km.client()
    client.start_channels()
    client.wait_for_ready(timeout=120)
    texts = []
    for source in sources:
        out = []
        client.execute_interactive(source, timeout=120, output_hook=lambda m: out.append(
            m["content"].get("text", "") or "\n".join(m["content"].get("traceback", []))))
        texts.append("".join(out))
    client.stop_channels()
    return km.provisioner.process.pid, texts, km


def _facts(runtime, env=None):
    launcher, (text,), km = _started(runtime, _FACTS, env=env)
    km.shutdown_kernel(now=False)
    return launcher, json.loads(text.splitlines()[-1])


@needs_git
def test_a_forked_kernel_is_a_started_one_but_for_its_process(colab_runtime):
    """The same folder, environment, paths, signal handlers and threads as a kernel started from
    scratch (the zygote stopped); a process of its own, leading its own group; its own random state.
    One variable comes early: TORCHINDUCTOR_CACHE_DIR, which a started kernel sets at its first
    optimizer (torch._dynamo's import), to the same value."""
    assert colab_runtime.zygote is not None, "the tests' runtime should have a kernel zygote"
    launcher, forked = _facts(colab_runtime)
    _, forked_again = _facts(colab_runtime)
    colab_runtime.stop_zygote()
    try:
        plain_launcher, plain = _facts(colab_runtime)
    finally:
        colab_runtime.start_zygote()
    assert plain["pid"] == plain_launcher and forked["pid"] != launcher  # started here; forked elsewhere
    assert forked["ppid"] != launcher and forked["leads_group"] and plain["leads_group"]
    assert forked["random"] != forked_again["random"]
    for fact in ("pid", "ppid", "random"):
        del forked[fact], plain[fact]
    # torch._dynamo, preloaded, records its cache folder in the environment: a started kernel has
    # the same variable, with the same value, from its first optimizer on
    early = forked.pop("env_before_optimizer")
    late = plain.pop("env_before_optimizer")
    assert early == {**late, "TORCHINDUCTOR_CACHE_DIR": plain["env"]["TORCHINDUCTOR_CACHE_DIR"]}
    # (unless the process that launched the kernels had it already, e.g. a test worker whose own
    # earlier tests made an optimizer: kernels inherit their launcher's environment)
    assert ("TORCHINDUCTOR_CACHE_DIR" in late) == ("TORCHINDUCTOR_CACHE_DIR" in os.environ)
    differ = {k: (forked["env"].get(k), plain["env"].get(k)) for k in set(forked["env"]) | set(plain["env"])
              if forked["env"].get(k) != plain["env"].get(k)}
    assert not differ, differ
    assert forked == plain


@needs_git
def test_a_forked_kernel_is_interrupted_and_dies_with_its_launcher(colab_runtime):
    launcher, (pid,), km = _started(colab_runtime, "import os; print(os.getpid())")
    kernel = int(pid)
    assert kernel != launcher
    client = km.client()
    client.start_channels()
    # 'sleeping' is printed inside the try, so the interrupt it triggers cannot land outside it
    msg_id = client.execute("import time\ntry:\n    print('sleeping', flush=True)\n    time.sleep(60)\n"
                            "except KeyboardInterrupt:\n    print('interrupted')")
    printed = []
    while True:
        msg = client.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "error":
            printed.append(f"error {msg['content']['ename']}")
        if msg["msg_type"] == "stream":
            printed.append(msg["content"]["text"])
            if "sleeping" in msg["content"]["text"]:
                km.interrupt_kernel()
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    client.stop_channels()
    assert "".join(printed).split() == ["sleeping", "interrupted"]
    os.kill(launcher, signal.SIGKILL)  # the launcher dies without a word: the kernel goes too
    deadline = time.monotonic() + 20
    while Path(f"/proc/{kernel}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    km.provisioner.process.wait(timeout=10)
    km.cleanup_resources()
    assert not Path(f"/proc/{kernel}").exists()


@needs_git
def test_a_forked_kernels_exit_status_is_its_launchers(colab_runtime):
    launcher, _, km = _started(colab_runtime, "import os; print(os.getpid())")
    client = km.client()
    client.start_channels()
    client.execute("import os; os._exit(3)")
    km.provisioner.process.wait(timeout=30)
    client.stop_channels()
    assert km.provisioner.process.returncode == 3
    km.cleanup_resources()


@needs_git
def test_a_kernel_whose_import_time_environment_differs_is_started_not_forked(colab_runtime):
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    launcher, facts = _facts(colab_runtime, env=env)
    assert facts["pid"] == launcher and facts["threads"] == 2
