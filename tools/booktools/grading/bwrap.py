"""The bubblewrap command line of a kernel's sandbox (see :mod:`booktools.grading.sandbox`).

bwrap's own first process stays inside the sandbox as its PID 1, so what it was started with is
readable there in ``/proc/1/cmdline`` and ``/proc/1/environ``. It is therefore started with an
environment holding only ``PATH`` (and ``LC_ALL``) and with its options passed through a pipe (``--args FD``), not
on its command line: the sandbox sees neither the grader's environment nor its file paths.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

__all__ = ["HOME", "environment", "options", "problem", "start"]

HOME = "/tmp/home"
# bwrap's --die-with-parent does not outlive its switch to the sandbox's user, so a watcher between
# the grader and bwrap ends the sandbox when the grader's end of a pipe closes (the grader exited
# or was killed) -- bwrap is its own child, so the PID it kills cannot have been reused.
WATCH = """import os, select, subprocess, sys
fd = int(sys.argv[1])
child = subprocess.Popen(sys.argv[2:], close_fds=False)
while child.poll() is None:
    if select.select([fd], [], [], 0.5)[0] and not os.read(fd, 1):
        child.kill()
        child.wait()
        break
sys.exit(child.returncode or 0)
"""
_PROBLEM: dict[str, str | None] = {}


def _helpers_dir() -> str:
    spec = importlib.util.find_spec("helpers")
    return str(Path(next(iter(spec.submodule_search_locations))).resolve())


def _ro_paths() -> list[str]:
    """What the kernel may read besides /usr: the Python install, the venv, ``helpers``, the data."""
    paths = {sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable)), _helpers_dir()}
    data = os.environ.get("CNN_BOOK_DATA", "").strip()
    if data and os.path.isdir(data):
        paths.add(os.path.realpath(data))
    return sorted(p for p in paths if not p.startswith("/usr/"))


def environment(home: str) -> dict[str, str]:
    """The kernel's whole environment."""
    env = {"HOME": home, "TMPDIR": "/tmp", "PATH": f"{os.path.dirname(sys.executable)}:/usr/bin:/bin",
           "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "MPLBACKEND": "Agg", "MPLCONFIGDIR": f"{home}/.mpl",
           "IPYTHONDIR": f"{home}/.ipython", "JUPYTER_PLATFORM_DIRS": "1", "JUPYTER_CONFIG_DIR": f"{home}/.jupyter",
           "JUPYTER_DATA_DIR": f"{home}/.jupyter", "JUPYTER_RUNTIME_DIR": f"{home}/.jupyter",
           "PYTHONNOUSERSITE": "1", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "CNN_BOOK_MODE": "quick",
           # helpers.checks raises (❌, ⏳) instead of printing: the reference run's sanity check
           # relies on it (a source notebook that fails its own tests is caught)
           "CNN_BOOK_GRADING": "1"}
    if os.environ.get("CNN_BOOK_DATA", "").strip():
        env["CNN_BOOK_DATA"] = os.path.realpath(os.environ["CNN_BOOK_DATA"].strip())
    return env


def options(disk_mb: int, *, files: dict[str, int] | None = None, writable: Path | None = None) -> list[str]:
    """bwrap's options: new namespaces, a read-only system, a size-limited /tmp and /dev/shm.

    Args:
        files: sandbox path -> an open file descriptor whose data bwrap copies there, read-only
            (no bind mount, so ``/proc/self/mountinfo`` shows no path of the grader's).
        writable: a folder of the grader's mounted read-write at ``/grader/in`` (the trusted
            reference kernel writes the inputs it sends to students' kernels there).
    """
    args = ["--unshare-all", "--unshare-user", "--uid", "1000", "--gid", "1000", "--die-with-parent",
            "--new-session", "--ro-bind", "/usr", "/usr"]
    for name in ("bin", "lib", "lib32", "lib64", "libx32", "sbin"):
        if os.path.islink(f"/{name}"):
            args += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
        elif os.path.isdir(f"/{name}"):
            args += ["--ro-bind", f"/{name}", f"/{name}"]
    for path in ("/etc/ld.so.cache", "/etc/localtime"):
        args += ["--ro-bind-try", path, path]
    size = str(disk_mb * 2**20)
    args += ["--proc", "/proc", "--dev", "/dev", "--remount-ro", "/dev", "--size", size, "--tmpfs", "/dev/shm",
             "--size", size, "--tmpfs", "/tmp", "--dir", HOME, "--dir", "/tmp/.k"]
    # after the new /tmp: bwrap mounts in order, so a virtual environment or data folder under /tmp
    # bound before it would be hidden by it (the kernel then does not start)
    for path in _ro_paths():
        args += ["--ro-bind", path, path]
    for dest, fd in (files or {}).items():
        args += ["--ro-bind-data", str(fd), dest]
    if writable is not None:
        args += ["--bind", str(writable), "/grader/in"]
    args += ["--remount-ro", "/", "--chdir", HOME, "--clearenv"]
    for key, value in environment(HOME).items():
        args += ["--setenv", key, value]
    return args


def start(opts: list[str], command: list[str], *, info_fd: int | None = None, fds: tuple = (),
          lifeline: int | None = None, **popen) -> subprocess.Popen:
    """Start ``bwrap`` with ``opts`` sent through a pipe and nothing of the grader's environment.

    With ``lifeline`` (the read end of a pipe whose write end the grader keeps), bwrap runs under
    the watcher above, and the sandbox ends when that pipe closes.
    """
    if info_fd is not None:
        opts = opts + ["--info-fd", str(info_fd)]
        fds = (*fds, info_fd)
    read, write = os.pipe()
    data = b"".join(os.fsencode(a) + b"\0" for a in opts)
    if len(data) >= 65536:
        raise ValueError("bwrap's options do not fit in a pipe")
    os.write(write, data)
    os.close(write)
    try:
        argv = ["bwrap", "--args", str(read), *command]
        if lifeline is not None:
            argv = [sys.executable, "-S", "-c", WATCH, str(lifeline), *argv]
            fds = (*fds, lifeline)
        env = {"PATH": "/usr/bin:/bin", "LC_ALL": "C.UTF-8"}
        return subprocess.Popen(argv, pass_fds=(read, *fds), env=env, **popen)
    finally:
        os.close(read)


def problem() -> str | None:
    """None when bubblewrap can make the grader's sandbox here; otherwise what is wrong."""
    if "bwrap" not in _PROBLEM:
        if shutil.which("bwrap") is None:
            _PROBLEM["bwrap"] = "bubblewrap (bwrap) is not installed"
        else:
            with tempfile.TemporaryDirectory() as tmp:
                try:
                    proc = start(options(16, writable=Path(tmp)), [sys.executable, "-c", "import helpers.checks"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
                    _, err = proc.communicate(timeout=60)
                    last = (err.decode("utf-8", "replace").strip().splitlines() or ["?"])[-1]
                    _PROBLEM["bwrap"] = None if proc.returncode == 0 else (
                        f"bwrap cannot create its sandbox here ({last}); allow unprivileged user namespaces "
                        "(sysctl kernel.unprivileged_userns_clone=1, or AppArmor's "
                        "kernel.apparmor_restrict_unprivileged_userns=0), or grade as root")
                except (OSError, subprocess.TimeoutExpired) as exc:
                    _PROBLEM["bwrap"] = f"bwrap does not run: {exc}"
    return _PROBLEM["bwrap"]
