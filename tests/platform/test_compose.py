"""docker-compose.yml is production-shaped (no Docker engine here: it is parsed and checked)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from typer.testing import CliRunner

from paris_live.cli import app

COMPOSE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
APP_SERVICES = {"init", "worker", "feedback", "forecast", "api", "simulator"}


def _compose() -> dict[str, Any]:
    data = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_compose_has_every_part_of_the_platform() -> None:
    """Kafka (KRaft), Redis, TimescaleDB, the one-shot init, workers, API and simulator are there."""
    services = _compose()["services"]
    assert {"kafka", "redis", "timescaledb", *APP_SERVICES} <= set(services)
    assert services["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_images_are_pinned() -> None:
    """Every image names an exact version, never latest or a bare name."""
    for name, service in _compose()["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image else ""
        assert re.match(r"^\d+\.\d+(\.\d+)?", tag), f"{name}: image {image} is not pinned"


def test_servers_have_healthchecks_and_dependants_wait_for_them() -> None:
    """Servers declare healthchecks; app services start only once they are healthy / init is done."""
    services = _compose()["services"]
    for name in ("kafka", "redis", "timescaledb", "api", "worker"):
        assert "test" in services[name]["healthcheck"], name
    for name in APP_SERVICES:
        for dep, cond in services[name]["depends_on"].items():
            wanted = "service_completed_successfully" if dep == "init" else "service_healthy"
            assert cond["condition"] == wanted, f"{name} → {dep}"


def test_secrets_are_required_from_the_environment() -> None:
    """Passwords and signing keys come from ${VAR:?}: nothing secret is written in the file."""
    text = COMPOSE.read_text(encoding="utf-8")
    for var in ("POSTGRES_PASSWORD", "PARIS_LIVE_JWT_SECRET"):
        assert re.search(r"\$\{" + var + r":\?", text), var
    for line in text.splitlines():
        match = re.match(r"\s*\w*(PASSWORD|SECRET)\w*:\s*(\S.*)$", line)
        if match:
            assert match.group(2).startswith("${") and ":?" in match.group(2), line


def test_each_app_command_exists_in_the_cli() -> None:
    """The command of every app service is a real `paris-live` subcommand with those options."""
    runner = CliRunner()
    for name in APP_SERVICES:
        command = _compose()["services"][name]["command"]
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, f"{name}: paris-live {' '.join(command)} → {result.output}"
