"""The supervisor of ``paris-live up`` with real child processes and a fake clock for the backoff.

The children are real (``python -c ...``); only the time the supervisor reads is faked, so the
backoff is checked exactly, without sleeps or timing assertions.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path

from paris_live.supervisor import Child, Supervisor
from tests import testkit

PY = sys.executable


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def wait_for(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Until ``condition()`` holds (observable state), or fail after ``within`` seconds."""
    testkit.wait_for(condition, within=within, every=0.01)


def exited(child: Child) -> bool:
    return child.process is not None and child.process.poll() is not None


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def make(tmp_path: Path, **options: float) -> tuple[Supervisor, FakeClock, list[str]]:
    clock = FakeClock()
    lines: list[str] = []
    supervisor = Supervisor(tmp_path, report=lines.append, clock=clock, **options)
    return supervisor, clock, lines


def test_failing_child_restarts_with_doubling_delays_and_the_others_keep_running(
    tmp_path: Path,
) -> None:
    """A child that always exits 3 is restarted after 1, 2, 4, 4 s (capped); a healthy sibling
    keeps its pid throughout, and every exit and restart is reported and logged."""
    supervisor, clock, lines = make(tmp_path, first_delay=1.0, max_delay=4.0, stable_after=60.0)
    steady = supervisor.add("steady", [PY, "-c", "import time; time.sleep(120)"])
    failing = supervisor.add("failing", [PY, "-c", "import sys; sys.exit(3)"])
    assert steady.process is not None
    steady_pid = steady.process.pid
    try:
        delays = []
        for _ in range(4):
            wait_for(lambda: exited(failing))
            supervisor.poll()  # notices the exit, schedules the restart
            assert failing.process is None and failing.restart_at is not None
            delay = failing.restart_at - clock.now
            delays.append(delay)
            clock.now += delay - 0.01
            supervisor.poll()
            assert failing.process is None, "restarted before its delay"
            clock.now += 0.01
            supervisor.poll()
            assert failing.process is not None, "not restarted when due"
        assert delays == [1.0, 2.0, 4.0, 4.0]
        assert failing.exits == [3, 3, 3, 3] and failing.restarts == 4
        assert steady.process is not None and steady.process.poll() is None
        assert steady.process.pid == steady_pid
        assert lines[0].startswith("failing exited with code 3; restarting in 1 s")
        assert lines[1] == "failing restarted (restart 1)"
        assert "supervisor: failing exited with code 3" in (tmp_path / "failing.log").read_text()
        assert (tmp_path / "up.log").read_text().count("supervisor: failing restarted") == 4
    finally:
        supervisor.stop(grace=5)


def test_delay_resets_after_a_stable_run(tmp_path: Path) -> None:
    """A child killed after it stayed up stable_after seconds is restarted after first_delay again."""
    supervisor, clock, _ = make(tmp_path, first_delay=1.0, max_delay=30.0, stable_after=10.0)
    child = supervisor.add("api", [PY, "-c", "import time; time.sleep(120)"])
    try:
        for expected in (1.0, 2.0):  # two quick deaths: the delay grows
            assert child.process is not None
            os.kill(child.process.pid, signal.SIGKILL)
            wait_for(lambda: exited(child))
            supervisor.poll()
            assert child.restart_at == clock.now + expected
            assert child.exits[-1] == -signal.SIGKILL
            clock.now += expected
            supervisor.poll()
        clock.now += 10.0  # this run holds
        supervisor.poll()
        assert child.process is not None
        os.kill(child.process.pid, signal.SIGKILL)
        wait_for(lambda: exited(child))
        supervisor.poll()
        assert child.restart_at == clock.now + 1.0
    finally:
        supervisor.stop(grace=5)


def test_what_a_dead_child_left_behind_is_killed_before_the_restart(tmp_path: Path) -> None:
    """A child's own children (uvicorn workers) die with it, so the restart finds its port free."""
    pid_file = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(120)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid)); sys.exit(1)"
    )
    supervisor, _, _ = make(tmp_path)
    child = supervisor.add("api", [PY, "-c", script])
    try:
        wait_for(lambda: exited(child) and pid_file.exists() and pid_file.read_text() != "")
        grandchild = int(pid_file.read_text())
        assert not gone(grandchild)
        supervisor.poll()
        wait_for(lambda: gone(grandchild))
    finally:
        supervisor.stop(grace=5)


def test_stop_terminates_then_kills_what_ignores_sigterm(tmp_path: Path) -> None:
    """Stop sends SIGTERM to every child; one that ignores it is killed after the grace period,
    and nothing is restarted afterwards."""
    ready = tmp_path / "stubborn.ready"
    stubborn_script = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
        f"open({str(ready)!r}, 'w').close(); time.sleep(120)"
    )
    supervisor, _, _ = make(tmp_path)
    polite = supervisor.add("polite", [PY, "-c", "import time; time.sleep(120)"])
    stubborn = supervisor.add("stubborn", [PY, "-c", stubborn_script])
    wait_for(ready.exists)
    supervisor.stop(grace=0.5)
    assert polite.process is not None and polite.process.returncode == -signal.SIGTERM
    assert stubborn.process is not None and stubborn.process.returncode == -signal.SIGKILL
    supervisor.poll()
    assert all(c.restart_at is None for c in supervisor.children)
