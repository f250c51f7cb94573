"""The fixed costs of the worker's publishing rounds (issue 18): what a round costs when it has
little or nothing to do, on the real Redis."""

from __future__ import annotations

import uuid
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from paris_live.live import changes_channel, facility_key
from paris_live.settings import Settings
from schemas.catalogue import Catalogue, load_catalogue
from streams.sinks import redis as redis_sink
from streams.sinks.redis import LiveStatus, RedisSink
from streams.worker.config import WorkerConfig
from tests.streams.test_publish_window import fake_processor


def _status(fid: str, seq: int) -> LiveStatus:
    body = orjson.dumps({"facility_id": fid, "seq": seq})
    return LiveStatus(fid, seq, body, "2026-12-03T10:00:00+01:00")


async def test_a_flush_is_one_round_trip_to_redis(
    settings: Settings, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A flush sends its statuses in one pipeline: no SCRIPT EXISTS round trip before it."""
    immediate: list[tuple[object, ...]] = []
    original = Pipeline.immediate_execute_command

    async def counting(self: Pipeline, *args: object, **options: object) -> object:
        immediate.append(args)
        return await original(self, *args, **options)

    monkeypatch.setattr(Pipeline, "immediate_execute_command", counting)
    sink = RedisSink(settings, client=redis_client)
    await sink.write([_status("piscine-a", 1), _status("piscine-b", 1)])  # loads the script
    immediate.clear()
    for seq in range(2, 6):
        assert await sink.write([_status("piscine-a", seq), _status("piscine-b", seq)]) == 2
    assert immediate == []
    stored = await redis_client.hget(facility_key(settings, "piscine-a"), "seq")
    assert stored is not None and int(stored) == 5


async def test_a_server_without_the_script_still_gets_the_status(
    settings: Settings, redis_client: aioredis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that does not know the script (restarted, new primary) gets it loaded, and the
    status is stored and announced once."""
    # a variant of the script no server has seen yet: its first EVALSHA answers NOSCRIPT
    fresh = f"{redis_sink.PUT_STATUS_LUA}\n-- {uuid.uuid4().hex}\n"
    monkeypatch.setattr(redis_sink, "PUT_STATUS_LUA", fresh)
    sink = RedisSink(settings, client=redis_client)
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(changes_channel(settings))
    try:
        assert await sink.write([_status("mairie-x", 3)]) == 1
        assert await sink.write([_status("mairie-x", 3)]) == 0  # not newer: nothing announced
        messages = []
        for _ in range(3):  # the subscribe confirmation, the announcement, then nothing
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
            if message is not None:
                messages.append(orjson.loads(message["data"]))
    finally:
        await pubsub.aclose()  # type: ignore[no-untyped-call]
    assert messages == [{"facility_id": "mairie-x", "seq": 3}]
    stored = await redis_client.hget(facility_key(settings, "mairie-x"), "seq")
    assert stored is not None and int(stored) == 3


class CountingSpool:
    """Counts the history batches handed to PostgreSQL."""

    def __init__(self) -> None:
        self.batches: list[Any] = []

    async def wait_for_room(self) -> None:
        pass

    def push(self, batch: Any) -> None:
        self.batches.append(batch)

    def purge_partition(self, partition: int) -> int:
        return 0


class CountingHistory:
    def __init__(self) -> None:
        self.wakes = 0

    def wake(self) -> None:
        self.wakes += 1

    async def wait_idle(self, within: float) -> bool:
        return True


async def test_an_idle_partition_writes_no_history() -> None:
    """A partition with nothing new sends no history batch (no transaction) at each cut; new
    offsets, or a snapshot due, still do."""
    catalogue = Catalogue([f for f in load_catalogue()][:3])
    spool, history = CountingSpool(), CountingHistory()

    processor = fake_processor(
        catalogue,
        WorkerConfig(history_interval=0.0),  # every round is a cut
        spool=spool,
        history=history,
    )
    processor.assign([0])
    state = await processor.wait_ready(0)
    assert state is not None
    state.live_dirty.clear()  # (published at recovery: not this test's subject)
    for _ in range(5):
        await processor.flush_live(due_only=True)
    assert spool.batches == [] and history.wakes == 0
    state.applied["facility-passages"] = 41  # a fetched batch applied (all refused, say)
    for _ in range(5):
        await processor.flush_live(due_only=True)
    assert [b.marks for b in spool.batches] == [{"facility-passages": 41}]
    assert history.wakes == 1
    await processor.flush_live(force_snapshot=True)  # the offsets commit rides on a snapshot
    assert len(spool.batches) == 2 and spool.batches[1].snapshots is not None
