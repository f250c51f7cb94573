"""The stream worker publishes each queue's time to be served (real Kafka, Redis, PostgreSQL)."""

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
from schemas.events import EventType, make_event
from streams.core.machine import FacilityMachine
from tests.streams.streams_testkit import Record, WorkerProcess, produce, wait_until

pytestmark = pytest.mark.integration


def quiet_queue_facility(horizon_minutes: int = 20) -> tuple[str, str]:
    """A facility with a ticket queue and no timer (opening, closing, reset) in the next minutes:
    (facility id, queue service id)."""
    now = dt.datetime.now(PARIS)
    for facility in load_catalogue():
        queues = [s.service_id for s in facility.services if s.queue]
        if not queues:
            continue
        machine = FacilityMachine(facility)
        machine.tick(now)
        wakeup = machine.next_wakeup()
        if wakeup is None or wakeup > now + dt.timedelta(minutes=horizon_minutes):
            return facility.id, queues[0]
    raise AssertionError("no quiet facility with a ticket queue")


def ticket(fid: str, service: str, kind: str, ticket_id: str, at: dt.datetime) -> Record:
    event = make_event(
        EventType(f"fr.paris.facilities.ticket.{kind}"),
        fid,
        {"service_id": service, "ticket_id": ticket_id},
        source=f"/tickets/{fid}/{service}",
        time=at,
    )
    return (contract.TICKETS, fid.encode(), event.to_json())


async def queue_status(
    client: aioredis.Redis, settings: Settings, fid: str, service: str
) -> dict[str, Any] | None:
    raw = await client.hget(facility_key(settings, fid), "json")
    if raw is None:
        return None
    found = [q for q in orjson.loads(raw)["queues"] if q["service_id"] == service]
    return found[0] if found else None


async def test_status_in_redis_carries_the_time_to_be_served(
    stream_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """Tickets produced to Kafka give the queue in Redis its length, its EWMA wait and its time to
    be served (median ≤ p90, from the observed service time)."""
    settings = stream_env
    fid, service = quiet_queue_facility()
    start = dt.datetime.now(PARIS) - dt.timedelta(minutes=12)
    records = [
        ticket(fid, service, "issued", f"A{i}", start + dt.timedelta(minutes=i)) for i in range(5)
    ]
    records += [
        ticket(fid, service, "called", "A0", start + dt.timedelta(minutes=6)),
        ticket(fid, service, "served", "A0", start + dt.timedelta(minutes=10)),
    ]
    workers.append(WorkerProcess(settings, tmp_path))
    await produce(settings, records)

    async def served() -> bool:
        queue = await queue_status(redis_client, settings, fid, service)
        return bool(queue and queue["length"] == 4 and queue["served_within"] is not None)

    await wait_until(served, within=90, what="a queue of 4 with its time to be served")
    queue = await queue_status(redis_client, settings, fid, service)
    assert queue is not None
    within = queue["served_within"]
    assert within["method"] == "queue_model"
    assert 0 < within["p50_minutes"] <= within["p90_minutes"]
    assert queue["wait_minutes"] == 6.0  # the EWMA baseline: A0 waited 6 minutes
