"""Kafka stopped for 60 s under the simulator at 1,000 events/s (issue 6), on a real broker.

The shared development broker is never touched: the test starts a Kafka 4.1.1 of its own
(:class:`paris_live.services.kafka.KafkaService`, free 127.0.0.1 ports, storage in ``tmp_path`` so
a restart keeps the log and the idempotent producers' state), runs the simulator through the
producers' :class:`~producers.publisher.Publisher` at 1,000 events/s, stops the broker process
(SIGTERM) for 60 s in the middle, starts it again, then reads every input topic back to its end.

The ids expected are those of the pure simulator: the same facilities, start and seed give the same
events in the same order, and a run paced by rate publishes exactly the first ``events`` of them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import socket
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from paris_live.kafka_admin import ensure_topics
from paris_live.services.kafka import KafkaService
from paris_live.settings import Settings
from producers.publisher import Publisher, PublisherOptions
from producers.runner import Pacing, run_simulation
from producers.simulation.config import SimulatorConfig
from producers.simulator import Simulation
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from streams.worker.partitions import partition_for

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RATE = 1_000
BEFORE_S = 15.0
OUTAGE_S = 60.0
RUN_S = 110.0
"""15 s up, 60 s down (stop → start called), the rest up again: ≈ 100 s around the outage."""
START = dt.datetime(2026, 6, 6, 9, 0, tzinfo=PARIS)  # a Saturday morning: pools, town halls
CONFIG = SimulatorConfig(seed=606)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def expected_ids(count: int) -> list[str]:
    """The ids of the first ``count`` events of the simulation, in production order."""
    simulation = Simulation(list(load_catalogue()), START, CONFIG)
    ids: list[str] = []
    while len(ids) < count:
        ids.extend(event.id for event in simulation.step())
    return ids[:count]


async def read_all(settings: Settings) -> list[tuple[str, int, int, str, str]]:
    """Every record of the input topics, up to their end: (topic, partition, offset, key, id)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    found: list[tuple[str, int, int, str, str]] = []
    try:
        tps = [
            TopicPartition(settings.topic(base), p)
            for base in contract.INPUT_TOPICS
            for p in range(settings.partitions)
        ]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        pending = {tp for tp, end in ends.items() if end > 0}
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 120
        while pending and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=500, max_records=20_000)
            for tp, records in batches.items():
                for r in records:
                    event_id = orjson.loads(r.value)["id"]
                    found.append((r.topic, r.partition, r.offset, r.key.decode(), event_id))
                if await consumer.position(tp) >= ends[tp]:
                    pending.discard(tp)
        assert not pending, f"could not read {len(pending)} partitions to their end"
    finally:
        await consumer.stop()
    return found


@pytest.mark.timeout(480)
async def test_broker_outage_of_60_s_loses_and_doubles_nothing(tmp_path: Path) -> None:
    """With Kafka stopped for 60 s while the simulator publishes 1,000 events/s, every event id
    produced is in the topics exactly once afterwards, and each facility's events keep their
    production order in every topic."""
    broker = KafkaService(tmp_path, _free_port(), _free_port(), partitions=4)
    await asyncio.to_thread(broker.start)
    try:
        tag = uuid.uuid4().hex[:8]
        settings = Settings(env="test", log_json=False).model_copy(
            update={
                "kafka_bootstrap": broker.address,
                "topic_prefix": f"o{tag}.",
                "partitions": 4,
                "state_dir": tmp_path / "state",
            }
        )
        await ensure_topics(settings)
        simulation = Simulation(list(load_catalogue()), START, CONFIG)
        options = PublisherOptions(name="outage", spool_path=tmp_path / "spool.sqlite3")
        figures: dict[str, float] = {}
        async with Publisher(settings, options) as publisher:
            running = asyncio.create_task(
                run_simulation(
                    simulation, publisher, Pacing(rate=RATE, duration_s=RUN_S), progress=False
                )
            )
            await asyncio.sleep(BEFORE_S)
            assert not running.done(), "the simulation stopped before the outage"
            await asyncio.to_thread(broker.stop)
            stopped = time.monotonic()
            await asyncio.sleep(OUTAGE_S)
            assert publisher.spooled > 0, "nothing was spooled: the outage did not happen"
            await asyncio.to_thread(broker.start)
            back = time.monotonic()
            figures["outage_s"] = back - stopped
            figures["spool_at_restart"] = publisher.spooled
            while publisher.spooled or not publisher.kafka_up:
                assert time.monotonic() - back < 120, "the spool did not drain within 120 s"
                await asyncio.sleep(0.05)
            figures["drain_s"] = time.monotonic() - back
            stats = await running
            assert await publisher.wait_drained(60), "events left in the spool at the end"
            rejected = publisher.stats.rejected
        produced = stats.events
        assert produced >= RATE * RUN_S * 0.9, f"only {produced} events in {RUN_S} s"

        delivered = await read_all(settings)
        ids = expected_ids(produced)
        counts = Counter(event_id for *_, event_id in delivered)
        duplicates = sum(n - 1 for n in counts.values() if n > 1)
        lost = [event_id for event_id in ids if event_id not in counts]
        unexpected = set(counts) - set(ids)
        print(
            f"produced {produced:,} (sent {stats.sent:,}, spooled {stats.spooled:,}), "
            f"delivered {len(delivered):,}, duplicates {duplicates}, lost {len(lost)}, "
            f"unexpected {len(unexpected)}, set aside as rejected {rejected:,}; outage {figures['outage_s']:.1f} s, "
            f"{figures['spool_at_restart']:,.0f} spooled at restart, spool empty "
            f"{figures['drain_s']:.1f} s after the broker was back"
        )
        assert stats.spooled >= RATE * OUTAGE_S * 0.5, "the outage hardly spooled anything"
        assert duplicates == 0
        assert not lost, f"{len(lost):,} events lost ({rejected:,} in the spool's rejected table)"
        assert unexpected == set()
        assert len(delivered) == produced

        position = {event_id: i for i, event_id in enumerate(ids)}
        order: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
        for topic, partition, offset, key, event_id in delivered:
            assert partition == partition_for(key, settings.partitions)
            order[(topic, key)].append((offset, position[event_id]))
        out_of_order = [
            stream
            for stream, seen in order.items()
            if [p for _, p in sorted(seen)] != sorted(p for _, p in seen)
        ]
        assert out_of_order == [], f"{len(out_of_order)} facility streams out of order"
    finally:
        await asyncio.to_thread(broker.stop)
