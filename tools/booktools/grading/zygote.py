"""A pre-started Python that forks each student's kernel straight into that student's sandbox.

Starting a kernel costs seconds of CPU, almost all of it importing ``torch`` and ``torchvision``
(every chapter's set-up cell does; torchvision's import pulls in ``torch._dynamo``): about 5 s for
the stack on the book's 2-core machine of 2026-12-02, see ``benchmarks/import_cost.py``. The
*zygote* pays that once per grading process (:func:`shared` keeps it for the next batch): a
trusted Python process, started by the grader with the sandbox's environment and nothing else (no
``booktools``, no file of the grader's), imports ``ipykernel``, NumPy, PyTorch and torchvision and
then waits for orders. It never runs any
student's (or the instructor's) code and never receives anything from a kernel.

For each submission :class:`booktools.grading.sandbox.Kernel` still starts its own, fresh
bubblewrap sandbox exactly as before (new user, PID, mount, network, IPC, UTS and cgroup
namespaces, the same read-only files and size-limited ``/tmp``), with a placeholder as its first
command. The zygote then forks a child that joins that sandbox's namespaces (``setns``) and forks
the kernel inside them: the kernel is a process of the sandbox's PID namespace (it sees only that
sandbox's processes and dies with it), has its root, ``/proc`` and ``/tmp``, runs as the sandbox's
user with every capability dropped, the capability bounding set emptied and ``no_new_privs`` set,
its rlimits and CPU set, its environment reset to the sandbox's, its file descriptors closed,
Python's import caches and NumPy's global random state renewed. Each kernel is a separate process
forked from the unchanged zygote, so nothing of one student's kernel reaches another's. The
reference kernel, which runs the instructor's source notebook before the students' (in its own
sandbox, the only one whose inputs folder is writable), is forked the same way.

If the zygote cannot do this here (``setns`` refused, an old kernel), the first failure switches it
off and kernels start as before.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import threading

from booktools.grading import bwrap
from booktools.processes import stop_by_closing_stdin

__all__ = ["PRELOAD", "Zygote", "ZygoteError", "shared"]

PRELOAD = ("ipykernel.kernelapp", "numpy", "torch", "torchvision")

# Runs as ``python -c SOURCE MODULES...``; self-contained (nothing of booktools is imported).
SOURCE = r'''
import ctypes, errno, fcntl, json, os, signal, sys
_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the grader
if os.getppid() != int(sys.argv[1]):
    sys.exit(1)
for _name in sys.argv[2:]:
    try:
        __import__(_name)
    except Exception:
        pass
_NS = ("mnt", "net", "ipc", "uts", "cgroup", "pid")


def _ok(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _join(pid):
    """Enter the namespaces of ``pid`` (the sandbox's first command); children are born inside."""
    fds = {n: os.open(f"/proc/{pid}/ns/{n}", os.O_RDONLY | os.O_CLOEXEC) for n in ("user",) + _NS}
    outer = fcntl.ioctl(fds["mnt"], 0xB701)  # NS_GET_USERNS: the user namespace owning the others
    _ok(_libc.setns(outer, 0x10000000), "setns user")
    for name in _NS:
        _ok(_libc.setns(fds[name], 0), f"setns {name}")
    if os.fstat(fds["user"]).st_ino != os.fstat(outer).st_ino:  # bwrap's nested user namespace
        _ok(_libc.setns(fds["user"], 0x10000000), "setns inner user")
    for fd in (outer, *fds.values()):
        os.close(fd)


def _drop_privileges():
    for cap in range(64):
        if _libc.prctl(24, cap, 0, 0, 0) != 0 and ctypes.get_errno() == errno.EINVAL:  # PR_CAPBSET_DROP
            break
    _libc.prctl(47, 4, 0, 0, 0)  # PR_CAP_AMBIENT_CLEAR_ALL
    header, data = (ctypes.c_uint32 * 2)(0x20080522, 0), (ctypes.c_uint32 * 6)()
    _ok(_libc.capset(header, data), "capset")
    _ok(_libc.prctl(38, 1, 0, 0, 0), "no_new_privs")  # PR_SET_NO_NEW_PRIVS
    status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
    if any(int(status[k].strip(), 16) for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")) \
            or status["NoNewPrivs"].strip() != "1":
        raise OSError("capabilities left after dropping them")


def _kernel(order):
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG: die with the waiting parent
    os.setsid()
    _drop_privileges()
    for res, soft, hard in order["rlimits"]:
        import resource
        resource.setrlimit(res, (soft, hard))
    if order.get("cpu") is not None:
        os.sched_setaffinity(0, {order["cpu"]})
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.closerange(3, 1 << 16)
    os.chdir(order["home"])
    os.environ.clear()
    os.environ.update(order["env"])
    for sig in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import importlib, runpy, tempfile
    tempfile.tempdir = None
    sys.path_importer_cache.clear()
    importlib.invalidate_caches()
    sys.path[0] = order["home"]
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()  # a fresh kernel's global state is seeded from the OS
    sys.argv = ["ipykernel_launcher", *order["argv"]]
    runpy.run_module("ipykernel_launcher", run_name="__main__", alter_sys=True)


def _spawn(order, reply):
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    _libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # die with the zygote
    try:
        _join(order["pid"])
        kernel = os.fork()
    except Exception as exc:
        os.write(reply, f"{order['id']} error {type(exc).__name__}: {exc}\n".encode())
        os._exit(1)
    if kernel == 0:
        try:
            _kernel(order)
        finally:
            os._exit(0)
    os.write(reply, f"{order['id']} {kernel}\n".encode())
    os.close(reply)
    os.closerange(0, 1 << 16)
    while True:
        try:
            os.waitpid(kernel, 0)
            break
        except ChildProcessError:
            break
        except InterruptedError:
            continue
    os._exit(0)


os.chdir("/")
signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # forked children are reaped by the system
signal.signal(signal.SIGINT, signal.SIG_IGN)
_reply = os.dup(1)
os.write(_reply, b"ready\n")
for _line in sys.stdin:
    _order = json.loads(_line)
    if os.fork() == 0:
        _spawn(_order, _reply)
'''


class ZygoteError(RuntimeError):
    """The zygote could not start a kernel in a sandbox."""


class Zygote:
    """The grader's handle on its zygote: :meth:`spawn` a kernel into a sandbox's namespaces."""

    def __init__(self, preload=PRELOAD):
        import importlib.util

        self.preload = [m for m in preload if importlib.util.find_spec(m.split(".")[0]) is not None]
        self.proc = None
        self.broken: str | None = None
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._count = 0

    def start(self) -> "Zygote":
        """Start it (returns at once; the imports go on in the background)."""
        env = bwrap.environment(bwrap.HOME)
        self.proc = subprocess.Popen([sys.executable, "-c", SOURCE, str(os.getpid()), *self.preload], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, cwd="/",
                                     start_new_session=True)
        return self

    def _readline(self) -> str:
        line = self.proc.stdout.readline().decode("utf-8", "replace").strip()
        if not line:
            raise ZygoteError("the zygote exited")
        return line

    def spawn(self, pid: int, argv: list[str], *, rlimits: list, cpu: int | None) -> int:
        """Fork a kernel (``ipykernel_launcher`` with ``argv``) into the namespaces of process ``pid``
        (the sandbox's placeholder); return the kernel's PID (as the grader sees it)."""
        with self._lock:
            if self.broken:
                raise ZygoteError(self.broken)
            try:
                if not self._ready.is_set():
                    if self._readline() != "ready":
                        raise ZygoteError("the zygote did not start")
                    self._ready.set()
                self._count += 1
                order = {"id": self._count, "pid": pid, "argv": argv, "rlimits": rlimits, "cpu": cpu,
                         "home": bwrap.HOME, "env": bwrap.environment(bwrap.HOME)}
                self.proc.stdin.write(json.dumps(order).encode() + b"\n")
                self.proc.stdin.flush()
                number, _, answer = self._readline().partition(" ")
                if number != str(self._count) or not answer.isdigit():
                    raise ZygoteError(f"the zygote could not start the kernel: {answer}")
                return int(answer)
            except (OSError, ValueError, ZygoteError) as exc:
                self.broken = str(exc) or type(exc).__name__
                raise ZygoteError(self.broken) from None

    def close(self) -> None:
        if self.proc is not None:
            stop_by_closing_stdin(self.proc)
            self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()


_shared: dict = {}
_shared_lock = threading.Lock()


def shared() -> Zygote:
    """This process's zygote, started on first use and kept for later batches until the process exits.

    A grader that grades several batches (the tests; a script grading every chapter) pays for the
    stack's import once instead of once per batch. Sharing it changes nothing a kernel sees: the
    zygote runs no one's code and each kernel is a fresh fork of it. A zygote that broke, or died,
    is replaced by a new one for the next batch.
    """
    import atexit

    with _shared_lock:
        zygote = _shared.get(os.getpid())
        if zygote is None or zygote.broken or zygote.proc is None or zygote.proc.poll() is not None:
            if zygote is not None:
                zygote.close()
            elif not _shared:
                atexit.register(_close_shared)
            zygote = _shared[os.getpid()] = Zygote().start()
        return zygote


def _close_shared() -> None:
    zygote = _shared.pop(os.getpid(), None)
    if zygote is not None:
        zygote.close()


def rlimits(memory_mb: int, max_file_mb: int) -> list[list[int]]:
    """The kernel's rlimits, as :meth:`booktools.grading.sandbox.Kernel._limit` sets them."""
    data, size = memory_mb * 2**20, max_file_mb * 2**20
    return [[resource.RLIMIT_DATA, data, data], [resource.RLIMIT_FSIZE, size, size], [resource.RLIMIT_CORE, 0, 0]]


def available() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "sched_setaffinity")
