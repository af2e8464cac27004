"""Child processes the tools keep: how to stop one that ends when its standard input closes."""

from __future__ import annotations

import subprocess

__all__ = ["stop_by_closing_stdin"]


def stop_by_closing_stdin(proc: subprocess.Popen, timeout: float = 10) -> int:
    """Stop ``proc`` (started with ``stdin=PIPE``) the polite way: close its standard input, wait up to
    ``timeout`` seconds for it to exit, kill it if it has not; close its standard output (if piped).
    Returns its exit status. A zygote (:mod:`booktools.colab`, :mod:`booktools.grading.zygote`) exits
    when its input closes; the kernels it forked are not its children and keep running."""
    try:
        proc.stdin.close()
    except OSError:  # the pipe broke: it is exiting already
        pass
    try:
        status = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        status = proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()
    return status
