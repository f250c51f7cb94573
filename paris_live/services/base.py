"""What every local service shares: a state folder, a pid file, a log file, readiness and a clean stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from paris_live.services import ports


class ServiceError(Exception):
    """A local service could not be prepared, started or stopped."""


class ServiceMissing(ServiceError):
    """A binary or tool the service needs is not installed."""


class ServiceStartFailed(ServiceError):
    """The service was started but did not become ready."""


class _BindFailed(Exception):
    """The server exited because its port was held (retried once by ``LocalService.start``)."""


@dataclass(frozen=True)
class ServiceState:
    name: str
    running: bool
    ready: bool
    pid: int | None
    address: str
    log_file: Path
    detail: str = ""


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    """True when a server accepts on ``host:port`` (never dials a port nobody listens on)."""
    return ports.connect_probe(port, host)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _signal_group(pid: int, signum: int) -> None:
    """Signal the process group a service runs in (the server and any child it forked)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(os.getpgid(pid), signum)


def is_root() -> bool:
    return os.geteuid() == 0


def apt_install(*packages: str) -> None:
    """Install Debian packages when running as root; otherwise say what to install."""
    if not is_root() or shutil.which("apt-get") is None:
        raise ServiceMissing(
            f"missing {', '.join(packages)}: install it with `sudo apt-get install {' '.join(packages)}`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, text=True)
    if update.returncode != 0:
        raise ServiceMissing(f"apt-get update failed: {update.stderr.strip()[-400:]}")
    result = subprocess.run(
        ["apt-get", "install", "-y", "-qq", *packages], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise ServiceMissing(
            f"apt-get install {' '.join(packages)} failed: {result.stderr.strip()[-400:]}"
        )


class LocalService(ABC):
    """A server process the project owns: prepared once, started detached, checked, stopped."""

    name: str

    def __init__(self, state_dir: Path, port: int) -> None:
        self.root = (state_dir / self.name).resolve()
        self.port = port
        self._log_offset = 0

    @property
    def log_file(self) -> Path:
        return self.root / f"{self.name}.log"

    @property
    def pid_file(self) -> Path:
        return self.root / f"{self.name}.pid"

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if pid_alive(pid) else None

    def is_running(self) -> bool:
        return self.pid() is not None

    @abstractmethod
    def prepare(self) -> None:
        """Install or fetch what the service needs and initialise its storage (idempotent)."""

    @abstractmethod
    def command(self) -> Sequence[str]:
        """The command line that runs the server in the foreground."""

    @abstractmethod
    def ready(self) -> bool:
        """True when the server answers a real request."""

    def after_ready(self) -> None:  # noqa: B027 - optional hook
        """One-time set-up once the server answers (databases, users...)."""

    def start_timeout(self) -> float:
        return 60.0

    def run_as(self) -> Sequence[str]:
        """A prefix to run the server as another user (PostgreSQL refuses root)."""
        return ()

    def ports(self) -> tuple[int, ...]:
        """Every port the server binds (readiness waits until it listens on all of them)."""
        return (self.port,)

    def start(self) -> bool:
        """Start the service if it is not running; returns True when this call started it.

        No client dials a port before the server process listens on it (see ``ports``: our ports
        are ephemeral ones, and a premature dial can connect to itself and hold the port in
        TIME-WAIT). If the server still fails to bind, the start is retried once after the
        TIME-WAIT sockets holding its ports have cleared.
        """
        if self.is_running():
            if self._wait_ready(self.start_timeout()):
                return False
            raise ServiceStartFailed(
                f"{self.name} is running (pid {self.pid()}) but does not answer on {self.address}; "
                f"see {self.log_file}"
            )
        taken = [p for p in self.ports() if ports.port_listening(p)]
        if taken:
            raise ServiceStartFailed(
                f"{self.name}: port {taken[0]} on 127.0.0.1 is already taken by another process; "
                f"stop it or point PARIS_LIVE_* at that server instead (log: {self.log_file})"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.prepare()
        for attempt in (1, 2):
            self._wait_time_wait_clear(after_bind_failure=attempt == 2)
            pid = self._launch()
            try:
                self._await_ready(pid)
            except _BindFailed:
                if attempt == 2:
                    raise ServiceStartFailed(
                        f"{self.name} could not bind {self.address} twice (address already in "
                        f"use); last lines of {self.log_file}:\n{self.tail()}"
                    ) from None
                continue
            return True
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait_time_wait_clear(self, *, after_bind_failure: bool) -> None:
        for port in self.ports():
            if not ports.wait_time_wait_clear(
                port, timeout=self.bind_wait_timeout(), any_state=after_bind_failure
            ):
                raise ServiceStartFailed(
                    f"{self.name}: port {port} is still held (TIME-WAIT or a client) after "
                    f"{self.bind_wait_timeout():.0f} s"
                )

    def bind_wait_timeout(self) -> float:
        """How long to wait for TIME-WAIT sockets on our ports to clear (Linux keeps them 60 s)."""
        return 90.0

    def _launch(self) -> int:
        # Detached through a shell that exits at once: the server is re-parented to init, so this
        # process neither keeps a handle on it nor leaves a zombie behind.
        launcher = 'exec "$@" >>"$LOG" 2>&1 </dev/null & echo $!'
        log_size = self.log_file.stat().st_size if self.log_file.exists() else 0
        try:
            launched = subprocess.run(
                ["sh", "-c", launcher, "sh", *self.run_as(), *self.command()],
                capture_output=True,
                text=True,
                start_new_session=True,
                cwd=self.root,
                env={**os.environ, "LOG": str(self.log_file)},
                check=True,
            )
        except (OSError, subprocess.CalledProcessError) as exc:
            raise ServiceStartFailed(f"{self.name}: could not launch it ({exc})") from exc
        self._log_offset = log_size
        pid = int(launched.stdout.strip())
        self.pid_file.write_text(str(pid))
        return pid

    def _log_since_launch(self) -> str:
        try:
            with self.log_file.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode(errors="replace")
        except OSError:
            return ""

    def _listens(self, pid: int) -> bool:
        return all(ports.pid_listens(pid, port) for port in self.ports())

    def _await_ready(self, pid: int) -> None:
        """Wait for the launched server to listen, then to answer; raise if it exits or stalls."""
        deadline = time.monotonic() + self.start_timeout()
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                if ports.mentions_bind_failure(self._log_since_launch()):
                    raise _BindFailed
                raise ServiceStartFailed(
                    f"{self.name} exited while starting; "
                    f"last lines of {self.log_file}:\n{self.tail()}"
                )
            if self._listens(pid) and self.ready():
                self.after_ready()
                return
            time.sleep(0.2)
        self.stop()
        raise ServiceStartFailed(
            f"{self.name} did not become ready within {self.start_timeout():.0f} s; "
            f"last lines of {self.log_file}:\n{self.tail()}"
        )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if all(ports.port_listening(p) for p in self.ports()) and self.ready():
                return True
            time.sleep(0.2)
        return False

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop the service (SIGTERM, then SIGKILL after ``timeout``); True if it was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal_group(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and pid_alive(pid):
            time.sleep(0.1)
        if pid_alive(pid):
            _signal_group(pid, signal.SIGKILL)
            deadline = time.monotonic() + 5.0  # until its ports are free for the next start
            while (
                time.monotonic() < deadline and pid_alive(pid) and ports.port_listening(self.port)
            ):
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def state(self) -> ServiceState:
        pid = self.pid()
        return ServiceState(
            name=self.name,
            running=pid is not None,
            ready=pid is not None and ports.port_listening(self.port) and self.ready(),
            pid=pid,
            address=self.address,
            log_file=self.log_file,
        )

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
