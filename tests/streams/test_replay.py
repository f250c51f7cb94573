"""Replaying a full simulated day from Kafka rebuilds the live state (issue 4), on the real services.

One simulated day of the whole catalogue (the seeded pure simulator, produced through the project's
``Publisher``) is consumed by a worker while it is produced ("live"); then a second worker in a new
consumer group, with a Redis prefix and a PostgreSQL schema of its own (no snapshot, no checkpoint)
replays the same topics from offset 0. Both workers stay up and every facility's status is read
from both Redis prefixes at the same moment, then compared.

Fields left out of the comparison, and why (the machine never reads the wall clock, but the worker
passes it as ``now`` — ``streams.worker.processor.Processor`` — and some parts of the status are *about* it):

* ``seq`` and ``updated_at`` — ``seq`` counts visible changes and ``updated_at`` is the worker's
  clock at the last one. Besides the events, timers bump ``seq`` (the trend sliding over
  wall-clock minutes, staleness ending while a facility's first batch arrives, the open state),
  and how many of those fall inside the consumption depends on how fast each worker went;
* ``occupancy.trend`` — the count now against the count sampled 15 *wall-clock* minutes ago
  (``OccupancyTracker.advance``): a day consumed in seconds is sampled at different points of
  the day by two workers that run at different speeds;
* ``last_data_at``, ``occupancy.measured_at``, ``queues[].measured_at`` — "timestamps alone are
  not a change" (``streams.core.policy``): an event that only moves them bumps no ``seq``, and the
  published status is rebuilt only after a change. The JSON in Redis therefore carries them as of
  the last visible change, and which event was last to change a facility depends on how the
  worker interleaved the topics' batches (live: small batches as produced; replay: large ones)
  and on timer bumps. They are checked against the events instead: never later than the latest
  live data of the facility, in both.

Everything else must be equal: open state, hours, next change, closures (overdue included),
occupancy count / capacity / ratio / level / source / measured_at, queues (length, wait,
measured_at), appointments, processing délais, ``stale`` and ``last_data_at``. Waits, delays and
staleness depend on ``now`` too, which is why both statuses are read at the same moment.

The simulated day ends 11 minutes before the test starts: every headcount is then older than
``headcount_max_lateness`` (10 min) for *both* workers and ignored by both (the policy, see
``streams.core.policy``). A day ending nearer to now would give the live worker headcounts the
replay refuses a minute later: a truly live run (events processed as they happen) keeps its
headcount baselines, a later replay cannot — the limit of "rebuilds the same state".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from psycopg import sql

from paris_live.live import facility_key
from paris_live.settings import Settings
from producers.publisher import Publisher, PublisherOptions
from producers.simulation.config import SimulatorConfig
from producers.simulator import simulate
from schemas.catalogue import load_catalogue
from schemas.events import CloudEvent
from streams.app import APP_NAME
from streams.core.schedule import last_reset_at_or_before
from tests.streams.replay_worker import GroupWorkerProcess
from tests.streams.streams_testkit import (
    WorkerProcess,
    end_offsets,
    pg_count,
    processed_up_to,
    wait_until,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow]

SEED = 20260606
CONFIG = SimulatorConfig(seed=SEED, closures_per_open_hour=0.03)
"""The simulator's defaults, with fifteen times more exceptional closures (≈ 1 a day otherwise)
so that declared, updated, ended, overdue and still-open closures are all compared."""
WALL_CLOCK_FIELDS = ("seq", "updated_at", "last_data_at")
WALL_CLOCK_OCCUPANCY_FIELDS = ("trend", "measured_at")
LIVE_DATA = ("passage.counted", "headcount.measured", "ticket.")


@pytest.fixture
async def replay_env(db: Settings, redis_client: aioredis.Redis) -> AsyncIterator[Settings]:
    """The test's settings with another Redis prefix and another (migrated) schema: same topics."""
    from paris_live.db import connect, migrate

    tag = uuid.uuid4().hex[:10]
    replay = db.model_copy(update={"redis_prefix": f"r{tag}:", "db_schema": f"r_{tag}"})
    await migrate(replay)
    yield replay
    keys = [k async for k in redis_client.scan_iter(match=f"{replay.redis_prefix}*", count=1000)]
    if keys:
        await redis_client.delete(*keys)
    async with await connect(replay, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(replay.db_schema))
        )


def simulated_day(end: dt.datetime) -> list[CloudEvent]:
    """Every event of the whole catalogue during the 24 hours before ``end``, in time order."""
    return list(simulate(list(load_catalogue()), end - dt.timedelta(hours=24), end, CONFIG))


async def publish(settings: Settings, events: list[CloudEvent], spool: Path) -> None:
    """Publish through the producers' Publisher (acks=all, idempotent); nothing may stay spooled."""
    options = PublisherOptions(name="replay-day", spool_path=spool)
    async with Publisher(settings, options) as publisher:
        for start in range(0, len(events), 5000):
            await publisher.publish_many(events[start : start + 5000])
        assert await publisher.wait_drained(60), "events left in the spool"


async def statuses(
    client: aioredis.Redis, settings: Settings, ids: list[str]
) -> dict[str, dict[str, Any]]:
    """Every facility's live status (FacilityStatus JSON) under the settings' Redis prefix."""
    pipe = client.pipeline(transaction=False)
    for fid in ids:
        pipe.hget(facility_key(settings, fid), "json")
    raws = await pipe.execute()
    return {fid: orjson.loads(raw) for fid, raw in zip(ids, raws, strict=True) if raw is not None}


def comparable(status: dict[str, Any], *, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """The status without its wall-clock fields (and without the parts named in ``skip``)."""
    out = {k: v for k, v in status.items() if k not in WALL_CLOCK_FIELDS and k not in skip}
    if out.get("occupancy") is not None:
        occ = out["occupancy"]
        out["occupancy"] = {k: v for k, v in occ.items() if k not in WALL_CLOCK_OCCUPANCY_FIELDS}
    if "queues" in out:
        out["queues"] = [{k: v for k, v in q.items() if k != "measured_at"} for q in out["queues"]]
    return out


def latest_live_data(events: list[CloudEvent]) -> dict[str, dt.datetime]:
    """Per facility, the time of its latest passage, headcount or ticket event."""
    latest: dict[str, dt.datetime] = {}
    for event in events:
        fid = event.subject
        if any(kind in event.type for kind in LIVE_DATA) and (
            fid not in latest or event.time > latest[fid]
        ):
            latest[fid] = event.time
    return latest


def timestamps_after(shown: dict[str, dict[str, Any]], latest: dict[str, dt.datetime]) -> list[str]:
    """Facilities showing a data time later than their latest live data (there must be none)."""
    out = []
    for fid, status in shown.items():
        times = [status["last_data_at"]]
        if status["occupancy"] is not None:
            times.append(status["occupancy"]["measured_at"])
        times += [q["measured_at"] for q in status["queues"]]
        for shown_at in filter(None, times):
            if fid not in latest or dt.datetime.fromisoformat(shown_at) > latest[fid]:
                out.append(f"{fid}: {shown_at} after {latest.get(fid)}")
    return out


def reset_since(since: dt.datetime, until: dt.datetime) -> set[str]:
    """Facilities whose daily reset (end of the day's opening) fell between the two instants.

    The live worker runs that reset on a status it built from the day (count 0 from then on, the
    waiting tickets dropped, the queues still listed); a worker started after it takes that reset
    as its baseline and ignores everything before — occupancy unknown, no queue. Both are right
    for "after closing", but they differ: those facilities' occupancy and queues are not compared.
    """
    return {
        f.id
        for f in load_catalogue()
        if (reset := last_reset_at_or_before(f.hours, until)) is not None and reset > since
    }


def differences(
    live: dict[str, dict[str, Any]], replay: dict[str, dict[str, Any]], reset: set[str]
) -> list[str]:
    out = []
    for fid in sorted(set(live) | set(replay)):
        if fid not in live or fid not in replay:
            out.append(f"{fid}: only in {'live' if fid in live else 'replay'}")
            continue
        skip = ("occupancy", "queues") if fid in reset else ()
        a, b = comparable(live[fid], skip=skip), comparable(replay[fid], skip=skip)
        if a != b:
            keys = sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))
            out.append(f"{fid}: " + "; ".join(f"{k}: {a.get(k)!r} ≠ {b.get(k)!r}" for k in keys))
    return out


@pytest.mark.timeout(900)
async def test_replaying_a_simulated_day_rebuilds_the_live_state(
    kafka_topics: Settings,
    db: Settings,
    replay_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A worker replaying a simulated day of the whole catalogue from offset 0 (new group, no
    snapshot) shows every facility exactly as the worker that consumed it live, and both keep one
    history row per event."""
    live, replay = db, replay_env
    ids = sorted(load_catalogue().ids)
    end = dt.datetime.now(dt.UTC).replace(second=0, microsecond=0) - dt.timedelta(minutes=11)
    started = time.monotonic()
    events = simulated_day(end)
    distinct = len({e.id for e in events})
    print(f"simulated day: {len(events):,} events, {distinct:,} ids, {len(ids)} facilities, "
          f"{time.monotonic() - started:.1f} s to generate")  # fmt: skip

    live_started = dt.datetime.now(dt.UTC)
    workers.append(WorkerProcess(live, tmp_path))
    started = time.monotonic()
    await publish(live, events, tmp_path / "spool.sqlite3")
    ends = await end_offsets(live)
    assert sum(ends.values()) == len(events), "the topics do not hold the day"
    await wait_until(lambda: processed_up_to(live, ends), within=600, what="live worker done")
    print(f"live: produced and consumed in {time.monotonic() - started:.1f} s")
    # (a checkpoint covers the live status too: the last live flush is in Redis)
    first_capture = await statuses(redis_client, live, ids)
    # A park or cemetery has no sensor: one the simulated day sent nothing to has no live status.
    with_events = {e.subject for e in events}
    assert len(with_events) >= len(ids) // 2
    assert with_events <= set(first_capture), "facilities without a live status"

    started = time.monotonic()
    group = f"{live.topic(APP_NAME)}-replay-{uuid.uuid4().hex[:6]}"
    workers.append(GroupWorkerProcess(replay, tmp_path, group))
    await wait_until(lambda: processed_up_to(replay, ends), within=600, what="replay done")
    print(f"replay: consumed from offset 0 in {time.monotonic() - started:.1f} s")

    for attempt in range(5):  # read both while no timer changed the live one in between
        before = await statuses(redis_client, live, ids)
        replayed = await statuses(redis_client, replay, ids)
        after = await statuses(redis_client, live, ids)
        reset = reset_since(live_started, dt.datetime.now(dt.UTC))
        if not differences(before, after, reset):
            break
        await asyncio.sleep(1 + attempt)  # back off: a timer moved the live worker meanwhile
    diff = differences(before, replayed, reset)
    assert not diff, f"{len(diff)} facilities differ:\n" + "\n".join(diff[:20])
    assert set(replayed) == set(before)
    with_occupancy = sum(1 for s in replayed.values() if s["occupancy"] is not None)
    closures = sum(len(s["closures"]) for s in replayed.values())
    waiting = sum(q["length"] for s in replayed.values() for q in s["queues"])
    print(
        f"compared {len(ids)} facilities: {with_occupancy} with occupancy, {closures} closures, "
        f"{waiting} tickets waiting; occupancy/queues skipped for {len(reset)} reset meanwhile; "
        f"seq live {sum(s['seq'] for s in before.values()):,} vs "
        f"replay {sum(s['seq'] for s in replayed.values()):,}"
    )
    # At night every facility is closed and its count cleared: the comparison then rests on the
    # states, closures and sequence numbers the day's events moved.
    open_now = sum(
        1
        for s in replayed.values()
        if s["open_state"] in {"open", "closing_soon", "partially_closed"}
    )
    assert with_occupancy > 0 or open_now == 0, "open facilities but no occupancy at all"
    assert sum(s["seq"] for s in replayed.values()) > 0, "the day's events moved the states"
    latest = latest_live_data(events)
    assert timestamps_after(before, latest) == []
    assert timestamps_after(replayed, latest) == []

    for settings in (live, replay):
        assert await pg_count(settings, "SELECT count(*) FROM events") == distinct
        assert await pg_count(settings, "SELECT count(DISTINCT event_id) FROM events") == distinct
