"""Faults on a real 3-broker Kafka (issue 19): the leader broker of a busy partition killed with
SIGKILL under load, and stream workers joining and leaving under load (rebalances).

Each test checks the invariant of :mod:`tests.faults.faultkit` — the final state equals the
reference computed from the produced events, every acknowledged event is in the history once, no
live client is left stale — and, on the Kafka side, that every acknowledged event is in the topic
once (``acks=all`` + idempotent producers, replication 3, ``min.insync.replicas=2``). The figures
(recovery times included) go to ``test-artifacts/cluster/faults.json`` and are printed as a table;
times are measured, never asserted.

    .venv/bin/pytest tests/cluster -s        # ≈ 4 minutes on 2 shared cores, cluster start included
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest
import redis.asyncio as aioredis
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from api.app import create_app
from paris_live.db import search_path
from paris_live.services.kafka_cluster import KafkaCluster, PartitionLeader, describe_leaders
from paris_live.settings import Settings
from schemas import topics as contract
from streams.app import APP_NAME
from streams.worker.partitions import partition_for
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.faults.faultkit import LiveClient, Load
from tests.streams.streams_testkit import WorkerProcess, pg_count, produce, wait_until
from tests.testkit import merge_report

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "test-artifacts" / "cluster" / "faults.json"
API_PORTS = {"leader": 18840, "rebalance": 18841}


@dataclass
class ClusterFault:
    """One fault's figures: what was produced and acknowledged, what got lost or doubled, who was
    left stale, and how long the platform took to flow again."""

    fault: str
    produced: int
    acknowledged: int
    in_history: int
    lost: int
    double_counted: int
    clients: int
    clients_stale: int
    redis_stale: int
    recovery_s: float
    recovery_means: str
    extra: dict[str, Any] = field(default_factory=dict)


def report(result: ClusterFault) -> None:
    """Merge the row into ``test-artifacts/cluster/faults.json`` and print the whole table."""
    merge_report(REPORT, result.fault, asdict(result))
    rows = json.loads(REPORT.read_text(encoding="utf-8"))
    head = (
        "fault",
        "produced",
        "acked",
        "lost",
        "double",
        "stale clients",
        "stale Redis",
        "recovery s",
    )
    lines = [
        (
            name,
            str(r["produced"]),
            str(r["acknowledged"]),
            str(r["lost"]),
            str(r["double_counted"]),
            f"{r['clients_stale']}/{r['clients']}",
            str(r["redis_stale"]),
            str(r["recovery_s"]),
        )
        for name, r in rows.items()
    ]
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    for row in [head, *lines]:
        print(" | ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)))


class ClusterApi(InProcessServer):
    """The API in the test's event loop, on a port of this suite's range."""

    def __init__(self, settings: Settings, port: int) -> None:
        super().__init__(create_app(fast_hub(settings)), settings)
        self.port = port
        self.server.config.port = port


def event_id(value: bytes) -> str:
    return str(orjson.loads(value)["id"])


async def log_records(
    settings: Settings, base: str, within: float = 60.0
) -> list[tuple[int, int, bytes]]:
    """(partition, offset, value) of every record of a topic, from its first offset to its end
    (duplicates kept; tombstones left out).

    Done when the last offset read of each partition reaches its end offset (the consumer's
    ``position`` is not used: it can run ahead of the records handed out).
    """
    topic = settings.topic(base)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka, enable_auto_commit=False)
    await consumer.start()
    try:
        tps = [TopicPartition(topic, p) for p in range(settings.partitions)]
        consumer.assign(tps)
        ends = await consumer.end_offsets(tps)
        next_offset = await consumer.beginning_offsets(tps)
        await consumer.seek_to_beginning(*tps)
        records: list[tuple[int, int, bytes]] = []
        deadline = time.monotonic() + within
        while any(next_offset[tp] < ends[tp] for tp in tps):
            assert time.monotonic() < deadline, f"{topic} not read to its end in {within} s"
            batch = await consumer.getmany(timeout_ms=1000, max_records=5000)
            for tp, messages in batch.items():
                records.extend(
                    (tp.partition, m.offset, m.value) for m in messages if m.value is not None
                )
                if messages:
                    next_offset[tp] = messages[-1].offset + 1
        return records
    finally:
        await consumer.stop()


async def log_ids(settings: Settings, base: str, within: float = 60.0) -> list[str]:
    """Every event id in a topic, from its first offset to its end (duplicates kept)."""
    return [event_id(value) for _, _, value in await log_records(settings, base, within)]


async def where_lost(load: Load) -> str:
    """For a failure message: the (partition, offset) in Kafka of each produced event missing
    from the history, and the workers' checkpoints — where a handover skipped records."""
    settings = load.settings
    at = {
        event_id(value): (partition, offset)
        for partition, offset, value in await log_records(settings, contract.PASSAGES)
    }
    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        await conn.execute(search_path(settings.db_schema))
        cur = await conn.execute("SELECT event_id FROM events")
        stored = {row[0] for row in await cur.fetchall()}
        cur = await conn.execute("SELECT partition, effects, snapshot FROM stream_checkpoints")
        checkpoints = await cur.fetchall()
    missing = sorted(
        at.get(event_id(v), (-1, -1)) for _, _, v in load.records if event_id(v) not in stored
    )
    dead = Counter(
        (d.get("reason"), d.get("partition"), d.get("offset"), d.get("message", "")[:80])
        for d in (orjson.loads(v) for _, _, v in await log_records(settings, contract.DEAD_LETTERS))
    )
    return (
        f"missing from the history at (partition, offset): {missing}; "
        f"checkpoints: {checkpoints}; dead letters (reason, partition, offset, message): {dict(dead)}"
    )


async def leaders_now(settings: Settings, topic: str) -> list[PartitionLeader]:
    """The partitions' leaders, or nothing while the cluster cannot say (a node just died)."""
    try:
        return await describe_leaders(settings.kafka, [topic], attempts=1)
    except KafkaError:
        return []


async def group_coordinator(settings: Settings) -> int:
    """The broker coordinating the stream workers' consumer group."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka, request_timeout_ms=10_000)
    await admin.start()
    try:
        return int(await admin.find_coordinator(settings.topic(APP_NAME)))
    finally:
        await admin.close()


async def group_members(settings: Settings) -> tuple[str, int]:
    """(state, members) of the stream workers' consumer group, as its coordinator says."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka, request_timeout_ms=10_000)
    await admin.start()
    try:
        [response] = await admin.describe_consumer_groups([settings.topic(APP_NAME)])
        group = response.to_object()["groups"][0]
        return str(group["state"]), len(group["members"])
    finally:
        await admin.close()


async def seq_by_partition(load: Load, redis: aioredis.Redis, partitions: int) -> dict[int, int]:
    """The sum of the live ``seq`` of the load's facilities, per input partition."""
    sums = {partition_for(fid, partitions): 0 for fid in load.ids}
    for fid, (seq, _) in (await load.live(redis)).items():
        sums[partition_for(fid, partitions)] += seq
    return sums


async def every_partition_advances(
    load: Load, redis: aioredis.Redis, partitions: int, within: float
) -> None:
    """Until the live status of some facility of every partition has moved on."""
    before = await seq_by_partition(load, redis, partitions)

    async def moved() -> bool:
        now = await seq_by_partition(load, redis, partitions)
        return all(now[p] > before[p] for p in before)

    await wait_until(moved, within=within, every=0.2, what="every partition live again")


async def figures(
    load: Load, redis: aioredis.Redis, clients: Sequence[LiveClient]
) -> dict[str, int]:
    """What the invariant is about, counted: lost, doubled (Kafka log and history), stale."""
    sent = {event_id(value) for _, _, value in load.records}
    in_log = Counter(await log_ids(load.settings, contract.PASSAGES))
    in_history = await load.stored()
    doubled_history = await pg_count(
        load.settings,
        "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
        "HAVING count(*) > 1) d",
    )
    live = await load.live(redis)
    return {
        "in_history": in_history,
        "lost": len(load.records) - in_history,
        "lost_in_log": len(sent - set(in_log)),
        "doubled_in_log": sum(1 for n in in_log.values() if n > 1),
        "doubled_in_history": doubled_history,
        "clients_stale": sum(not c.view_matches(live) for c in clients),
        "redis_stale": sum(
            1 for fid, want in load.expected.items() if (live.get(fid) or (0, None))[1] != want
        ),
    }


def assert_nothing_lost_or_doubled(load: Load, seen: dict[str, int]) -> None:
    assert load.acknowledged == len(load.records), "the producer gave up on some events"
    assert seen["lost_in_log"] == 0, "an acknowledged event is missing from Kafka"
    assert seen["doubled_in_log"] == 0, "an event was written twice to Kafka"
    assert seen["lost"] == 0, "an acknowledged event is missing from the history"
    assert seen["doubled_in_history"] == 0, "an event is in the history twice"
    assert seen["redis_stale"] == 0, "a live status differs from the reference"
    assert seen["clients_stale"] == 0, "a client was left with a stale view"


async def _clients(url: str, load: Load, n: int) -> list[LiveClient]:
    clients = [LiveClient([url], [load.ids[i % len(load.ids)], load.ids[-1]]) for i in range(n)]
    for client in clients:
        client.start()
    await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in clients)), 30)
    return clients


async def produce_until(load: Load, per_second: int, stop: asyncio.Event, tail: int) -> None:
    """Send the load's records in 0.1 s chunks until ``stop`` is set, then ``tail`` more; the
    reference becomes the records sent (every prefix of the load is a valid load)."""
    chunk = max(1, per_second // 10)
    sent = 0
    stop_at: int | None = None
    while sent < len(load.records) and (stop_at is None or sent < stop_at):
        part = load.records[sent : sent + chunk]
        await produce(load.settings, part)
        sent += len(part)
        load.acknowledged = sent
        if stop_at is None and stop.is_set():
            stop_at = sent + tail
        await asyncio.sleep(0.1)
    assert stop_at is not None, f"all {len(load.records)} records sent before the faults ended"
    load.records = load.records[:sent]
    load.expected = dict.fromkeys(load.ids, 0)
    for _, key, value in load.records:
        assert key is not None
        step = 1 if orjson.loads(value)["data"]["direction"] == "in" else -1
        load.expected[key.decode()] += step


async def _stored_at_least(load: Load, n: int) -> bool:
    return await load.stored() >= n


@pytest.mark.timeout(240)
async def test_leader_broker_kill_9_under_load(
    kafka_topics: Settings,
    db: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    kafka_cluster: KafkaCluster,
    tmp_path: Path,
) -> None:
    """The broker leading the busiest passages partition killed with SIGKILL while a producer
    sends and a worker consumes: a follower takes over, nothing acknowledged is lost or doubled
    (in Kafka or in effect), and live state and clients end exactly on the reference."""
    settings = kafka_topics
    load = Load(settings, 6_000)
    passages = settings.topic(contract.PASSAGES)
    by_partition = Counter(partition_for(fid, settings.partitions) for fid in load.ids)
    busy = by_partition.most_common(1)[0][0]
    workers.append(WorkerProcess(settings, tmp_path))
    api = ClusterApi(settings, API_PORTS["leader"])
    await api.start()
    clients = await _clients(api.ws, load, 10)
    producing = asyncio.create_task(load.produce(600))
    try:
        await wait_until(lambda: _stored_at_least(load, 1_500), within=120, what="1,500 stored")

        leaders = {
            p.partition: p.leader for p in await describe_leaders(settings.kafka, [passages])
        }
        victim = kafka_cluster.node(leaders[busy])
        coordinator = await group_coordinator(settings)
        print(
            f"killing broker {victim.node_id}, leader of partition {busy}; "
            f"the workers' group coordinator is broker {coordinator}"
        )
        pid = victim.pid()
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
        killed_at = time.monotonic()
        acked_at_kill = load.acknowledged

        async def new_leader() -> bool:
            now = {p.partition: p.leader for p in await leaders_now(settings, passages)}
            return now.get(busy, -1) not in (-1, victim.node_id)

        await wait_until(new_leader, within=60, every=0.5, what="a new leader")
        elected = round(time.monotonic() - killed_at, 2)
        # events whose send began after the kill (one 0.1 s chunk later), on the busy partition
        after = [
            event_id(value)
            for _, key, value in load.records[acked_at_kill + 60 :]
            if key is not None and partition_for(key.decode(), settings.partitions) == busy
        ][:20]

        async def flowing() -> bool:
            stored = await pg_count(
                settings, "SELECT count(*) FROM events WHERE event_id = ANY(%s)", after
            )
            return stored > 0

        await wait_until(flowing, within=90, every=0.2, what="post-kill events stored")
        recovery = round(time.monotonic() - killed_at, 2)
        await asyncio.to_thread(victim.start)

        async def in_sync() -> bool:
            parts = await leaders_now(settings, passages)
            return bool(parts) and all(len(p.isr) == 3 for p in parts)

        await wait_until(in_sync, within=90, every=0.5, what="the broker back in sync")
        rejoined = round(time.monotonic() - killed_at, 2)
        await producing
        await load.settle(redis_client, clients, within=120)
        seen = await figures(load, redis_client, clients)
    finally:
        producing.cancel()
        for client in clients:
            await client.stop()
        await api.stop()
    report(
        ClusterFault(
            "leader broker kill -9 under load",
            len(load.records),
            load.acknowledged,
            seen["in_history"],
            seen["lost"],
            seen["doubled_in_log"] + seen["doubled_in_history"],
            len(clients),
            seen["clients_stale"],
            seen["redis_stale"],
            recovery,
            "SIGKILL of the partition's leader → an event sent after it is stored",
            extra={
                "killed_broker": victim.node_id,
                "group_coordinator_at_kill": coordinator,
                "partition": busy,
                "acknowledged_at_kill": acked_at_kill,
                "new_leader_elected_s": elected,
                "killed_broker_restarted_and_in_sync_s": rejoined,
                **{k: seen[k] for k in ("lost_in_log", "doubled_in_log", "doubled_in_history")},
            },
        )
    )
    assert_nothing_lost_or_doubled(load, seen)


@pytest.mark.timeout(420)
async def test_workers_join_and_leave_under_load(
    kafka_topics: Settings,
    db: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A second and a third worker join, then the first leaves, while events flow: every
    rebalance hands partitions over without losing or double-counting an event, and live state
    and clients end exactly on the reference."""
    settings = kafka_topics
    load = Load(settings, 60_000)
    workers.append(WorkerProcess(settings, tmp_path))
    api = ClusterApi(settings, API_PORTS["rebalance"])
    await api.start()
    clients = await _clients(api.ws, load, 10)
    done = asyncio.Event()
    producing = asyncio.create_task(produce_until(load, 300, done, tail=600))
    steps: dict[str, float] = {}
    acked_at: dict[str, int] = {}
    try:
        await wait_until(lambda: _stored_at_least(load, 1_000), within=120, what="1,000 stored")

        async def members_are(n: int) -> None:
            async def stable() -> bool:
                try:
                    return await group_members(settings) == ("Stable", n)
                except KafkaError:  # the coordinator is moving or not known yet
                    return False

            await wait_until(stable, within=150, every=0.5, what=f"a stable group of {n}")

        for step, change, members in (
            ("worker 2 joins", lambda: workers.append(WorkerProcess(settings, tmp_path)), 2),
            ("worker 3 joins", lambda: workers.append(WorkerProcess(settings, tmp_path)), 3),
            ("worker 1 leaves", lambda: workers[0].stop(), 2),
        ):
            acked_at[step] = load.acknowledged
            started = time.monotonic()
            await asyncio.to_thread(change)
            await members_are(members)
            await every_partition_advances(load, redis_client, settings.partitions, within=90)
            steps[step] = round(time.monotonic() - started, 2)
        done.set()
        await producing
        try:
            await load.settle(redis_client, clients, within=120)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{await where_lost(load)}") from None
        seen = await figures(load, redis_client, clients)
    finally:
        producing.cancel()
        for client in clients:
            await client.stop()
        await api.stop()
    report(
        ClusterFault(
            "workers join (2, 3) and one leaves under load",
            len(load.records),
            load.acknowledged,
            seen["in_history"],
            seen["lost"],
            seen["doubled_in_log"] + seen["doubled_in_history"],
            len(clients),
            seen["clients_stale"],
            seen["redis_stale"],
            steps["worker 1 leaves"],
            "SIGTERM of worker 1 → group stable with 2 members and every partition live again",
            extra={
                "rebalance_s": steps,
                "acknowledged_at": acked_at,
                **{k: seen[k] for k in ("lost_in_log", "doubled_in_log", "doubled_in_history")},
            },
        )
    )
    assert_nothing_lost_or_doubled(load, seen)
