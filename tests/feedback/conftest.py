"""Feedback test fixtures: the real API (uvicorn), PostgreSQL, Redis and Kafka, isolated per test,
the feedback job running in the test's loop, and Kafka read back record by record."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from api.app import create_app
from paris_live.settings import Settings
from streams.feedback import FeedbackJob
from tests.api.conftest import InProcessServer, fast_hub

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"


@dataclass
class FeedbackApi:
    server: InProcessServer
    http: httpx.AsyncClient
    settings: Settings

    @property
    def base(self) -> str:
        return self.server.http


@pytest.fixture
async def feedback_settings(
    settings: Settings, db: Settings, kafka_topics: Settings, tmp_path: Path
) -> Settings:
    """This test's schema, topics and key prefix; the API's spool in the test's tmp dir."""
    return fast_hub(settings).model_copy(update={"state_dir": tmp_path})


@pytest.fixture
async def feedback_api(
    feedback_settings: Settings, redis_client: Any
) -> AsyncIterator[FeedbackApi]:
    """The whole API on a free loopback port, with an HTTP client."""
    server = InProcessServer(create_app(feedback_settings), feedback_settings)
    await server.start()
    async with httpx.AsyncClient(base_url=server.http, timeout=20.0) as client:
        yield FeedbackApi(server, client, feedback_settings)
    await server.stop()


@pytest.fixture
async def feedback_job(feedback_settings: Settings) -> AsyncIterator[FeedbackJob]:
    """The feedback job consuming this test's topics in the background."""
    job = FeedbackJob(feedback_settings)
    stop = asyncio.Event()
    task = asyncio.create_task(job.run(stop), name="feedback-job")
    yield job
    stop.set()
    await asyncio.wait_for(task, timeout=20)


async def eventually(
    check: Callable[[], Awaitable[Any]], *, within: float = 20.0, every: float = 0.2
) -> Any:
    """The first truthy result of ``check``; fails after ``within`` seconds."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(every)


async def read_topic(
    settings: Settings, base: str, *, expect: int, within: float = 15.0
) -> list[tuple[str, dict[str, Any]]]:
    """Every record of a topic as (key, JSON value), once at least ``expect`` arrived (then a
    little longer, so that a record too many would be seen)."""
    consumer = AIOKafkaConsumer(
        settings.topic(base),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    records: list[tuple[str, dict[str, Any]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        settle: float | None = None
        while loop.time() < deadline and (settle is None or loop.time() < settle):
            batches = await consumer.getmany(timeout_ms=300)
            for messages in batches.values():
                records += [(m.key.decode(), orjson.loads(m.value)) for m in messages]
            if settle is None and len(records) >= expect:
                settle = loop.time() + 0.8
    finally:
        await consumer.stop()
    return records
