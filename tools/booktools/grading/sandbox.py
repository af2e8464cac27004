"""Jupyter kernels in a bubblewrap sandbox, driven from the grader's own process.

Each kernel runs under ``bwrap`` (https://github.com/containers/bubblewrap) in new user, PID,
network, IPC, UTS and cgroup namespaces: it sees only its own processes in ``/proc``, has no
network, an empty environment but for a few variables, a read-only view of the Python install,
the virtual environment and the ``helpers`` package (not the repository, the submissions, the
gradebook or the grader's files), and writes only to a size-limited ``/tmp`` (tmpfs) and
``/dev/shm``. Every process it starts lives in its PID namespace and dies with it (killing the
namespace's first process kills them all), also when the grader itself is killed: a watcher
between the grader and bwrap (:mod:`booktools.grading.bwrap`) ends the sandbox when the grader's
end of a pipe closes. Memory, file size and core dumps are limited with rlimits, and the
grader watches memory and the number of processes from outside.

The kernel binds its ZeroMQ sockets as Unix sockets in its own ``/tmp``; the grader connects to
them through ``/proc/<pid>/root`` once, before any student code runs, and never reconnects.

With a ``zygote`` (:mod:`booktools.grading.zygote`) the sandbox is made the same way with a
placeholder as its first command, and the kernel is forked into its namespaces by a pre-started
Python that has already imported ``ipykernel``, NumPy and PyTorch; the grader then watches and
kills the kernel's process tree as well as the sandbox's.

``isolation="weak"`` runs the kernel as a plain child process instead (for machines without
working bwrap, and only when the instructor asked for it): limits and judgement outside the
kernel still hold, the isolation above does not.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from queue import Empty

from booktools.grading import bwrap

__all__ = ["Kernel", "Limits", "Outcome", "SandboxUnavailable", "bwrap_problem"]

MIME = "application/x-cnnbook-grader+json"


# the sandbox's first command when the zygote forks the kernel into it: it waits for ever
PLACEHOLDER = "import select\nselect.select([], [], [])"


class SandboxUnavailable(RuntimeError):
    """bwrap is missing or cannot create namespaces here."""


@dataclass
class Limits:
    memory_mb: int = 2048
    disk_mb: int = 256  # the kernel's /tmp and /dev/shm, each
    max_file_mb: int = 64
    max_processes: int = 64
    cpu: int | None = None


@dataclass
class Outcome:
    """One executed cell: ``status`` is ok, error, timeout, died, memory or process_limit."""

    status: str
    ename: str | None = None
    evalue: str | None = None
    records: list = field(default_factory=list)
    truncated: bool = False  # more records than ``max_bytes``: the rest were dropped


def bwrap_problem() -> str | None:
    """None when bubblewrap can make the sandbox here; otherwise what is wrong."""
    return bwrap.problem()


class Kernel:
    """A Python kernel in a sandbox; ``execute`` runs code and collects the grader's records."""

    def __init__(self, limits: Limits, *, isolation: str = "bwrap", inputs: Path | None = None,
                 writable_inputs: bool = False, zygote=None):
        self.limits, self.isolation, self.inputs, self.writable = limits, isolation, inputs, writable_inputs
        # a booktools.grading.zygote.Zygote: the kernel is forked into this sandbox instead of started
        self.zygote = zygote if isolation == "bwrap" and zygote is not None and not zygote.broken else None
        self.proc = self.client = self.kernel_pid = None
        self.kernel_proc = None  # the forked kernel (psutil.Process), which is not bwrap's descendant
        self.private = Path(tempfile.mkdtemp(prefix="cnn-book-kernel-"))
        self.dead = None
        self.lifeline = None  # the grader's end of the watcher's pipe (bwrap isolation)
        self.inputs_inside = "/grader/in" if isolation == "bwrap" else (str(inputs) if inputs else None)

    def _limit(self) -> None:  # in the child, before exec: inherited by everything in the sandbox
        data, size = self.limits.memory_mb * 2**20, self.limits.max_file_mb * 2**20
        resource.setrlimit(resource.RLIMIT_DATA, (data, data))
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if self.limits.cpu is not None and hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {self.limits.cpu})

    def start(self, timeout: float = 120) -> None:
        if self.zygote is not None:
            from booktools.grading.zygote import ZygoteError

            try:
                return self._start(timeout)
            except (ZygoteError, SandboxUnavailable) as exc:  # no student code has run yet
                self.zygote.broken = self.zygote.broken or f"a forked kernel did not start: {exc}"
                print(f"warning: kernels are started without the zygote ({exc})", file=sys.stderr)
                self._reset()
        self.zygote = None
        self._start(timeout)

    def _reset(self) -> None:
        self.close()
        self.proc = self.client = self.kernel_pid = self.kernel_proc = self.dead = None
        self.private = Path(tempfile.mkdtemp(prefix="cnn-book-kernel-"))

    def _start(self, timeout: float) -> None:
        import zmq
        from jupyter_client import BlockingKernelClient

        conn = {"transport": "ipc", "ip": "/tmp/.k/kernel", "key": secrets.token_hex(16),
                "signature_scheme": "hmac-sha256", "kernel_name": "",
                **{f"{c}_port": i for i, c in enumerate(("shell", "iopub", "stdin", "control", "hb"), 1)}}
        kernel_cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", "/grader/conn.json",
                      "--HistoryManager.hist_file=:memory:", "--quiet"]
        if self.isolation == "bwrap":
            (self.private / "conn.json").write_text(json.dumps(conn))
            files = {"/grader/conn.json": self.private / "conn.json"}
            if self.inputs is not None and not self.writable:
                files.update({f"/grader/in/{p.name}": p for p in sorted(self.inputs.iterdir()) if p.is_file()})
            fds = {dest: os.open(path, os.O_RDONLY) for dest, path in files.items()}
            read, write = os.pipe()
            lifeline, self.lifeline = os.pipe()
            opts = bwrap.options(self.limits.disk_mb, files=fds, writable=self.inputs if self.writable else None)
            first = [sys.executable, "-S", "-c", PLACEHOLDER] if self.zygote is not None else kernel_cmd
            try:
                self.proc = bwrap.start(opts, first, info_fd=write, fds=tuple(fds.values()), lifeline=lifeline,
                                        preexec_fn=self._limit, start_new_session=True, stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            finally:
                for fd in (write, lifeline, *fds.values()):
                    os.close(fd)
            root = self._child_root(read)
            if self.zygote is not None:
                self._fork_kernel(root, kernel_cmd[3:], timeout)
        else:
            home = self.private / "home"
            (home / ".k").mkdir(parents=True)
            conn["ip"] = str(home / ".k" / "kernel")
            (home / "conn.json").write_text(json.dumps(conn))
            kernel_cmd[4] = str(home / "conn.json")
            env = {**bwrap.environment(str(home)), "TMPDIR": str(home)}
            self.proc = subprocess.Popen(kernel_cmd, cwd=home, env=env, preexec_fn=self._limit,
                                         start_new_session=True, stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            root = ""
        deadline = time.monotonic() + timeout
        ip = root + conn["ip"]
        while not all(os.path.exists(f"{ip}-{i}") for i in range(1, 5)):
            if not self._alive() or time.monotonic() > deadline:
                self.close()
                raise SandboxUnavailable("the kernel did not start")
            time.sleep(0.02)
        context = zmq.Context()
        context.setsockopt(zmq.RECONNECT_IVL, -1)  # never follow a socket path the kernel replaced
        context.setsockopt(zmq.MAXMSGSIZE, 64 * 2**20)  # a bigger message drops the connection
        self.client = BlockingKernelClient(context=context)
        self.client.load_connection_info({**conn, "ip": ip})
        self.client.start_channels(hb=False)
        self.client.wait_for_ready(timeout=max(1.0, deadline - time.monotonic()))
        if self.kernel_proc is not None:
            self.kernel_pid = self.kernel_proc.pid
        elif self.isolation == "bwrap":
            import psutil

            kids = [p for p in psutil.Process(self.proc.pid).children(recursive=True)
                    if p.cmdline()[:3] == [sys.executable, "-m", "ipykernel_launcher"]]
            self.kernel_pid = min(kids, key=lambda p: p.create_time()).pid if kids else None
        else:
            self.kernel_pid = self.proc.pid

    def _fork_kernel(self, root: str, argv: list[str], timeout: float) -> None:
        """Have the zygote fork the kernel into the sandbox whose first process is ``root``'s."""
        import psutil

        deadline = time.monotonic() + min(timeout, 30)
        init = psutil.Process(int(root.split("/")[2]))
        while not (kids := init.children()):  # the placeholder, the sandbox's PID 2
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise SandboxUnavailable("bwrap did not start the kernel's sandbox")
            time.sleep(0.002)
        from booktools.grading.zygote import rlimits

        pid = self.zygote.spawn(kids[0].pid, argv, rlimits=rlimits(self.limits.memory_mb, self.limits.max_file_mb),
                                cpu=self.limits.cpu)
        self.kernel_proc = psutil.Process(pid)

    def _alive(self) -> bool:
        """The sandbox and its kernel are running."""
        if self.proc is None or self.proc.poll() is not None:
            return False
        if self.kernel_proc is None:
            return True
        import psutil

        try:
            return self.kernel_proc.is_running() and self.kernel_proc.status() != psutil.STATUS_ZOMBIE
        except psutil.Error:
            return False

    def _child_root(self, read: int) -> str:
        """``/proc/<pid>/root`` of the sandbox, from bwrap's JSON on its info pipe."""
        text = b""
        with os.fdopen(read, "rb", buffering=0) as info:
            while True:
                chunk = info.read(4096)
                text += chunk or b""
                try:
                    return f"/proc/{int(json.loads(text)['child-pid'])}/root"
                except (ValueError, KeyError, TypeError):
                    if not chunk:
                        break
        self.close()
        raise SandboxUnavailable("bwrap did not start the kernel's sandbox")

    def _tree(self):
        import psutil

        tree = []
        try:
            root = psutil.Process(self.proc.pid)
            tree = [root] + root.children(recursive=True)
        except psutil.Error:
            pass
        if self.kernel_proc is not None:  # forked by the zygote: in the sandbox, not bwrap's child
            try:
                tree += [p for p in [self.kernel_proc] + self.kernel_proc.children(recursive=True) if p not in tree]
            except psutil.Error:
                pass
        return tree

    def _watch(self) -> str | None:
        import psutil

        tree = self._tree()
        if len(tree) - (self.kernel_proc is not None) > self.limits.max_processes + 2:  # less the placeholder
            return "process_limit"
        rss = 0
        for p in tree:
            try:
                rss += p.memory_info().rss
            except psutil.Error:
                pass
        return "memory" if rss > 1.25 * self.limits.memory_mb * 2**20 else None

    def execute(self, code: str, timeout: float, *, store_history: bool = True,
                max_bytes: int = 32 * 2**20) -> Outcome:
        """Run code; wait at most ``timeout`` s (then interrupt, then kill). Keeps the grader's
        records the kernel publishes, up to ``max_bytes`` of them."""
        if self.dead:
            return Outcome("died")
        kc = self.client
        msg_id = kc.execute(code, silent=False, store_history=store_history, allow_stdin=False, stop_on_error=False)
        out = Outcome("ok")
        deadline, interrupted, reply, idle, next_watch = time.monotonic() + timeout, False, None, False, 0.0
        kept = 0
        while reply is None or not idle:
            now = time.monotonic()
            if now > deadline:
                if interrupted:
                    self.kill()
                    out.status = "timeout"
                    return out
                self.interrupt()
                interrupted, deadline = True, now + 5
            if now > next_watch:
                problem = self._watch() if self._alive() else "died"
                if problem:
                    self.kill()
                    out.status = problem
                    return out
                next_watch = now + 0.25
            if reply is None:
                try:
                    msg = kc.get_shell_msg(timeout=0.01)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg["content"]
                except Empty:
                    pass
            try:
                msg = kc.get_iopub_msg(timeout=0.05)
            except Empty:
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "display_data" and isinstance(content.get("data", {}).get(MIME), str):
                kept += len(content["data"][MIME])
                out.truncated |= kept > max_bytes
                if kept <= max_bytes:
                    try:
                        out.records.append(json.loads(content["data"][MIME]))
                    except (TypeError, ValueError, RecursionError):
                        pass
            elif kind == "error":
                out.ename, out.evalue = str(content.get("ename")), str(content.get("evalue"))[:2000]
            elif kind == "status" and content.get("execution_state") == "idle":
                idle = True
        if interrupted:
            out.status = "timeout"
        elif reply.get("status") != "ok":
            out.status = "error"
            out.ename = out.ename or str(reply.get("ename"))
            out.evalue = out.evalue or str(reply.get("evalue"))[:2000]
        return out

    def interrupt(self) -> None:
        if self.kernel_pid:
            try:
                os.kill(self.kernel_pid, signal.SIGINT)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        """End the sandbox and everything in it."""
        self.dead = True
        if self.proc is None:
            return
        tree = self._tree()
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for p in tree:  # in weak isolation, processes that left the group
            try:
                p.kill()
            except Exception:
                pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        if self.client is not None:
            try:
                self.client.stop_channels()
                self.client.context.destroy(linger=0)
            except Exception:
                pass
        self.kill()
        if self.lifeline is not None:
            os.close(self.lifeline)
            self.lifeline = None
        shutil.rmtree(self.private, ignore_errors=True)

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
