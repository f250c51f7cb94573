"""Feedback test helpers: the API under test as one value and Kafka read back record by record.
Fixtures are in ``conftest.py``; waiting on observable state is :func:`tests.testkit.wait_until`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer

__all__ = ["SCREENSHOTS", "FeedbackApi", "read_topic"]

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
