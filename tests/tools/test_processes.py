"""booktools.processes: stopping a child that ends when its standard input closes."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

from booktools.processes import stop_by_closing_stdin


def _child(code: str) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout.readline() == b"ready\n"
    return proc


def test_a_child_that_exits_on_end_of_input_is_waited_for():
    proc = _child("import sys; print('ready', flush=True); sys.stdin.read(); sys.exit(3)")
    assert stop_by_closing_stdin(proc, timeout=30) == 3
    assert proc.stdin.closed and proc.stdout.closed


def test_a_child_that_ignores_its_input_is_killed_after_the_timeout():
    proc = _child("import time; print('ready', flush=True); time.sleep(60)")
    started = time.monotonic()
    assert stop_by_closing_stdin(proc, timeout=0.5) == -signal.SIGKILL
    assert time.monotonic() - started < 30 and proc.stdout.closed
