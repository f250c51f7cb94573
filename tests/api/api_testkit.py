"""Helpers of the API tests: statuses written as the stream sinks write them, the API served
in-process (:class:`InProcessServer`) or in child processes (:class:`ProcessServer`), and a
``/v1/live`` client. Fixtures built on them live in ``tests/api/conftest.py``."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
import uvicorn
from websockets.asyncio.client import ClientConnection

from api.context import AppContext
from api.hub import Hub
from api.server import uvicorn_config
from paris_live.live import PUT_STATUS_LUA, changes_channel, facility_key, index_key
from paris_live.settings import Settings
from schemas.catalogue import Facility, load_catalogue
from schemas.status import FacilityStatus
from tests.testkit import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
STOP_WITHIN_S = 45.0
"""Longest wait for uvicorn to stop: its shutdown bounds each client close (api.app), so longer
means it is stuck, and the test says on what."""


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


def closure_status(
    closure_id: str,
    reason: str,
    message: dict[str, str],
    now: datetime,
    *,
    declared_by: str = "agent-1",
    reopens_in_hours: float = 3,
) -> dict[str, Any]:
    """A whole-facility closure as a status carries it: declared and started ``now``."""
    return {
        "closure_id": closure_id,
        "scope": {"kind": "facility"},
        "reason": reason,
        "message": message,
        "starts_at": now.isoformat(),
        "expected_reopening_at": (now + timedelta(hours=reopens_in_hours)).isoformat(),
        "declared_by": declared_by,
        "declared_at": now.isoformat(),
        "overdue": False,
    }


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

    async def start(self, *, ready: bool = True) -> None:
        self.server.config.setup_event_loop = lambda: None  # type: ignore[method-assign]
        task = self.task = asyncio.create_task(self.server.serve(), name="uvicorn")

        def started() -> bool:
            assert not task.done(), "uvicorn stopped while starting"
            return bool(self.server.started)

        await wait_until(started, within=15, every=0.02, what="uvicorn to start")
        if ready:
            await wait_ready(self.http)

    @property
    def ctx(self) -> AppContext:
        """The running application's context (what its lifespan opened), for white-box tests."""
        ctx: AppContext = self.server.lifespan.state["ctx"]
        return ctx

    @property
    def hub(self) -> Hub:
        """The live hub of the running app (its status mirror is what snapshots are made of)."""
        hub: Hub = self.server.lifespan.state["ctx"].hub
        return hub

    async def mirrored(self, seqs: dict[str, int], within: float = 5.0) -> None:
        """Until the hub mirrors at least these seqs (it got them from Redis pub/sub): a snapshot
        taken afterwards contains them."""

        def held() -> bool:
            latest = self.hub.latest
            return all(f in latest and latest[f].seq >= seq for f, seq in seqs.items())

        await wait_until(held, within=within, every=0.01, what=f"the hub to mirror {seqs}")

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is None:
            return
        done, _ = await asyncio.wait([self.task], timeout=STOP_WITHIN_S)
        if not done:  # say what the server is still waiting for, then fail
            stacks = "\n".join(
                f"{task.get_name()}: {task.get_stack(limit=3)}"
                for task in asyncio.all_tasks()
                if task is not asyncio.current_task()
            )
            self.task.cancel()
            raise AssertionError(f"uvicorn did not stop within {STOP_WITHIN_S} s; tasks:\n{stacks}")
        self.task.result()


async def wait_ready(base: str, within: float = 20.0) -> None:
    """Until /v1/readyz answers 200 (Redis, PostgreSQL and the live feed are up)."""
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as client:

        async def ready() -> bool:
            try:
                return (await client.get("/v1/readyz")).status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(ready, within=within, every=0.05, what=f"{base} to become ready")


def fast_hub(settings: Settings, **changes: Any) -> Settings:
    """These settings with short hub timers, so tests see heartbeats and reaping quickly."""
    values: dict[str, Any] = {
        "hub_slow_timeout": 2.0,
        "hub_heartbeat_interval": 1.0,
        "hub_dead_after": 5.0,
    }
    values.update({f"hub_{k}": v for k, v in changes.items()})
    return settings.model_copy(update=values)


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


async def recv(ws: ClientConnection, within: float = 5.0, skip_heartbeats: bool = True) -> Any:
    """The next ``/v1/live`` message (heartbeats skipped unless asked for)."""
    while True:
        message = orjson.loads(await asyncio.wait_for(ws.recv(), within))
        if not (skip_heartbeats and message["op"] == "heartbeat"):
            return message


async def subscribe(ws: ClientConnection, **fields: Any) -> Any:
    """Send a subscription; returns the answer (the snapshot, or an error)."""
    await ws.send(orjson.dumps({"op": "subscribe", **fields}).decode())
    return await recv(ws)


def frame_updates(data: bytes) -> list[tuple[str, int]]:
    """(facility, seq) of each ``update`` frame in one write of unmasked server frames."""
    out = []
    while data:
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4]), 4
        message = orjson.loads(data[start : start + length])
        out.append((message["facility"]["facility_id"], message["facility"]["seq"]))
        data = data[start + length :]
    return out
