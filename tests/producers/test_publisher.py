"""The publisher against the real Kafka: exactly once, keyed by facility, and the spool when the
broker is away (a stopped TCP proxy in front of it), including a producer killed with -9."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from collections import defaultdict
from pathlib import Path

import pytest

from paris_live.settings import Settings
from producers.errors import SpoolFull
from producers.publisher import Publisher, PublisherOptions
from producers.spool import Record, Spool
from schemas import topics
from schemas.events import CloudEvent, EventType, make_event
from tests.producers.producer_testkit import Consumed, ReadBack
from tests.testkit import TcpProxy

pytestmark = pytest.mark.integration

T0 = dt.datetime(2026, 6, 2, 12, 0, tzinfo=dt.UTC)
CHILD = Path(__file__).with_name("spool_child.py")


def _passages(facilities: list[str], per_facility: int) -> list[CloudEvent]:
    """Interleaved passage events, ``n`` per facility, ids ``<facility>-<n>``."""
    return [
        make_event(
            EventType.PASSAGE_COUNTED,
            facility,
            {"gate_id": "g1", "direction": "in", "count": 1 + n % 3},
            source=f"/turnstiles/{facility}/g1",
            time=T0 + dt.timedelta(seconds=n),
            id=f"{facility}-{n}",
        )
        for n in range(per_facility)
        for facility in facilities
    ]


def _by_facility(ids: list[str]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for event_id in ids:
        grouped[event_id.rsplit("-", 1)[0]].append(event_id)
    return grouped


def _assert_exactly_once_in_order(found: list[Consumed], published: list[str]) -> None:
    ids = [c.event["id"] for c in found]
    assert sorted(ids) == sorted(published), "each event exactly once"
    for consumed in found:
        assert consumed.key == consumed.event["subject"]
    # Kafka keeps order within a partition; a facility lives in one partition.
    in_kafka = _by_facility(
        [str(c.event["id"]) for c in sorted(found, key=lambda c: (c.partition, c.offset))]
    )
    assert in_kafka == _by_facility(published)


def _options(tmp_path: Path, **overrides: object) -> PublisherOptions:
    values: dict[str, object] = {
        "name": "test",
        "spool_path": tmp_path / "spool.sqlite3",
        "connect_timeout_s": 2.0,
        "reconnect_backoff_s": (0.1, 0.5),
        "delivery_timeout_s": 5.0,
    }
    values.update(overrides)
    return PublisherOptions(**values)  # type: ignore[arg-type]


async def test_published_events_appear_once_keyed_by_facility(
    kafka_topics: Settings, read_back: ReadBack, tmp_path: Path
) -> None:
    """Every published event is in its contract topic exactly once, keyed by facility id."""
    facilities = [f"piscine-{i}" for i in range(7)]
    events = _passages(facilities, 40)
    closure = make_event(
        EventType.CLOSURE_DECLARED,
        "piscine-0",
        {
            "closure_id": "c1",
            "scope": {"kind": "facility"},
            "reason": "water_quality",
            "message": {"fr": "Qualité de l'eau", "en": "Water quality"},
            "starts_at": T0,
            "declared_by": "agent-1",
        },
        source="/agents/agent-1",
        time=T0,
        id="closure-c1",
    )
    async with Publisher(kafka_topics, _options(tmp_path)) as pub:
        result = await pub.publish_many(events)
        single = await pub.publish(closure)
    assert (result.sent, result.spooled) == (len(events), 0)
    assert single.sent == 1
    found = await read_back([topics.PASSAGES], len(events), 20.0)
    _assert_exactly_once_in_order(found, [e.id for e in events])
    (closure_found,) = await read_back([topics.CLOSURES], 1, 10.0)
    assert closure_found.key == "piscine-0"
    assert closure_found.event["type"] == "fr.paris.facilities.closure.declared"


async def test_outage_spools_everything_then_drains_exactly_once_in_order(
    kafka_topics: Settings, read_back: ReadBack, kafka_proxy: TcpProxy, tmp_path: Path
) -> None:
    """Broker unreachable: every event is spooled; once reachable, all drain once, in order."""
    settings = kafka_topics.model_copy(update={"kafka_bootstrap": kafka_proxy.address})
    facilities = [f"mairie-{i}" for i in range(12)]
    events = _passages(facilities, 250)
    async with Publisher(settings, _options(tmp_path, drain_chunk=700)) as pub:
        assert not pub.kafka_up
        spooled = 0
        for start in range(0, len(events), 500):
            result = await pub.publish_many(events[start : start + 500])
            assert result.sent == 0
            spooled += result.spooled
        assert spooled == len(events) == pub.spooled
        await kafka_proxy.start()
        assert await pub.wait_drained(30.0), f"{pub.spooled} events still spooled"
        late = _passages(["mairie-late"], 5)
        after = await pub.publish_many(late)
        assert after.sent == 5  # straight to Kafka again once drained
    found = await read_back([topics.PASSAGES], len(events) + 5, 30.0)
    _assert_exactly_once_in_order(found, [e.id for e in events + late])


async def test_new_events_queue_behind_a_facility_backlog(
    kafka_topics: Settings, read_back: ReadBack, tmp_path: Path
) -> None:
    """Events of a facility with spooled events are sent after them, never before."""
    spool_path = tmp_path / "spool.sqlite3"
    old = _passages(["bibliotheque-a"], 30)
    topic = kafka_topics.topic(topics.PASSAGES)
    with Spool(spool_path) as spool:
        spool.append([Record(topic, e.subject, e.id, e.to_json()) for e in old])
    new = [
        make_event(
            EventType.PASSAGE_COUNTED,
            "bibliotheque-a",
            {"gate_id": "g2", "direction": "out", "count": 1},
            source="/turnstiles/bibliotheque-a/g2",
            time=T0,
            id=f"bibliotheque-a-new{n}",
        )
        for n in range(10)
    ]
    async with Publisher(kafka_topics, _options(tmp_path)) as pub:
        result = await pub.publish_many(new)
        assert result.spooled == 10  # behind the backlog
        assert await pub.wait_drained(20.0)
    found = await read_back([topics.PASSAGES], 40, 20.0)
    ids = [str(c.event["id"]) for c in sorted(found, key=lambda c: c.offset)]
    assert ids == [e.id for e in old] + [e.id for e in new]


async def test_full_spool_raises_instead_of_dropping(kafka_proxy: TcpProxy, tmp_path: Path) -> None:
    """With Kafka away and the spool at its bound, publish raises SpoolFull; nothing vanishes."""
    settings = Settings(
        env="test", kafka_bootstrap=kafka_proxy.address, state_dir=tmp_path, log_json=False
    )
    events = _passages(["piscine-x"], 50)
    one = len(events[0].to_json()) + 200
    async with Publisher(settings, _options(tmp_path, spool_max_bytes=one * 30)) as pub:
        accepted = 0
        with pytest.raises(SpoolFull):
            for event in events:
                await pub.publish(event)
                accepted += 1
        assert 0 < accepted < len(events)
        assert pub.spooled == accepted  # every accepted event is in the spool


async def test_kill_9_while_spooling_loses_nothing(
    kafka_topics: Settings, read_back: ReadBack, kafka_proxy: TcpProxy, tmp_path: Path
) -> None:
    """A producer killed with -9 while spooling: a restart sends every event it had accepted."""
    spool_path = tmp_path / "spool.sqlite3"
    env = {
        **os.environ,
        "PARIS_LIVE_KAFKA_BOOTSTRAP": kafka_proxy.address,  # stopped: nothing listens
        "PARIS_LIVE_TOPIC_PREFIX": kafka_topics.topic_prefix,
        "PARIS_LIVE_LOG_JSON": "false",
    }
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        str(CHILD),
        str(spool_path),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert child.stdout is not None
    accepted: list[str] = []
    try:
        async with asyncio.timeout(60):
            while len(accepted) < 3000:
                line = await child.stdout.readline()
                assert line, "the child stopped before being killed"
                accepted.append(line.decode().strip())
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    assert child.returncode == -signal.SIGKILL
    async with Publisher(kafka_topics, _options(tmp_path, spool_path=spool_path)) as pub:
        assert pub.spooled >= len(accepted)
        assert await pub.wait_drained(30.0)
    found = await read_back([topics.PASSAGES], len(accepted), 30.0)
    ids = [str(c.event["id"]) for c in found]
    assert len(ids) == len(set(ids)), "no event twice"
    assert set(accepted) <= set(ids), f"{len(set(accepted) - set(ids))} accepted events lost"
    in_kafka = _by_facility([str(c.event["id"]) for c in sorted(found, key=lambda c: c.offset)])
    for facility, order in in_kafka.items():
        assert order == sorted(order, key=lambda i: int(i.rsplit("-", 1)[1])), facility


async def test_outage_mid_run_spools_then_delivers_everything_once(
    kafka_topics: Settings, read_back: ReadBack, broker_proxy: TcpProxy, tmp_path: Path
) -> None:
    """The broker vanishes mid-run: unacknowledged events are spooled after the delivery timeout
    and later ones go straight to the spool; when it returns, every event is in Kafka exactly
    once (the producer's idempotent retries and the spool never double up), in order."""
    settings = kafka_topics.model_copy(update={"kafka_bootstrap": broker_proxy.address})
    events = _passages([f"gymnase-{i}" for i in range(4)], 75)
    async with Publisher(settings, _options(tmp_path, delivery_timeout_s=1.5)) as pub:
        before = await pub.publish_many(events[:100])
        assert before.sent == 100
        await broker_proxy.stop()
        during = await pub.publish_many(events[100:200])
        assert during.spooled == 100 and not pub.kafka_up  # unacknowledged in time: spooled
        degraded = await pub.publish_many(events[200:])
        assert degraded.spooled == 100  # straight to the spool, no waiting
        await broker_proxy.start()
        assert await pub.wait_drained(30.0), f"{pub.spooled} events still spooled"
        assert pub.stats.limbo_resolved == 100  # delivered by the producer's own retries
        after = await pub.publish_many(_passages(["gymnase-late"], 3))
        assert after.sent == 3
    found = await read_back([topics.PASSAGES], len(events) + 3, 20.0)
    _assert_exactly_once_in_order(
        found, [e.id for e in events] + [f"gymnase-late-{n}" for n in range(3)]
    )
