"""What every local service shares: a state folder, a pid file, a log file, readiness and a clean stop."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class ServiceError(Exception):
    """A local service could not be prepared, started or stopped."""


class ServiceMissing(ServiceError):
    """A binary or tool the service needs is not installed."""


class ServiceStartFailed(ServiceError):
    """The service was started but did not become ready."""


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
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.3)
        return sock.connect_ex((host, port)) == 0


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

    def start(self) -> bool:
        """Start the service if it is not running; returns True when this call started it."""
        if self.is_running():
            if self._wait_ready(self.start_timeout()):
                return False
            raise ServiceStartFailed(
                f"{self.name} is running (pid {self.pid()}) but does not answer on {self.address}; "
                f"see {self.log_file}"
            )
        if port_in_use(self.port):
            raise ServiceStartFailed(
                f"{self.name}: port {self.port} on 127.0.0.1 is already taken by another process; "
                f"stop it or point PARIS_LIVE_* at that server instead (log: {self.log_file})"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        self.prepare()
        # Detached through a shell that exits at once: the server is re-parented to init, so this
        # process neither keeps a handle on it nor leaves a zombie behind.
        launcher = 'exec "$@" >>"$LOG" 2>&1 </dev/null & echo $!'
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
        pid = int(launched.stdout.strip())
        self.pid_file.write_text(str(pid))
        deadline = time.monotonic() + self.start_timeout()
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                self.pid_file.unlink(missing_ok=True)
                raise ServiceStartFailed(
                    f"{self.name} exited while starting; "
                    f"last lines of {self.log_file}:\n{self.tail()}"
                )
            if self.ready():
                self.after_ready()
                return True
            time.sleep(0.2)
        self.stop()
        raise ServiceStartFailed(
            f"{self.name} did not become ready within {self.start_timeout():.0f} s; "
            f"last lines of {self.log_file}:\n{self.tail()}"
        )

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.ready():
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
        self.pid_file.unlink(missing_ok=True)
        return True

    def state(self) -> ServiceState:
        pid = self.pid()
        return ServiceState(
            name=self.name,
            running=pid is not None,
            ready=pid is not None and self.ready(),
            pid=pid,
            address=self.address,
            log_file=self.log_file,
        )

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"
