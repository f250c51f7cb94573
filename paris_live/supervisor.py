"""Keep the processes of ``paris-live up`` running: one that exits is restarted, never a reason to
stop the others.

A child that exits is started again after a delay that doubles from ``first_delay`` up to
``max_delay`` (1 s → 2 → 4 … → 30 s); once a run lasted ``stable_after`` seconds the delay is back
to ``first_delay``. Each exit and restart is reported (the console of ``up``) and appended to the
child's own log and to ``up.log``. :meth:`Supervisor.stop` sends SIGTERM to every child's process
group, waits up to a deadline, then SIGKILLs what is left.

Each child runs in its own session (process group), so a signal to ``up``'s terminal reaches ``up``
alone and a child's own children (uvicorn ``--workers``) go with it when it is stopped or restarted.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

__all__ = ["Child", "Supervisor"]


@dataclass
class Child:
    """One supervised command and the state of its current run."""

    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restart_at: float | None = None
    """When an exited child is due to start again (None: running, or stopped for good)."""
    delay: float = 0.0
    """The wait before the next restart."""
    restarts: int = 0
    exits: list[int] = field(default_factory=list)
    """Exit codes of the past runs (negative: killed by that signal)."""


class Supervisor:
    """Start children, restart them with backoff, stop them all."""

    def __init__(
        self,
        logs: Path,
        *,
        first_delay: float = 1.0,
        max_delay: float = 30.0,
        stable_after: float = 30.0,
        report: Callable[[str], None] = print,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logs = logs
        self.first_delay = first_delay
        self.max_delay = max_delay
        self.stable_after = stable_after
        self.report = report
        self.clock = clock
        self.children: list[Child] = []
        self.stopped = False

    def add(self, name: str, argv: Sequence[str]) -> Child:
        """Start a child now and supervise it."""
        child = Child(name, list(argv), self.logs / f"{name}.log", delay=self.first_delay)
        self.children.append(child)
        self._start(child)
        return child

    def poll(self) -> None:
        """One round: notice exits, schedule their restarts, start what is due."""
        if self.stopped:
            return
        now = self.clock()
        for child in self.children:
            process = child.process
            if process is not None and process.poll() is None:
                if now - child.started_at >= self.stable_after:
                    child.delay = self.first_delay  # it held: the next failure starts over
                continue
            if process is not None:  # it just exited
                code = process.returncode
                child.exits.append(code)
                child.process = None
                _kill_group(process.pid)  # what it left behind (uvicorn workers) goes too
                child.restart_at = now + child.delay
                self._note(
                    child,
                    f"{child.name} exited with code {code}; restarting in {child.delay:g} s "
                    f"(see {child.log_path})",
                )
                child.delay = min(child.delay * 2, self.max_delay)
            elif child.restart_at is not None and now >= child.restart_at:
                child.restarts += 1
                self._start(child)
                self._note(child, f"{child.name} restarted (restart {child.restarts})")

    def run(self, should_stop: Callable[[], bool], interval: float = 0.2) -> None:
        """Poll until ``should_stop()``."""
        while not should_stop():
            self.poll()
            time.sleep(interval)

    def stop(self, grace: float) -> None:
        """SIGTERM every child's group, wait up to ``grace`` seconds, SIGKILL what is left."""
        self.stopped = True
        running = [c.process for c in self.children if c.process is not None]
        for child in self.children:
            child.restart_at = None
        for process in running:
            if process.poll() is None:
                _signal_group(process.pid, signal.SIGTERM)
        deadline = self.clock() + grace
        for process in running:
            try:
                process.wait(max(0.1, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                _kill_group(process.pid)
                process.wait()
            else:
                _kill_group(process.pid)

    # --- internals -----------------------------------------------------------------------------
    def _start(self, child: Child) -> None:
        child.restart_at = None
        with child.log_path.open("ab") as log:
            child.process = subprocess.Popen(
                child.argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        child.started_at = self.clock()

    def _note(self, child: Child, message: str) -> None:
        self.report(message)
        line = f"{datetime.now(UTC).isoformat(timespec='seconds')} supervisor: {message}\n"
        for path in (child.log_path, self.logs / "up.log"):
            with path.open("a", encoding="utf-8") as log:
                log.write(line)


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


def _kill_group(pgid: int) -> None:
    _signal_group(pgid, signal.SIGKILL)
