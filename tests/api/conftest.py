"""API test fixtures: real Redis and PostgreSQL (isolated per test), real uvicorn servers.

``api_server`` runs the API in this event loop on a free 127.0.0.1 port (uvicorn + the
``/v1/live`` implementation, exactly as served); :class:`ProcessServer` runs it in other processes
(``paris-live api serve`` with ``--workers``) when a test needs a separate CPU or several workers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import uvicorn

from api.app import create_app
from api.context import AppContext
from api.server import uvicorn_config
from paris_live.live import PUT_STATUS_LUA, changes_channel, facility_key, index_key
from paris_live.settings import Settings
from schemas.catalogue import Facility, load_catalogue
from schemas.status import FacilityStatus

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def facilities_of(kind: str, count: int) -> list[Facility]:
    found = load_catalogue().by_type(kind)
    assert len(found) >= count, f"the catalogue needs {count} facilities of type {kind}"
    return found[:count]


def make_status(facility: Facility | str, seq: int, **changes: Any) -> bytes:
    """A real FacilityStatus JSON (the documented example, moved to this facility and seq)."""
    doc = FacilityStatus.example().model_dump(mode="json")
    if isinstance(facility, str):
        doc.update(facility_id=facility, name=facility)
    else:
        doc.update(
            facility_id=facility.id,
            name=facility.name,
            type=facility.type,
            arrondissement=facility.arrondissement,
        )
    doc.update(seq=seq, updated_at=datetime.now(UTC).isoformat(), **changes)
    return FacilityStatus.model_validate(doc).to_json()


async def put_status(redis: aioredis.Redis, settings: Settings, raw: bytes) -> int:
    """Write a status exactly as the stream sinks do (PUT_STATUS_LUA: store if newer + publish)."""
    doc = orjson.loads(raw)
    stored: int = await redis.eval(
        PUT_STATUS_LUA,
        3,
        facility_key(settings, doc["facility_id"]),
        index_key(settings),
        changes_channel(settings),
        doc["facility_id"],
        doc["seq"],
        raw,
        doc["updated_at"],
    )
    return stored


class InProcessServer:
    """uvicorn serving the API in the test's event loop."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.port = free_port()
        self.settings = settings
        self.server = uvicorn.Server(
            uvicorn_config(settings, app=app, port=self.port, log_level="warning")
        )
        self.task: asyncio.Task[None] | None = None

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/live"

    @property
    def ctx(self) -> AppContext:
        """The running application's context (what its lifespan opened), for white-box tests."""
        ctx: AppContext = self.server.lifespan.state["ctx"]
        return ctx

    async def start(self, *, ready: bool = True) -> None:
        self.server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        self.task = asyncio.create_task(self.server.serve(), name="uvicorn")
        deadline = time.monotonic() + 15
        while not self.server.started:
            assert time.monotonic() < deadline, "uvicorn did not start"
            assert not self.task.done(), "uvicorn stopped while starting"
            await asyncio.sleep(0.02)
        if ready:
            await wait_ready(self.http)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await asyncio.wait_for(self.task, timeout=15)


async def wait_ready(base: str, within: float = 20.0) -> None:
    """Until /v1/readyz answers 200 (Redis, PostgreSQL and the live feed are up)."""
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as client:
        while True:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/v1/readyz")).status_code == 200:
                    return
            assert time.monotonic() < deadline, f"{base} never became ready"
            await asyncio.sleep(0.05)


def fast_hub(settings: Settings, **changes: Any) -> Settings:
    """These settings with short hub timers, so tests see heartbeats and reaping quickly."""
    values: dict[str, Any] = {
        "hub_slow_timeout": 2.0,
        "hub_heartbeat_interval": 1.0,
        "hub_dead_after": 5.0,
    }
    values.update({f"hub_{k}": v for k, v in changes.items()})
    return settings.model_copy(update=values)


@pytest.fixture
async def api_server(settings: Settings, db: Settings) -> AsyncIterator[InProcessServer]:
    """The API on a free port, on this test's Redis prefix and PostgreSQL schema."""
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(api_server: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_server.http, timeout=10.0) as client:
        yield client


def server_env(settings: Settings, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PARIS_LIVE_ENV="test",
        PARIS_LIVE_REDIS_URL=settings.redis,
        PARIS_LIVE_DATABASE_URL=settings.database,
        PARIS_LIVE_KAFKA_BOOTSTRAP=settings.kafka,
        PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
        PARIS_LIVE_DB_SCHEMA=settings.db_schema,
        PARIS_LIVE_LOG_LEVEL="warning",
        PYTHONPATH=str(ROOT),
        **extra,
    )
    return env


class ProcessServer:
    """``python -m api.cli serve`` in child processes (``--workers``)."""

    def __init__(self, settings: Settings, workers: int = 1, **env: str) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "api.cli",
                "serve",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=ROOT,
            env=server_env(settings, **env),
            start_new_session=True,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/live"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)


@pytest.fixture
def process_server_factory(settings: Settings, db: Settings) -> Iterator[Any]:
    started: list[ProcessServer] = []

    def start(workers: int = 1, **env: str) -> ProcessServer:
        server = ProcessServer(settings, workers, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
