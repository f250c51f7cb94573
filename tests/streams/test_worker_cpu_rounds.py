"""The fixed costs of the worker's publishing rounds (issue 18): what a round costs when it has
little or nothing to do, on the real Redis."""

from __future__ import annotations

import uuid

import orjson
import pytest
import redis.asyncio as aioredis
from redis.asyncio.client import Pipeline

from paris_live.live import changes_channel, facility_key
from paris_live.settings import Settings
from streams.sinks import redis as redis_sink
from streams.sinks.redis import LiveStatus, RedisSink


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
