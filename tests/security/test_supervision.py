"""``make run`` supervises its servers (issue 11, item 17), written before the fix.

scripts/supervise.py runs real child processes here: one is killed, it comes back (with a log line and
a growing pause when it keeps dying), the others keep running; stopping the supervisor stops them all.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SUPERVISE = ROOT / "scripts" / "supervise.py"
WAIT_S = 30.0  # a bound on waiting, never a speed requirement


def _service(directory: Path, name: str) -> str:
    # writes its pid, then waits to be stopped
    code = f"import os, time; open({str(directory / (name + '.pid'))!r}, 'w').write(str(os.getpid())); time.sleep(600)"
    return f"{name}={sys.executable} -c \"{code}\""


def _pid(directory: Path, name: str, other_than: int | None = None) -> int:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        path = directory / f"{name}.pid"
        text = path.read_text() if path.exists() else ""
        if text.isdigit() and int(text) != other_than:
            return int(text)
        time.sleep(0.1)
    raise AssertionError(f"{name} did not (re)start")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


def _start(tmp_path: Path, *services: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(SUPERVISE), "--log-dir", str(tmp_path / "logs"),
                             "--backoff-base", "0.2", *services],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _stop(supervisor: subprocess.Popen) -> str:
    if supervisor.poll() is None:
        supervisor.send_signal(signal.SIGTERM)
    out, _ = supervisor.communicate(timeout=WAIT_S)
    return out


def test_a_dead_server_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    supervisor = _start(tmp_path, *(_service(tmp_path, n) for n in ("actions", "rasa", "console")))
    try:
        pids = {n: _pid(tmp_path, n) for n in ("actions", "rasa", "console")}
        os.kill(pids["actions"], signal.SIGKILL)
        restarted = _pid(tmp_path, "actions", other_than=pids["actions"])
        assert _alive(restarted) and restarted != pids["actions"]
        assert _alive(pids["rasa"]) and _alive(pids["console"])
        assert supervisor.poll() is None
        assert (tmp_path / "logs" / "actions.log").exists()
    finally:
        out = _stop(supervisor)
    assert "actions stopped" in out and "restarting" in out
    assert not any(_alive(p) for p in (restarted, pids["rasa"], pids["console"]))  # stopped with the supervisor
    assert supervisor.returncode == 0


def test_a_server_that_keeps_dying_is_restarted_with_growing_pauses(tmp_path: Path) -> None:
    supervisor = _start(tmp_path, f"flaky={sys.executable} -c \"raise SystemExit(3)\"", _service(tmp_path, "steady"))
    try:
        steady = _pid(tmp_path, "steady")
        deadline = time.monotonic() + WAIT_S
        log = tmp_path / "logs" / "supervise.log"
        while time.monotonic() < deadline and (not log.exists() or log.read_text().count("flaky stopped") < 3):
            time.sleep(0.1)
        assert _alive(steady)
    finally:
        out = _stop(supervisor)
    pauses = [float(p) for p in __import__("re").findall(r"flaky stopped \(exit code 3\); restarting in ([\d.]+)s", out)]
    assert len(pauses) >= 3 and pauses[0] < pauses[1] < pauses[2]


@pytest.mark.parametrize("failures, expected", [(1, 1.0), (2, 2.0), (3, 4.0), (10, 30.0)])
def test_the_backoff_doubles_up_to_a_ceiling(failures: int, expected: float) -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from supervise import backoff_s
    finally:
        sys.path.remove(str(ROOT / "scripts"))
    assert backoff_s(failures, base=1.0, ceiling=30.0) == expected


def test_make_run_uses_the_supervisor() -> None:
    run = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    assert "scripts/supervise.py" in run and "wait -n" not in run
