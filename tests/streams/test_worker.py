"""The stream worker end to end, on the real Kafka, Redis and PostgreSQL (worker subprocesses)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import uuid
from collections.abc import Awaitable
from pathlib import Path

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer

from paris_live.live import changes_channel
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from tests.streams.streams_testkit import (
    Record,
    WorkerProcess,
    end_offsets,
    free_port,
    occupancy,
    passage,
    passages_keeping_positive,
    pg_count,
    processed_up_to,
    produce,
    quiet_facilities,
    seq,
    wait_until,
)
from tests.testkit import TcpProxy

pytestmark = pytest.mark.integration


async def _occupancies(
    client: aioredis.Redis, settings: Settings, ids: list[str]
) -> dict[str, int | None]:
    return {fid: await occupancy(client, settings, fid) for fid in ids}


async def test_events_reach_redis_with_a_notification(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Passages produced to Kafka show up as the facility's occupancy in Redis, announced on pub/sub,
    and counted in the worker's Prometheus metrics."""
    settings = stream_env
    fid = quiet_facilities(1)[0]
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(changes_channel(settings))
    port = free_port()
    workers.append(WorkerProcess(settings, tmp_path, metrics_port=port))
    await produce(settings, [passage(fid, "in", 3), passage(fid, "in", 2), passage(fid, "out", 1)])

    await wait_until(
        lambda: _is(occupancy(redis_client, settings, fid), 4), within=90, what="occupancy 4"
    )
    notified = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while loop.time() < deadline:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
        if message is not None:
            status = orjson.loads(message["data"])
            if status["facility_id"] == fid:
                notified.append(status)
                if (status["occupancy"] or {}).get("count") == 4:
                    break
    await pubsub.aclose()  # type: ignore[no-untyped-call]
    assert notified, "no change notification for the facility"
    assert notified[-1]["occupancy"]["count"] == 4
    assert notified[-1]["seq"] == await seq(redis_client, settings, fid)
    await wait_until(lambda: _all_stored(settings, 3), within=30, what="3 history rows")
    assert await pg_count(settings, "SELECT count(*) FROM events WHERE facility_id = %s", fid) == 3
    topic = settings.topic(contract.PASSAGES)
    scraped = {"text": ""}

    async def counted() -> bool:  # the web server starts once the worker is fully up
        async with httpx.AsyncClient() as http:
            try:
                scraped["text"] = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
            except httpx.TransportError:
                return False
        return f'paris_live_streams_events_total{{topic="{topic}"}} 3.0' in scraped["text"]

    await wait_until(counted, within=30, what="the events counter on /metrics")
    assert 'paris_live_streams_sink_flush_seconds_count{sink="postgres"}' in scraped["text"]
    assert "paris_live_streams_facilities " in scraped["text"]


async def _is(value: Awaitable[object], expected: object) -> bool:
    return bool(await value == expected)


async def _all_stored(settings: Settings, n: int) -> bool:
    return await pg_count(settings, "SELECT count(*) FROM events") >= n


async def test_duplicate_delivery_changes_nothing(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """The same events delivered twice change no seq, no occupancy and no history row count."""
    settings = stream_env
    ids = quiet_facilities(5, min_capacity=100)
    records, expected = passages_keeping_positive(ids, 300)
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, records)
    await wait_until(lambda: _all_stored(settings, 300), within=120, what="300 events stored")
    await wait_until(
        lambda: _equals(_occupancies(redis_client, settings, ids), expected), within=30
    )
    # Left as a delay (issue 14): waiting for the effects checkpoint instead once counted 197
    # status_changes rows here against 389 at the end (not understood yet, see the h14 report).
    await asyncio.sleep(1.5)  # the last live/history flush
    seqs = {fid: await seq(redis_client, settings, fid) for fid in ids}
    events_rows = await pg_count(settings, "SELECT count(*) FROM events")
    status_rows = await pg_count(settings, "SELECT count(*) FROM status_changes")

    await produce(settings, records)  # the very same events, at new offsets
    ends = await end_offsets(settings)
    await wait_until(
        lambda: processed_up_to(settings, ends), within=60, what="duplicates processed"
    )
    await asyncio.sleep(1.0)  # a window for a wrong effect of the duplicates to show

    assert {fid: await seq(redis_client, settings, fid) for fid in ids} == seqs
    assert await _occupancies(redis_client, settings, ids) == expected
    assert await pg_count(settings, "SELECT count(*) FROM events") == events_rows
    assert await pg_count(settings, "SELECT count(*) FROM status_changes") == status_rows


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return bool(await value == expected)


def _malformed(i: int, ids: list[str]) -> tuple[Record, str]:
    """A refused record of one of several kinds, and the reason the worker must give."""
    fid = ids[i % len(ids)]
    good = orjson.loads(passage(fid, "in")[2])
    kind = i % 6
    if kind == 0:
        return (contract.PASSAGES, fid.encode(), b"{not json" + str(i).encode()), "bad_json"
    if kind == 1:
        good["type"] = "fr.paris.facilities.door.opened"
        return (contract.PASSAGES, fid.encode(), orjson.dumps(good)), "unknown_type"
    if kind == 2:
        del good["data"]["count"]
        return (contract.PASSAGES, fid.encode(), orjson.dumps(good)), "missing_field"
    if kind == 3:
        good["time"] = "2025-06-14T10:00:00"
        return (contract.PASSAGES, fid.encode(), orjson.dumps(good)), "naive_time"
    if kind == 4:
        good["subject"] = "piscine-qui-n-existe-pas"
        return (
            contract.PASSAGES,
            b"piscine-qui-n-existe-pas",
            orjson.dumps(good),
        ), "unknown_facility"
    # a NUL byte in an identifier (PostgreSQL text cannot hold it)
    good["data"]["gate_id"] = f"tri\u0000pode-{i}"
    return (contract.PASSAGES, fid.encode(), orjson.dumps(good)), "invalid_value"


async def test_malformed_events_go_to_dead_letters(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """1,000 malformed among 10,000 good: every bad one is a dead letter with its reason, every
    good one is applied."""
    settings = stream_env
    ids = quiet_facilities(20, min_capacity=200)
    good, expected = passages_keeping_positive(ids, 10_000)
    bad = [_malformed(i, ids) for i in range(1_000)]
    mixed: list[Record] = []
    for i, record in enumerate(good):
        mixed.append(record)
        if i % 10 == 9:
            mixed.append(bad[i // 10][0])
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, mixed)

    consumer = AIOKafkaConsumer(
        settings.topic(contract.DEAD_LETTERS),
        bootstrap_servers=settings.kafka,
        group_id=f"dl-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    letters: dict[str, dict[str, object]] = {}
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while len(letters) < 1_000 and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for records in batches.values():
                for rec in records:
                    letter = orjson.loads(rec.value)
                    raw = dict(rec.headers)["raw"]
                    letter["raw"] = base64.b64encode(raw).decode()
                    letters[letter["payload"]] = letter
    finally:
        await consumer.stop()

    assert len(letters) == 1_000
    for (_, _, value), reason in bad:
        letter = letters[value.decode("utf-8", "replace")]
        assert letter["reason"] == reason
        assert letter["topic"] == settings.topic(contract.PASSAGES)
        assert isinstance(letter["offset"], int) and isinstance(letter["partition"], int)
        assert base64.b64decode(str(letter["raw"])) == value
    assert {
        letter["field"] for letter in letters.values() if letter["reason"] == "missing_field"
    } == {"data.count"}
    await wait_until(lambda: _all_stored(settings, 10_000), within=60, what="10,000 events")
    assert await pg_count(settings, "SELECT count(*) FROM events") == 10_000
    await wait_until(
        lambda: _equals(_occupancies(redis_client, settings, ids), expected), within=30
    )


async def _produce_slowly(settings: Settings, records: list[Record], per_second: int) -> None:
    chunk = max(1, per_second // 10)
    for start in range(0, len(records), chunk):
        await produce(settings, records[start : start + chunk])
        await asyncio.sleep(0.1)  # paces the load


@pytest.mark.slow
async def test_kill_9_mid_stream_loses_and_doubles_nothing(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """A worker killed with SIGKILL mid-stream and restarted ends with the exact occupancy and
    exactly one history row per event, no status change recorded twice."""
    settings = stream_env
    ids = quiet_facilities(30, min_capacity=250)
    records, expected = passages_keeping_positive(ids, 20_000)
    first = WorkerProcess(settings, tmp_path)
    workers.append(first)
    producing = asyncio.create_task(_produce_slowly(settings, records, 2_000))
    await wait_until(lambda: _all_stored(settings, 6_000), within=120, what="6,000 events stored")
    first.kill()
    stored_at_kill = await pg_count(settings, "SELECT count(*) FROM events")
    assert stored_at_kill < 20_000, "the kill came too late to test anything"
    await asyncio.sleep(2)  # holds the fault: no worker for 2 s while the producer goes on
    workers.append(WorkerProcess(settings, tmp_path))
    await producing
    await wait_until(lambda: _all_stored(settings, 20_000), within=180, what="20,000 events")
    await wait_until(
        lambda: _equals(_occupancies(redis_client, settings, ids), expected),
        within=30,
        what="exact occupancy",
    )
    assert await pg_count(settings, "SELECT count(*) FROM events") == 20_000
    assert (
        await pg_count(
            settings,
            "SELECT count(*) FROM (SELECT facility_id, seq FROM status_changes "
            "GROUP BY facility_id, seq HAVING count(*) > 1) d",
        )
        == 0
    )
    minutes = await pg_count(
        settings,
        "SELECT count(*) FROM (SELECT facility_id, bucket FROM occupancy_1m "
        "GROUP BY facility_id, bucket HAVING count(*) > 1) d",
    )
    assert minutes == 0


@pytest.mark.slow
async def test_history_outage_keeps_live_status_and_loses_nothing(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """With PostgreSQL unreachable for 30 s under load, Redis keeps updating; once it is back every
    history row arrives."""
    settings = stream_env
    ids = quiet_facilities(10, min_capacity=250)
    records, expected = passages_keeping_positive(ids, 15_000)
    host, port = "127.0.0.1", int(settings.database.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(host, port)
    await proxy.start()
    via_proxy = settings.database.replace(f"{host}:{port}", f"127.0.0.1:{proxy.port}")
    workers.append(WorkerProcess(settings, tmp_path, database_url=via_proxy))
    producing = asyncio.create_task(_produce_slowly(settings, records, 300))
    try:
        await wait_until(lambda: _all_stored(settings, 1_000), within=120, what="1,000 events")
        await proxy.stop()
        before = await _occupancies(redis_client, settings, ids)
        stored_before = await pg_count(settings, "SELECT count(*) FROM events")
        changed_during_outage = False
        for _ in range(30):  # holds the outage 30 s, sampling Redis every second
            await asyncio.sleep(1)
            if await _occupancies(redis_client, settings, ids) != before:
                changed_during_outage = True
        stored_during = await pg_count(settings, "SELECT count(*) FROM events")
        await proxy.start()
        assert changed_during_outage, "Redis stopped updating while PostgreSQL was down"
        assert stored_during - stored_before < 300, (
            "history kept flowing: the outage did not happen"
        )
        await producing
        await wait_until(lambda: _all_stored(settings, 15_000), within=180, what="15,000 events")
        assert await pg_count(settings, "SELECT count(*) FROM events") == 15_000
        await wait_until(
            lambda: _equals(_occupancies(redis_client, settings, ids), expected), within=30
        )
    finally:
        producing.cancel()
        await proxy.stop()


async def test_closure_event_is_live_and_recorded(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """A declared closure appears in the live status and a status change row is written for it."""
    settings = stream_env
    fid = quiet_facilities(1)[0]
    now = dt.datetime.now(dt.UTC)
    event = make_event(
        EventType.CLOSURE_DECLARED,
        fid,
        {
            "closure_id": "clo-test-1",
            "scope": {"kind": "facility"},
            "reason": "technical_failure",
            "message": {"fr": "Fermé pour panne.", "en": "Closed: breakdown."},
            "starts_at": now - dt.timedelta(minutes=1),
            "expected_reopening_at": now + dt.timedelta(hours=2),
            "declared_by": "agent-1",
        },
        source="/agents/agent-1",
    )
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, [(contract.CLOSURES, fid.encode(), event.to_json())])

    async def closed() -> bool:
        raw = await redis_client.hget(f"{settings.redis_prefix}facility:{fid}", "json")
        return raw is not None and [c["closure_id"] for c in orjson.loads(raw)["closures"]] == [
            "clo-test-1"
        ]

    await wait_until(closed, within=90, what="closure in Redis")
    await wait_until(
        lambda: _is(
            pg_count(
                settings,
                "SELECT count(*) FROM status_changes WHERE facility_id = %s "
                "AND status->'closures'->0->>'closure_id' = 'clo-test-1'",
                fid,
            ),
            1,
        ),
        within=30,
        what="status change row",
    )
