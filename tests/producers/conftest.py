"""Fixtures of the producer tests: a consumer that reads a test's topics back, and a TCP proxy
on 127.0.0.1 that can be started and stopped in front of the shared broker (an outage without
touching the broker)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence

import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from paris_live.settings import Settings
from tests.producers.producer_testkit import Consumed, ReadBack
from tests.testkit import TcpProxy


@pytest.fixture
def read_back(kafka_topics: Settings) -> ReadBack:
    """Read (topic, partition) in offset order until ``count`` records arrived or ``wait_s``."""

    async def read(
        bases: Sequence[str], count: int, wait_s: float, where: Settings | None = None
    ) -> list[Consumed]:
        where = where or kafka_topics
        topics = [where.topic(base) for base in bases]
        consumer = AIOKafkaConsumer(
            *topics,
            bootstrap_servers=where.kafka,
            group_id=f"read-back-{uuid.uuid4().hex[:8]}",
            auto_offset_reset="earliest",
            enable_auto_commit=False,
            isolation_level="read_committed",
        )
        await consumer.start()
        found: list[Consumed] = []
        try:
            loop = asyncio.get_running_loop()
            end = loop.time() + wait_s
            while len(found) < count and loop.time() < end:
                batches = await consumer.getmany(timeout_ms=200, max_records=10_000)
                for records in batches.values():
                    found.extend(
                        Consumed(
                            r.topic, r.partition, r.offset, r.key.decode(), orjson.loads(r.value)
                        )
                        for r in records
                    )
            # a little longer, to see duplicates that would arrive after the expected count
            extra = await consumer.getmany(timeout_ms=500, max_records=10_000)
            for records in extra.values():
                found.extend(
                    Consumed(r.topic, r.partition, r.offset, r.key.decode(), orjson.loads(r.value))
                    for r in records
                )
        finally:
            await consumer.stop()
        return found

    return read


@pytest.fixture
async def kafka_proxy(kafka_topics: Settings) -> AsyncIterator[TcpProxy]:
    """A stopped proxy in front of the shared broker (start it to "bring Kafka back")."""
    host, port = kafka_topics.kafka.split(",")[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port))
    yield proxy
    await proxy.stop()


@pytest.fixture
async def broker_proxy(kafka_topics: Settings) -> AsyncIterator[TcpProxy]:
    """A started proxy every connection to the broker goes through (stop it for an outage)."""
    host, port = kafka_topics.kafka.split(",")[0].rsplit(":", 1)
    proxy = TcpProxy(host, int(port), advertise_proxy=True)
    await proxy.start()
    yield proxy
    await proxy.stop()
