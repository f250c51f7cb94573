"""`paris-live up` runs the platform, prints its URLs, serves the API and stops cleanly."""

from __future__ import annotations

import inspect
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from paris_live.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env(settings: Settings, tmp_path: Path, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "PARIS_LIVE_KAFKA_BOOTSTRAP": settings.kafka,
        "PARIS_LIVE_REDIS_URL": settings.redis,
        "PARIS_LIVE_DATABASE_URL": settings.database,
        "PARIS_LIVE_TOPIC_PREFIX": settings.topic_prefix,
        "PARIS_LIVE_REDIS_PREFIX": settings.redis_prefix,
        "PARIS_LIVE_DB_SCHEMA": settings.db_schema,
        "PARIS_LIVE_STATE_DIR": str(tmp_path),
        "PARIS_LIVE_API_PORT": str(port),
        "PARIS_LIVE_PUBLIC_BASE_URL": f"http://127.0.0.1:{port}",
        "COLUMNS": "200",
    }


def test_up_serves_the_api_and_stops_everything_on_ctrl_c(
    settings: Settings, tmp_path: Path
) -> None:
    """Up prints the URLs, the API answers, and Ctrl-C stops every process it started."""
    port = _free_port()
    env = _env(settings, tmp_path, port)
    up = subprocess.Popen(
        [sys.executable, "-m", "paris_live.cli", "up", "--speed", "600"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        ready = False
        while time.monotonic() < deadline and up.poll() is None:
            try:
                ready = httpx.get(f"http://127.0.0.1:{port}/v1/healthz", timeout=2).is_success
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(0.5)
        assert ready, "the API did not answer /v1/healthz"
        facilities = httpx.get(f"http://127.0.0.1:{port}/v1/facilities", timeout=10).json()
        assert len(facilities["items"]) > 0
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
    assert up.returncode == 0, output
    assert "dead-letters its events" in output  # --speed 600: the simulator outruns the window
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "stopped" in output
    logs = tmp_path / "logs"
    assert {"api.log", "worker-1.log", "feedback.log", "simulator.log"} <= {
        p.name for p in logs.iterdir()
    }
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API still listens after Ctrl-C"


def _children(pid: int) -> dict[str, int]:
    """The processes ``up`` started, by their subcommand (``api``, ``worker``, ...)."""
    found: dict[str, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"paris_live.cli" in argv:
            found[argv[argv.index(b"paris_live.cli") + 1].decode()] = int(entry.name)
    return found


def _until(condition: Callable[[], object], up: subprocess.Popen[str], within: float) -> Any:
    """Poll an observable condition until it is truthy, failing if ``up`` exits or time runs out."""
    deadline = time.monotonic() + within
    while True:
        value = condition()
        if value:
            return value
        assert up.poll() is None, "up exited"
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.2)


def _healthy(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/v1/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_up_restarts_a_killed_child_with_growing_delays_and_keeps_the_others(
    settings: Settings, tmp_path: Path
) -> None:
    """The API killed with -9 comes back (healthz 200 again) after 1 s, killed again at once after
    2 s; up keeps running and the worker keeps its pid; each restart is on the console and logged."""
    port = _free_port()
    up = subprocess.Popen(
        [sys.executable, "-m", "paris_live.cli", "up", "--no-simulate"],
        env=_env(settings, tmp_path, port),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    up_log = tmp_path / "logs" / "up.log"

    def log() -> str:
        return up_log.read_text() if up_log.exists() else ""

    try:
        _until(lambda: _healthy(port), up, 120)
        first = _until(lambda: (c := _children(up.pid)).keys() >= {"api", "worker"} and c, up, 10)
        os.kill(first["api"], signal.SIGKILL)
        _until(lambda: "api exited with code -9; restarting in 1 s" in log(), up, 30)
        _until(lambda: _children(up.pid).get("api", first["api"]) != first["api"], up, 30)
        second = _children(up.pid)["api"]
        os.kill(second, signal.SIGKILL)
        _until(lambda: "api exited with code -9; restarting in 2 s" in log(), up, 30)
        _until(lambda: _healthy(port), up, 60)
        after = _children(up.pid)
        assert after["api"] not in {first["api"], second}
        assert after["worker"] == first["worker"]
        assert "worker-1 exited" not in log() and "feedback exited" not in log()
        up.send_signal(signal.SIGINT)
        output, _ = up.communicate(timeout=60)
    finally:
        if up.poll() is None:
            os.killpg(up.pid, signal.SIGKILL)
            up.wait()
    assert up.returncode == 0, output
    assert "api exited with code -9; restarting in 2 s" in output and "stopped" in output
    assert "supervisor: api restarted (restart 2)" in (tmp_path / "logs" / "api.log").read_text()


def test_up_simulates_in_real_time_by_default() -> None:
    """The worker refuses an event more than 1 h after its clock (``MAX_FUTURE_S``): a simulator
    faster than real time outruns that after 60/(speed−1) minutes, and the live state stops. The
    default was 60 — every event dead-lettered (``time_out_of_range``) one minute after ``up``."""
    from paris_live.cli import up
    from streams.core.policy import MAX_FUTURE_S

    default = inspect.signature(up).parameters["speed"].default.default
    assert default == 1.0
    assert MAX_FUTURE_S == 3600  # the window the warning of ``up --speed`` speaks of
