"""`paris-live up` runs the platform, prints its URLs, serves the API and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from paris_live.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_up_serves_the_api_and_stops_everything_on_ctrl_c(
    settings: Settings, tmp_path: Path
) -> None:
    """Up prints the URLs, the API answers, and Ctrl-C stops every process it started."""
    port = _free_port()
    env = {
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
    assert f"http://127.0.0.1:{port}/docs" in output
    assert "stopped" in output
    logs = tmp_path / "logs"
    assert {"api.log", "worker-1.log", "feedback.log", "simulator.log"} <= {
        p.name for p in logs.iterdir()
    }
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, "the API still listens after Ctrl-C"
