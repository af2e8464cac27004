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
  installed the way a reader's first notebook in Colab installs it (from git, not editable);
* :meth:`ColabRuntime.start_zygote` (optional; the tests start one per worker) starts a *kernel
  zygote*: a Python of the runtime that imports the stack once (:data:`PRELOAD`) and forks each
  kernel the kernel spec's launcher asks it for, so that a kernel does not import PyTorch again. The
  launcher stands in for the forked kernel (it passes on signals and exits with the kernel's
  status; the kernel is killed when the launcher or the process that started it dies), and where no
  zygote answers, or the kernel's environment differs from the zygote's in a variable read at import
  time, the launcher starts the kernel itself as before.

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
from booktools.processes import stop_by_closing_stdin

KERNEL_NAME = "cnn-book-colab"

# What the kernel zygote imports before it forks kernels: the kernel itself and the libraries nearly
# every notebook imports in its first code cells (all but chapter 10 and exercise/solution 05 import
# torch themselves, chapter 10 through helpers; chapter 05's pair is NumPy only, and matplotlib is
# not in every notebook either), and torch._dynamo, which a notebook's first optimizer imports
# (torch.optim.Optimizer.__init__ does; benchmarks/kernel_start.py times it): every notebook that
# trains. Importing them changes nothing a notebook sees but their presence in sys.modules before it imports them,
# and one variable: torch._dynamo records its cache folder in TORCHINDUCTOR_CACHE_DIR, so a forked
# kernel has from its start what a started one has from its first optimizer on, with the same value
# (tests/tools/test_colab_setup.py compares forked and started kernels). torchvision is left out
# (most notebooks never import it).
PRELOAD = ("ipykernel.kernelapp", "numpy", "torch", "torch._dynamo", "matplotlib")

__all__ = ["KERNEL_NAME", "PRELOAD", "ColabRuntime", "snapshot", "build"]

_LAUNCHER = '''"""Starts an IPython kernel the way Colab does: google.colab imported, in a fresh empty folder.

Where the runtime's kernel zygote listens (CNN_BOOK_KERNEL_ZYGOTE, a Unix socket), the kernel is
forked from it instead (the stack already imported) and this process stands in for it: it passes
the signals it gets to the kernel and exits with the kernel's exit status; when it dies the kernel
is killed. Where no zygote answers, or it refuses (an environment variable that is read at import
time differs from its own), the kernel starts here as before.
"""
import os
import sys
import tempfile

content = tempfile.mkdtemp(prefix="content-", dir=os.environ["CNN_BOOK_COLAB_CONTENT"])


def _forked(path):
    """The kernel's exit status once a kernel forked by the zygote at ``path`` exits; None if none was."""
    import json
    import signal
    import socket
    import threading
    import time

    try:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        conn.connect(path)
    except OSError:
        return None
    order = json.dumps({"argv": sys.argv, "env": dict(os.environ), "cwd": content,
                        "script_dir": os.path.dirname(os.path.abspath(__file__))}).encode()
    socket.send_fds(conn, [len(order).to_bytes(8, "big") + order], [0, 1, 2])
    replies = conn.makefile("r")
    answer = replies.readline().split()
    if len(answer) != 2 or answer[0] != "kernel":
        print(f"kernel zygote: {' '.join(answer[1:]) or 'no answer'}; starting the kernel here",
              file=sys.stderr)
        return None
    pid = int(answer[1])
    started_by = os.getppid()

    def watch_parent():  # what a kernel's own parent poller does: go when our starter is gone
        while os.getppid() == started_by:
            time.sleep(1)
        os._exit(1)  # the zygote's keeper sees us hang up and kills the kernel

    threading.Thread(target=watch_parent, daemon=True).start()

    def forward(signum, frame):
        try:
            os.killpg(pid, signum)  # the kernel leads its own process group, as this one does
        except OSError:
            pass

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(sig, forward)
    last = replies.readline().split()
    return int(last[1]) if len(last) == 2 and last[0] == "exit" else 1


if os.environ.get("CNN_BOOK_KERNEL_ZYGOTE"):
    status = _forked(os.environ["CNN_BOOK_KERNEL_ZYGOTE"])
    if status is not None and status < 0:  # the kernel was killed by a signal: so is its stand-in
        import signal
        signal.signal(-status, signal.SIG_DFL)
        os.kill(os.getpid(), -status)
    if status is not None:
        sys.exit(status)

import google.colab  # noqa: E402,F401  (Colab imports it when a kernel starts)

os.chdir(content)
from ipykernel import kernelapp  # noqa: E402

kernelapp.launch_new_instance()
'''

# Runs as ``python -c _ZYGOTE SOCKET PARENT_PID MODULES...`` in the runtime's Python; self-contained.
_ZYGOTE = r'''
import ctypes, json, os, select, signal, socket, sys
_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the process that started us
if os.getppid() != int(sys.argv[2]):
    sys.exit(1)
_BEFORE = dict(os.environ)  # what the libraries saw when they were imported
import google.colab  # noqa: F401  (as the launcher does before the kernel starts)
for _name in sys.argv[3:]:
    try:
        __import__(_name)
    except Exception:
        pass
# what importing them set in the environment (torch._dynamo sets TORCHINDUCTOR_CACHE_DIR): a
# kernel that imported them itself would have it too
_SET = {k: v for k, v in os.environ.items() if _BEFORE.get(k) != v}
# Variables read when the preloaded libraries load (thread pools, paths, allocators): a kernel
# whose own differ is not forked from here (the launcher then starts it itself).
_AT_IMPORT = ("PYTHON", "LD_", "MPL", "OMP_", "KMP_", "GOMP_", "MKL", "OPENBLAS", "BLIS", "NUMEXPR", "VECLIB",
              "TORCH", "PYTORCH", "CUDA", "NVIDIA", "NUMPY", "DNNL", "ONEDNN", "JUPYTER", "IPYTHON", "PATH",
              "VIRTUAL_ENV", "HOME", "TMP", "TEMP")
_OURS = {k: v for k, v in _BEFORE.items() if k.startswith(_AT_IMPORT)}


def _receive(conn):
    data, fds, _, _ = socket.recv_fds(conn, 1 << 16, 3)
    size = int.from_bytes(data[:8], "big")
    data = data[8:]
    while len(data) < size:
        more = conn.recv(size - len(data))
        if not more:
            raise EOFError("the launcher hung up")
        data += more
    return json.loads(data), fds


def _kernel(order, fds):
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # die with the keeper (which dies with the launcher)
    os.setsid()
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(3, 1 << 16)
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                signal.SIGUSR2, signal.SIGPIPE):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)  # as Python sets it at start
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.environ.clear()
    os.environ.update(order["env"])
    os.environ.update({k: v for k, v in _SET.items() if k not in order["env"]})
    os.chdir(order["cwd"])
    import atexit, importlib, random, tempfile
    tempfile.tempdir = None
    sys.path[0] = order["script_dir"]
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    random.seed()
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # a fresh process's global state is seeded from the OS
    sys.argv = list(order["argv"])
    code = 0
    try:
        from ipykernel import kernelapp
        # two defaults ipykernel reads from the environment when it is imported (here: in the zygote)
        kernelapp.IPKernelApp.launch_instance(parent_handle=int(os.environ.get("JPY_PARENT_PID") or 0),
                                              interrupt=int(os.environ.get("JPY_INTERRUPT_EVENT") or 0))
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    except BaseException:
        import traceback
        traceback.print_exc()
        code = 1
    try:
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        os._exit(code)


def _keep(conn):
    """One launcher's kernel: fork it, tell the launcher its PID, report its exit, kill it if the
    launcher goes away."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    try:
        order, fds = _receive(conn)
        if len(fds) != 3:
            raise ValueError("no standard streams passed")
        theirs = {k: v for k, v in order["env"].items() if k.startswith(_AT_IMPORT)}
        if theirs != _OURS:
            differ = sorted(k for k in set(theirs) | set(_OURS) if theirs.get(k) != _OURS.get(k))
            conn.sendall(f"refused the environment differs in {','.join(differ)}\n".encode())
            os._exit(0)
    except Exception as exc:
        conn.sendall(f"refused {type(exc).__name__}\n".encode())
        os._exit(0)
    kernel = os.fork()
    if kernel == 0:
        conn.close()
        _kernel(order, fds)
    for fd in fds:
        os.close(fd)
    conn.sendall(f"kernel {kernel}\n".encode())
    watch = os.pidfd_open(kernel)
    ready, _, _ = select.select([conn, watch], [], [])
    if watch not in ready:  # the launcher died or hung up: the kernel goes with it
        try:
            os.killpg(kernel, signal.SIGKILL)
        except OSError:
            os.kill(kernel, signal.SIGKILL)
    _, status = os.waitpid(kernel, 0)
    try:
        conn.sendall(f"exit {os.waitstatus_to_exitcode(status)}\n".encode())
    except OSError:
        pass
    os._exit(0)


os.chdir("/")
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # keepers are reaped by the system
signal.signal(signal.SIGINT, signal.SIG_IGN)
_server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
_server.bind(sys.argv[1])
_server.listen(64)
print("ready", flush=True)
while True:
    ready, _, _ = select.select([_server, sys.stdin], [], [])
    if sys.stdin in ready and not sys.stdin.buffer.read1(1):
        break  # the runtime closed our stdin: stop
    if _server in ready:
        _conn, _ = _server.accept()
        if os.fork() == 0:
            _server.close()
            _keep(_conn)
        _conn.close()
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
    zygote: subprocess.Popen | None = None

    @property
    def zygote_socket(self) -> Path:
        """Where the kernel zygote listens (the kernels' launcher tries it first)."""
        return self.root / "zygote.sock"

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
            "CNN_BOOK_KERNEL_ZYGOTE": str(self.zygote_socket),
        }

    def start_zygote(self, preload: tuple[str, ...] = PRELOAD) -> None:
        """Start the kernel zygote: a Python of this runtime, with this process's environment and the
        kernels' (:meth:`kernel_env`), that imports ``preload`` once and then forks each kernel the
        launcher asks for. Call it once the environment the kernels will get is set; a kernel whose
        environment differs where the preloaded libraries read it at import time is started without it.
        Returns when the zygote listens (the imports done)."""
        if self.zygote is not None:
            return
        self.zygote_socket.unlink(missing_ok=True)
        self.zygote = subprocess.Popen([str(self.python), "-c", _ZYGOTE, str(self.zygote_socket), str(os.getpid()),
                                        *preload], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                       env={**os.environ, **self.kernel_env()}, cwd="/")
        if self.zygote.stdout.readline().strip() != b"ready":
            self.stop_zygote()
            raise RuntimeError("the kernel zygote did not start")

    def stop_zygote(self) -> None:
        """Stop the zygote (kernels it forked keep running until they are shut down)."""
        if self.zygote is None:
            return
        stop_by_closing_stdin(self.zygote)
        self.zygote = None
        self.zygote_socket.unlink(missing_ok=True)

    def kernel_manager(self):
        """A ``jupyter_client`` kernel manager for :data:`KERNEL_NAME` (for ``NotebookClient(km=...)``)."""
        from jupyter_client.kernelspec import KernelSpecManager
        from jupyter_client.manager import KernelManager

        specs = KernelSpecManager(kernel_dirs=[str(self.jupyter_path / "kernels")])
        return KernelManager(kernel_name=KERNEL_NAME, kernel_spec_manager=specs)

    def run(self, nb, *, timeout: int = 600, allow_errors: bool = True):
        """Execute notebook ``nb`` (in place) in a fresh kernel of this runtime, shut it down; return ``nb``."""
        from nbclient import NotebookClient

        # cleanup_kc: shut the kernel down at the end (NotebookClient leaves a kernel manager it was
        # given running, and the kernel would live on until this process exits)
        NotebookClient(nb, km=self.kernel_manager(), timeout=timeout, allow_errors=allow_errors).execute(cleanup_kc=True)
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
