"""Timers: the processor advances facilities at their wakeup time with no event (fake clock,
real Redis and Kafka)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.live import facility_key
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from streams import recovery
from streams.core.machine import FacilityMachine
from streams.deadletters import DeadLetters
from streams.sinks.kafka import KafkaSink
from streams.sinks.redis import RedisSink
from streams.sinks.spool import Spool
from streams.worker.machines import CoreMachines
from streams.worker.partitions import partition_for
from streams.worker.processor import Processor

pytestmark = pytest.mark.integration


class _NoHistory:
    """Stands in for the PostgreSQL writer (this test looks at live status only)."""

    def wake(self) -> None:
        return None

    async def wait_idle(self, within: float) -> bool:
        return True


async def _json(client: aioredis.Redis, settings: Settings, facility_id: str) -> bytes:
    raw = await client.hget(facility_key(settings, facility_id), "json")
    assert isinstance(raw, bytes), f"no status for {facility_id}"
    return raw


async def test_status_changes_at_wakeup_without_any_event(
    kafka_topics: Settings, redis_client: aioredis.Redis, tmp_path: Path
) -> None:
    """A facility's open state changes when its timer is due although no event arrives."""
    settings = kafka_topics
    now = dt.datetime.now(PARIS)
    facility = next(f for f in load_catalogue() if f.type == "pool")
    probe = FacilityMachine(facility)
    probe.tick(now)
    wakeup = probe.next_wakeup()
    assert wakeup is not None
    before_state = probe.status().open_state
    clock = {"now": now}

    kafka = KafkaSink(settings.kafka)
    await kafka.start()
    redis = RedisSink(settings)

    async def no_checkpoint(partition: int) -> recovery.PartitionCheckpoint:
        return recovery.PartitionCheckpoint(partition)

    async def no_commit(offsets: Any) -> None:
        return None

    processor = Processor(
        catalogue=load_catalogue(),
        partitions=settings.partitions,
        machines=CoreMachines(),
        redis=redis,
        kafka=kafka,
        dead_letters=DeadLetters(kafka, settings.topic(contract.DEAD_LETTERS)),
        status_topic=settings.topic(contract.STATUS),
        spool=Spool(tmp_path / "spool", memory_bytes=10**7, disk_bytes=10**7),
        load_checkpoint=no_checkpoint,
        commit=no_commit,
        history=_NoHistory(),
        clock=lambda: clock["now"],
    )
    try:
        partition = partition_for(facility.id, settings.partitions)
        processor.assign([partition])
        assert await processor.wait_ready(partition) is not None
        processor.tick()
        await processor.flush_live()
        stored = orjson.loads(await _json(redis_client, settings, facility.id))
        assert stored["open_state"] == before_state

        clock["now"] = wakeup + dt.timedelta(seconds=1)
        assert processor.tick() >= 1
        await processor.flush_live()
        after = orjson.loads(await _json(redis_client, settings, facility.id))
        assert after["seq"] > stored["seq"]
        visible = {"seq", "updated_at"}
        assert {k: v for k, v in after.items() if k not in visible} != {
            k: v for k, v in stored.items() if k not in visible
        }
    finally:
        await kafka.stop()
        await redis.close()
