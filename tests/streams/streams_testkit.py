"""Helpers of the stream worker tests: worker subprocesses, producing events, reading results."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import psycopg
import redis.asyncio as aioredis
from aiokafka import AIOKafkaProducer

from paris_live.db import search_path
from paris_live.live import facility_key
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from streams.core.machine import FacilityMachine
from tests.testkit import free_port as free_port  # re-exported for the stream tests' callers
from tests.testkit import wait_until as wait_until

ROOT = Path(__file__).resolve().parents[2]

Record = tuple[str, bytes | None, bytes]
"""(base topic, key, value)."""


class WorkerProcess:
    """``python -m streams.cli worker`` for a test's settings, logs in a file."""

    def __init__(
        self,
        settings: Settings,
        log_dir: Path,
        *,
        database_url: str | None = None,
        metrics_port: int | None = None,
    ) -> None:
        self.settings = settings
        self.log_path = log_dir / f"worker-{uuid.uuid4().hex[:6]}.log"
        env = dict(os.environ)
        env.update(
            PARIS_LIVE_ENV="test",
            PARIS_LIVE_KAFKA_BOOTSTRAP=settings.kafka,
            PARIS_LIVE_REDIS_URL=settings.redis,
            PARIS_LIVE_DATABASE_URL=database_url or settings.database,
            PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix,
            PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
            PARIS_LIVE_DB_SCHEMA=settings.db_schema,
            PARIS_LIVE_PARTITIONS=str(settings.partitions),
            PARIS_LIVE_STATE_DIR=str(log_dir / "state"),
            PARIS_LIVE_LOG_JSON="false",
            PARIS_LIVE_LOG_LEVEL="info",
            PYTHONUNBUFFERED="1",  # the log is read while it runs and after a kill -9
        )
        self._log = self.log_path.open("wb")
        args = ["worker", "--no-prepare", "--loglevel", "warning"]
        if metrics_port is not None:
            args += ["--metrics-port", str(metrics_port)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streams.cli", *args],
            cwd=ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no flush, no commit, nothing graceful."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)
        self._log.close()

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])


async def produce(settings: Settings, records: Sequence[Record]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka, linger_ms=5, enable_idempotence=True
    )
    await producer.start()
    try:
        futures = [
            await producer.send(settings.topic(base), value, key=key)
            for base, key, value in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def quiet_facilities(n: int, *, min_capacity: int = 1, horizon_minutes: int = 20) -> list[str]:
    """Facilities with a capacity and no timer (opening, closing, daily reset) in the next minutes,
    so that only the test's events change their status while it runs."""
    now = dt.datetime.now(PARIS)
    horizon = now + dt.timedelta(minutes=horizon_minutes)
    chosen = []
    for facility in sorted(load_catalogue(), key=lambda f: -(f.capacity or 0)):
        if (facility.capacity or 0) < min_capacity:
            continue
        machine = FacilityMachine(facility)
        machine.tick(now)
        wakeup = machine.next_wakeup()
        if wakeup is None or wakeup > horizon:
            chosen.append(facility.id)
        if len(chosen) == n:
            return chosen
    raise AssertionError(f"only {len(chosen)} quiet facilities with capacity ≥ {min_capacity}")


def passage(
    facility_id: str, direction: str, count: int = 1, *, event_id: str | None = None
) -> Record:
    event = make_event(
        EventType.PASSAGE_COUNTED,
        facility_id,
        {"gate_id": "tripode-1", "direction": direction, "count": count},
        source=f"/turnstiles/{facility_id}/tripode-1",
        id=event_id,
    )
    return (contract.PASSAGES, facility_id.encode(), event.to_json())


def passages_keeping_positive(
    facilities: Sequence[str], n: int
) -> tuple[list[Record], dict[str, int]]:
    """``n`` passages round-robin over ``facilities``: in, in, out, … so no count ever goes below
    zero (no clamping); returns the records and the exact expected occupancy per facility."""
    records: list[Record] = []
    expected = dict.fromkeys(facilities, 0)
    for i in range(n):
        fid = facilities[i % len(facilities)]
        direction = "out" if (i // len(facilities)) % 3 == 2 else "in"
        records.append(passage(fid, direction))
        expected[fid] += 1 if direction == "in" else -1
    return records, expected


async def occupancy(client: aioredis.Redis, settings: Settings, facility_id: str) -> int | None:
    raw = await client.hget(facility_key(settings, facility_id), "json")
    if raw is None:
        return None
    occ = orjson.loads(raw)["occupancy"]
    return None if occ is None else int(occ["count"])


async def seq(client: aioredis.Redis, settings: Settings, facility_id: str) -> int | None:
    raw = await client.hget(facility_key(settings, facility_id), "seq")
    return None if raw is None else int(raw)


async def pg_count(settings: Settings, query: str, *args: Any) -> int:
    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        await conn.execute(search_path(settings.db_schema))
        cur = await conn.execute(query.encode(), args)
        row = await cur.fetchone()
    return int(row[0]) if row else 0


async def end_offsets(settings: Settings) -> dict[tuple[str, int], int]:
    """The next offset of every input topic-partition that holds records."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka)
    await consumer.start()
    try:
        tps = [
            TopicPartition(settings.topic(t), p)
            for t in contract.INPUT_TOPICS
            for p in range(settings.partitions)
        ]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {(tp.topic, tp.partition): end for tp, end in ends.items() if end}


async def processed_up_to(settings: Settings, ends: dict[tuple[str, int], int]) -> bool:
    """Whether the worker stored the effects of every record before ``ends`` (its checkpoints)."""
    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        await conn.execute(search_path(settings.db_schema))
        cur = await conn.execute("SELECT partition, effects FROM stream_checkpoints")
        done = {(t, p): int(o) for p, effects in await cur.fetchall() for t, o in effects.items()}
    return all(done.get(tp, -1) >= end - 1 for tp, end in ends.items())


async def read_dead_letters(
    settings: Settings, *, want: int, within: float = 60.0
) -> list[dict[str, Any]]:
    """The dead letters of this test's topic (JSON, with ``_headers``), once ``want`` arrived or
    ``within`` seconds passed — then a little longer, so that one too many would be seen."""
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(
        settings.topic(contract.DEAD_LETTERS),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        fetch_max_bytes=16 * 1024 * 1024,
        max_partition_fetch_bytes=8 * 1024 * 1024,
    )
    await consumer.start()
    letters: list[dict[str, Any]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        settle: float | None = None
        while loop.time() < deadline and (settle is None or loop.time() < settle):
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for rec in records:
                    letter = orjson.loads(rec.value)
                    letter["_headers"] = dict(rec.headers)
                    letter["_size"] = len(rec.value) + sum(len(v) for _, v in rec.headers)
                    letters.append(letter)
            if settle is None and len(letters) >= want:
                settle = loop.time() + 0.5
    finally:
        await consumer.stop()
    return letters


async def produce_at(
    settings: Settings,
    base: str,
    key: bytes | None,
    value: bytes,
    *,
    partition: int | None = None,
    max_request_size: int = 2 * 1024 * 1024,
) -> tuple[int, int]:
    """One record (to ``partition`` when given, as a non-murmur2 client would); its
    (partition, offset) once acknowledged."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka, max_request_size=max_request_size, acks="all"
    )
    await producer.start()
    try:
        meta = await producer.send_and_wait(
            settings.topic(base), value, key=key, partition=partition
        )
    finally:
        await producer.stop()
    return meta.partition, meta.offset


async def committed_offsets(settings: Settings, group_id: str) -> dict[tuple[str, int], int]:
    """The offsets a consumer group committed (next offset to read), per topic-partition."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return {(tp.topic, tp.partition): meta.offset for tp, meta in offsets.items()}


async def committed_past(
    settings: Settings, group_id: str, topic: str, partition: int, offset: int
) -> bool:
    """Whether ``group_id`` committed past ``offset`` of a partition of a (base) topic."""
    done = await committed_offsets(settings, group_id)
    return done.get((settings.topic(topic), partition), -1) > offset
