"""The API process's Kafka clients live and die with the application's lifespan: one publisher
(closures, feedback) and one consumer/admin pair (the ops sampler), connected on first use and
closed on shutdown — no task left running, no unclosed aiokafka client."""

from __future__ import annotations

import asyncio
import gc
import warnings
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.kafka import KafkaClients, KafkaClientsClosed
from paris_live.settings import Settings
from producers.errors import ProducerError
from producers.spool import Record
from tests.api.agents_testkit import cast, closure_events, declare, rows, token
from tests.api.api_testkit import InProcessServer, fast_hub

pytestmark = pytest.mark.integration


def _kafka_warnings(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if "AIOKafka" in str(w.message)]


async def test_lifespan_closes_the_publisher_and_the_admin_clients(
    settings: Settings, db: Settings, kafka_topics: Settings, redis_client: Any, tmp_path: Path
) -> None:
    """Start the app with real Kafka, publish a closure, use the admin clients, stop: the
    publisher and the admin clients are closed, their tasks are gone, nothing warns of an
    unclosed client, and the empty spool file is removed."""
    before = asyncio.all_tasks()
    configured = fast_hub(settings).model_copy(update={"state_dir": tmp_path})
    server = InProcessServer(create_app(configured), configured)
    await server.start()
    kafka = server.ctx.kafka
    pool = cast().pool_a
    async with httpx.AsyncClient(base_url=server.http, timeout=30.0) as http:
        created = await declare(http, pool.id, token(configured, "agent", pool.id))
    assert created.status_code == 201, created.text
    closure_id = created.json()["closure_id"]
    assert len(await closure_events(configured, closure_id, expect=1)) == 1
    published = "SELECT 1 FROM closure_outbox WHERE published_at IS NOT NULL"
    assert await rows(configured, published), "the outbox row was not marked published"
    publisher = await kafka.publisher()
    consumer, admin = await kafka.admin_clients()
    assert await kafka.admin_clients() == (consumer, admin), "one pair per process"
    assert await kafka.publisher() is publisher, "one publisher per process"
    assert any(await admin.list_topics())

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await server.stop()
        assert kafka.closed
        assert not publisher.kafka_up
        with pytest.raises(ProducerError):
            await publisher.publish_records([Record("closed", pool.id, "after-stop", b"{}")])
        assert consumer._closed and admin._closed
        with pytest.raises(KafkaClientsClosed):
            await kafka.publisher()
        with pytest.raises(KafkaClientsClosed):
            await kafka.admin_clients()
        del publisher, consumer, admin, kafka, server
        gc.collect()
    assert not _kafka_warnings(caught), _kafka_warnings(caught)
    left = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert not left, f"tasks left running after shutdown: {left}"
    assert not list((tmp_path / "spool").glob("api-*")), "the empty spool file was left behind"


async def test_clients_connect_on_first_use_only(settings: Settings, tmp_path: Path) -> None:
    """With Kafka unreachable, opening and closing the holder touches nothing; asking for the
    admin clients fails (and can be asked again), closing leaves no task behind."""
    away = settings.model_copy(update={"kafka_bootstrap": "127.0.0.1:9", "state_dir": tmp_path})
    before = asyncio.all_tasks()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        async with KafkaClients(away) as kafka:
            for _ in range(2):
                with pytest.raises(Exception):  # noqa: B017 - whatever aiokafka raises
                    await kafka.admin_clients()
            await kafka.reset_admin_clients()
        assert kafka.closed
        del kafka
        gc.collect()
    assert not _kafka_warnings(caught), _kafka_warnings(caught)
    assert not [t for t in asyncio.all_tasks() - before if not t.done()]
