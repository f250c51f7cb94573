"""Local services: readiness, reuse, clear failures; settings fail early with the variable's name."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from paris_live.services import ServiceManager, ServiceStartFailed
from paris_live.services.base import port_in_use
from paris_live.services.redis import RedisService
from paris_live.settings import Settings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "paris_live.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )


def test_services_status_reports_all_ready(base_settings: Settings) -> None:
    """`paris-live services status` lists the three local services as ready and exits 0."""
    if not base_settings.uses_local_services:
        pytest.skip("services are external (PARIS_LIVE_* URLs set)")
    result = _cli("services", "status", env={"COLUMNS": "200"})
    assert result.returncode == 0, result.stdout + result.stderr
    for name in ("kafka", "redis", "postgres"):
        assert any(name in line and "ready" in line for line in result.stdout.splitlines())


def test_a_running_service_is_reused_not_restarted(tmp_path: Path) -> None:
    """Starting a service that already runs returns at once without a second process."""
    service = RedisService(tmp_path, _free_port())
    try:
        assert service.start() is True
        pid = service.pid()
        assert service.start() is False
        assert service.pid() == pid
        assert service.state().ready
    finally:
        service.stop()
    assert not service.is_running()
    assert not port_in_use(service.port)


def test_port_taken_names_the_service_port_and_log(tmp_path: Path) -> None:
    """A port held by another process fails with the service's name, the port and its log file."""
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        service = RedisService(tmp_path, port)
        with pytest.raises(ServiceStartFailed) as caught:
            service.start()
    message = str(caught.value)
    assert "redis" in message
    assert str(port) in message
    assert str(service.log_file) in message
    assert not service.is_running()


def test_manager_uses_no_local_service_when_urls_are_given() -> None:
    """With all three URLs set, nothing local is started."""
    settings = Settings(
        kafka_bootstrap="127.0.0.1:1",
        redis_url="redis://127.0.0.1:1/0",
        database_url="postgresql://x@127.0.0.1:1/x",
    )
    assert ServiceManager(settings).services == []


def test_bad_setting_fails_at_start_with_the_variable_name() -> None:
    """An invalid PARIS_LIVE_ variable stops the CLI with exit 2 and names the variable."""
    result = _cli("services", "status", env={"PARIS_LIVE_API_PORT": "not-a-port"})
    assert result.returncode == 2
    assert "PARIS_LIVE_API_PORT" in result.stderr


def test_production_refuses_unsafe_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """In production, missing server URLs and the development JWT secret are refused."""
    for var in ("KAFKA_BOOTSTRAP", "REDIS_URL", "DATABASE_URL", "JWT_SECRET", "OIDC_JWKS_URL"):
        monkeypatch.delenv(f"PARIS_LIVE_{var}", raising=False)
    with pytest.raises(ValidationError, match="PARIS_LIVE_KAFKA_BOOTSTRAP"):
        Settings(env="prod")
    with pytest.raises(ValidationError, match="PARIS_LIVE_JWT_SECRET"):
        Settings(
            env="prod",
            kafka_bootstrap="k:9092",
            redis_url="redis://r",
            database_url="postgresql://d",
            allowed_origins=("https://www.paris.fr",),
        )
