"""The batch around the grading: nothing lost when the grader is killed, one row and one feedback
file per submission whatever its file name, a clear refusal without bubblewrap, and the sandbox's
own guarantees seen from inside a kernel."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from grading_support import EXERCISE, FULL, SETTINGS, SOURCE, all_answers, write  # noqa: E402

from booktools.grading import bwrap  # noqa: E402
from booktools.grading.grader import feedback_path, grade_batch, submission_key  # noqa: E402
from booktools.grading.sandbox import Kernel, Limits, SandboxUnavailable  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


def _cli(source, out, subs, *extra, env=None):
    return [sys.executable, "-m", "booktools.grading", "grade", "--source", str(source), "--out", str(out),
            "--quiet", "--jobs", "2", *extra, *map(str, subs)]


def _rows(out):
    with open(out, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _kill_when(cmd, ready, timeout=180) -> list:
    """Start the grader, wait until ready() is true, then SIGKILL it and its process group.

    Returns the grader's descendants (sandboxes and their watchers) still alive 5 s later."""
    stderr = tempfile.TemporaryFile()  # shown if the grader ends on its own, so a failure says why
    proc = subprocess.Popen(cmd, start_new_session=True, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not ready() and proc.poll() is None:
        time.sleep(0.1)
    if proc.poll() is not None:
        stderr.seek(0)
        said = stderr.read().decode(errors="replace")[-3000:]
        raise AssertionError(f"the grader finished (status {proc.returncode}) before it could be killed; "
                             f"its stderr ended with:\n{said}")
    stderr.close()
    descendants = psutil.Process(proc.pid).children(recursive=True)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(descendants, timeout=5)
    return [p.cmdline() for p in alive]


def test_a_killed_run_resumes_with_exactly_one_row_per_submission(tmp_path):
    source = write(tmp_path / "source.ipynb", SOURCE)
    subs = [write(tmp_path / f"s{i}.ipynb", all_answers()) for i in range(4)]
    out = tmp_path / "book.csv"
    results = tmp_path / "book_results"
    cmd = _cli(source, out, subs)
    assert _kill_when(cmd, lambda: (results / "reference").exists()) == []  # during the reference run
    # while grading, once a row is in the gradebook: the grader writes a result's JSON, then its row
    # (waiting for the JSON alone raced with that: killed in between, the book had no row yet)
    assert _kill_when(cmd, lambda: out.exists() and len(_rows(out)) >= 1) == []
    first = _rows(out)
    assert 1 <= len(first) < 4 and all(r["status"] == "ok" for r in first)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    rows = _rows(out)
    assert sorted(r["submission"] for r in rows) == sorted(map(str, subs))
    assert all(float(r["score"]) == sum(FULL.values()) for r in rows)
    assert not list(results.glob("*.attempt"))


def test_a_submission_that_keeps_killing_its_grader_gets_an_error_row(tmp_path):
    source = write(tmp_path / "source.ipynb", SOURCE)
    honest = write(tmp_path / "honest.ipynb", all_answers())
    killer = write(tmp_path / "killer.ipynb", all_answers(a3="import time\ntime.sleep(300)"))
    out = tmp_path / "book.csv"
    marker = tmp_path / "book_results" / f"{submission_key(killer)[0]}.attempt"
    cmd = _cli(source, out, [killer], "--cell-timeout", "600")
    for attempt in (1, 2):
        assert _kill_when(cmd, lambda: marker.exists() and marker.read_text() == str(attempt)) == []
    subprocess.run(_cli(source, out, [killer, honest]), check=True, stdout=subprocess.DEVNULL)
    rows = {Path(r["submission"]).name: r for r in _rows(out)}
    assert rows["killer.ipynb"]["status"] == "grader_error" and "interrupted 2 times" in rows["killer.ipynb"]["error"]
    assert rows["honest.ipynb"]["status"] == "ok" and float(rows["honest.ipynb"]["score"]) == sum(FULL.values())
    assert "could not be graded automatically" in (tmp_path / rows["killer.ipynb"]["feedback"]).read_text()


def test_file_names_of_any_bytes_get_their_own_row_and_feedback(tmp_path):
    source = write(tmp_path / "source.ipynb", SOURCE)
    names = [b"caf\xe9 latin-1.ipynb", "with space.ipynb".encode(), "é.ipynb".encode(), "è.ipynb".encode(),
             b"alice/02_x.ipynb", b"alice_02_x.ipynb", "名前.ipynb".encode()]
    subs = []
    for name in names:
        path = os.path.join(os.fsencode(tmp_path), name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        write(Path(os.fsdecode(path)), EXERCISE)
        subs.append(os.fsdecode(path))
    out = tmp_path / "book.csv"
    book = grade_batch(source, subs + subs[:2], out, SETTINGS, progress=False)  # duplicates count once
    rows = _rows(out)
    assert len(rows) == len(names) == len({r["key"] for r in rows}) == len({r["feedback"] for r in rows})
    assert all(r["status"] == "no_response" for r in rows) and len(book.rows) == len(names)
    assert any("\\xe9" in r["submission"] for r in rows)  # undecodable bytes shown, not lost
    for path in subs:
        assert feedback_path(out, submission_key(path)[0]).exists()


def test_a_gradebook_of_another_assignment_is_refused(tmp_path):
    source = write(tmp_path / "source.ipynb", SOURCE)
    out = tmp_path / "book.csv"
    out.write_text("submission,status,score\nx,ok,1\n")
    with pytest.raises(ValueError, match="written for another assignment"):
        grade_batch(source, [], out, SETTINGS, progress=False)


def test_without_bubblewrap_grading_refuses_unless_weak_isolation_is_accepted(tmp_path, monkeypatch):
    source = write(tmp_path / "source.ipynb", SOURCE)
    sub = write(tmp_path / "s.ipynb", all_answers())
    env = {**os.environ, "PATH": os.path.dirname(sys.executable)}  # no bwrap on the PATH
    done = subprocess.run(_cli(source, tmp_path / "book.csv", [sub]), env=env, capture_output=True, text=True)
    assert done.returncode == 2
    assert "bubblewrap (bwrap) is not installed" in done.stderr and "--allow-weak-isolation" in done.stderr
    assert not (tmp_path / "book.csv").exists()
    monkeypatch.setitem(bwrap._PROBLEM, "bwrap", "bubblewrap (bwrap) is not installed")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        grade_batch(source, [sub], tmp_path / "book.csv", SETTINGS, progress=False)
    weak = SETTINGS.__class__(**{**vars(SETTINGS), "allow_weak_isolation": True})
    book = grade_batch(source, [sub], tmp_path / "weak.csv", weak, progress=False)
    assert float(book.rows[str(sub)]["score"]) == sum(FULL.values())


def test_ci_installs_bubblewrap_and_chromium_each_when_missing():
    script = (ROOT / ".ci" / "run").read_text()
    assert "command -v bwrap >/dev/null || missing+=(bubblewrap)" in script
    assert "[ -x /usr/bin/chromium ] || missing+=(chromium)" in script
    assert 'apt-get install -y -qq "${missing[@]}"' in script


SPY = r'''
import json, os, socket
seen = {"pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
        "pid1_environ": open("/proc/1/environ", "rb").read().decode(), "env": sorted(os.environ),
        "uid": os.getuid(), "visible": sorted(os.listdir("/")), "work": sorted(os.listdir("WORK"))}
for target in ("/usr/x", "/x", "WORK/helpers/x", "/dev/x"):
    try:
        open(target, "w").write("x")
        seen[target] = "written"
    except OSError as exc:
        seen[target] = type(exc).__name__
try:
    with open("/tmp/big", "wb") as f:
        for _ in range(64):
            f.write(b"0" * 2**20)
    seen["tmp"] = "64 MB written"
except OSError as exc:
    seen["tmp"] = exc.strerror
try:
    socket.create_connection(("127.0.0.1", PORT), timeout=2)
    seen["net"] = "connected"
except OSError as exc:
    seen["net"] = type(exc).__name__
from IPython.display import publish_display_data
publish_display_data({"application/x-cnnbook-grader+json": json.dumps(seen)})
'''


def test_the_sandbox_seen_from_inside(tmp_path):
    import socket

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    os.environ["CNN_BOOK_TEST_SECRET"] = "not-for-students"
    try:
        with Kernel(Limits(disk_mb=32)) as kernel:
            spy = SPY.replace("PORT", str(server.getsockname()[1])).replace("WORK", str(ROOT))
            out = kernel.execute(spy, 60)
    finally:
        del os.environ["CNN_BOOK_TEST_SECRET"]
        server.close()
    assert out.records, f"the spy printed nothing: {out}"  # e.g. it raised inside the sandbox
    seen = out.records[0]
    assert seen["pids"] == [1, 2] and seen["pid1_environ"] == "PATH=/usr/bin:/bin\x00LC_ALL=C.UTF-8\x00"
    assert "CNN_BOOK_TEST_SECRET" not in seen["env"] and seen["uid"] == 1000
    assert seen["work"] == sorted([".venv", "helpers"])  # the repository's other files are not there
    assert all(seen[t] in ("OSError", "PermissionError", "FileNotFoundError") for t in
               ("/usr/x", "/x", f"{ROOT}/helpers/x", "/dev/x")), seen
    assert seen["tmp"] == "No space left on device" and seen["net"] != "connected"


ZYGOTE_SPY = r'''
import json, os, sys
import numpy as np
status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
seen = {"pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()), "pid": os.getpid(),
        "environ": open("/proc/self/environ", "rb").read().decode(), "env": dict(os.environ),
        "uid": os.getuid(), "cwd": os.getcwd(), "work": sorted(os.listdir("WORK")),
        "caps": {k: status[k].strip() for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb", "NoNewPrivs")},
        "fds": sorted(os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")[:-1]),
        "importer_cache": sorted(k for k in sys.path_importer_cache if k.startswith("WORK") and "/.venv/" not in k),
        "torch": "torch" in sys.modules, "random": float(np.random.rand()), "tmp": sorted(os.listdir("/tmp"))}
from IPython.display import publish_display_data
publish_display_data({"application/x-cnnbook-grader+json": json.dumps(seen)})
'''


def test_a_kernel_forked_by_the_zygote_is_in_its_own_sandbox_like_a_started_one(tmp_path):
    from booktools.grading.zygote import Zygote

    os.environ["CNN_BOOK_TEST_SECRET"] = "not-for-students"
    seen = []
    try:
        with Zygote() as zygote:
            for _ in range(2):
                with Kernel(Limits(disk_mb=32), zygote=zygote) as kernel:
                    assert kernel.zygote is not None and not zygote.broken
                    out = kernel.execute(ZYGOTE_SPY.replace("WORK", str(ROOT)), 60)
                    assert out.records, f"the spy printed nothing: {out}"
                    seen.append(out.records[0])
                    kernel.execute("open('/tmp/mine', 'w').write('first')", 10)
                assert kernel.dead and not kernel._alive()  # closed: the sandbox and its kernel are gone
    finally:
        del os.environ["CNN_BOOK_TEST_SECRET"]
    env = bwrap.environment(bwrap.HOME)
    for one in seen:
        # the sandbox's init, the placeholder, the kernel: no other student's process, nothing of the grader's
        assert one["pids"] == [1, 2, 3] and one["pid"] == 3 and one["uid"] == 1000 and one["cwd"] == bwrap.HOME
        assert all(one["env"][k] == v for k, v in env.items()) and "CNN_BOOK_TEST_SECRET" not in one["environ"]
        assert "not-for-students" not in json.dumps(one)
        assert set(one["caps"].values()) == {"0000000000000000", "1"}  # no capability, no_new_privs
        assert one["work"] == sorted([".venv", "helpers"]) and one["torch"]
        assert not any(fd.startswith("/") and fd != "/dev/null" for fd in one["fds"]), one["fds"]
        assert all(k.startswith(str(ROOT / "helpers")) for k in one["importer_cache"]), one["importer_cache"]
    assert seen[0]["random"] != seen[1]["random"]  # NumPy's global state is not the zygote's
    assert "mine" not in seen[1]["tmp"]  # each kernel has its own /tmp


def test_the_reference_kernel_is_forked_by_the_batchs_zygote(tmp_path):
    """The reference run asks the zygote for its kernel (one import of the stack per batch), and
    its records are the same as those of a kernel started on its own."""
    from booktools.grading.reference import load_assignment, run_reference
    from booktools.grading.zygote import Zygote

    source = write(tmp_path / "source.ipynb", SOURCE)
    forked, started = load_assignment(source), load_assignment(source)
    with Zygote() as zygote:
        run_reference(forked, tmp_path / "forked", zygote=zygote)
        assert zygote._count == 1 and not zygote.broken
    run_reference(started, tmp_path / "started")
    assert forked.records and forked.records == started.records and forked.programs == started.programs


def test_batches_graded_in_one_process_share_its_zygote(tmp_path):
    """The second batch forks its kernels from the zygote the first one started (one import of the
    stack per process); a zygote that broke is replaced for the next batch."""
    from booktools.grading import zygote as zygotes

    source = write(tmp_path / "source.ipynb", SOURCE)
    sub = write(tmp_path / "s.ipynb", all_answers())
    first = zygotes.shared()
    before = first._count
    for book in ("one.csv", "two.csv"):
        assert float(grade_batch(source, [sub], tmp_path / book, SETTINGS, progress=False).rows[str(sub)]["score"]) \
            == sum(FULL.values())
    assert zygotes.shared() is first and first._count == before + 4  # reference + submission, twice
    first.broken = "setns refused"
    fresh = zygotes.shared()
    assert fresh is not first and first.proc is None and not fresh.broken and fresh.proc.poll() is None


def test_a_zygote_that_cannot_fork_kernels_leaves_them_to_start_as_before():
    from booktools.grading.zygote import Zygote

    with Zygote(preload=()) as zygote:
        zygote.broken = "setns refused"
        with Kernel(Limits(disk_mb=32), zygote=zygote) as kernel:
            assert kernel.zygote is None and kernel.execute("x = 1", 30).status == "ok"
    with Zygote(preload=()) as zygote:
        zygote.proc.kill()  # it dies: the kernel starts without it, and it is not asked again
        zygote.proc.wait()
        with Kernel(Limits(disk_mb=32), zygote=zygote) as kernel:
            assert kernel.execute("x = 1", 30).status == "ok" and kernel.kernel_proc is None
        assert zygote.broken


def test_a_data_folder_under_tmp_is_seen_read_only_beside_the_sandboxes_own_tmp(monkeypatch):
    """The read-only folders (here a data folder; a checkout's .venv the same way) may lie under
    /tmp: they are mounted after the sandbox's own /tmp, not hidden by it, while the rest of the
    grader's /tmp stays out of sight and the kernel still writes to its own."""
    with tempfile.TemporaryDirectory(dir="/tmp") as outside, tempfile.TemporaryDirectory(dir="/tmp") as data:
        (Path(data) / "digits.txt").write_text("7 2 1", encoding="utf-8")
        (Path(outside) / "secret.txt").write_text("grader only", encoding="utf-8")
        monkeypatch.setenv("CNN_BOOK_DATA", data)
        code = (f"import os\nprint(open({data + '/digits.txt'!r}).read())\n"
                f"print(os.path.exists({outside + '/secret.txt'!r}))\n"
                "open('/tmp/mine.txt', 'w').write('ok'); print(open('/tmp/mine.txt').read())\n"
                f"try:\n    open({data + '/new.txt'!r}, 'w')\nexcept OSError as e:\n    print(type(e).__name__)\n")
        proc = bwrap.start(bwrap.options(16), [sys.executable, "-c", code], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode(errors="replace")
    assert out.decode().split("\n")[:4] == ["7 2 1", "False", "ok", "OSError"], out
