"""Real history rows for the open-data tests: a week of occupancy (the simulator's history
writer), closures (the closure store's columns), cases and queue statuses (the stream worker's
history writer)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
from psycopg.types.json import Jsonb

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import write_history
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from streams.sinks.copy_rows import copy_json, event_row
from streams.sinks.postgres import HistoryWriter
from streams.sinks.spool import HistoryBatch, MergedBatch, Spool

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=PARIS)
PERSONAL = ("declared_by", "agent", "contact", "email", "phone", "text", "answer", "user")


async def write_history_rows(settings: Settings, tmp_path: Path) -> dict[str, int]:
    """A week of occupancy (the simulator's history writer), closures (the closure store's
    columns), cases and queue statuses (the stream worker's history writer)."""
    catalogue = load_catalogue()
    pools = [f for f in catalogue if f.type == "pool" and f.capacity][:3]
    town_hall = next(
        f
        for f in catalogue
        if f.type == "town_hall" and any(p.committed_days == 10 for p in f.procedures)
    )
    history = occupancy_history(pools, NOW.date() - dt.timedelta(days=7), 8, seed=7)
    await write_history(settings, history, NOW)

    async with await connect(settings) as conn:
        for i, (ended, expected) in enumerate(((True, 2), (False, 1), (True, 6))):
            start = NOW - dt.timedelta(days=3 - i, hours=1)
            await conn.execute(
                "INSERT INTO closures (closure_id, facility_id, scope, reason, message, starts_at, "
                "expected_reopening_at, ended_at, declared_by, declared_at, updated_at, sequence) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, 0)",
                (
                    f"clo-{i}",
                    pools[i].id,
                    Jsonb({"kind": "area", "name": "Bassin 50 m"} if i else {"kind": "facility"}),
                    "water_quality",
                    Jsonb({"fr": "Bassin fermé : qualité de l'eau", "en": "Pool closed"}),
                    start,
                    start + dt.timedelta(hours=expected),
                    start + dt.timedelta(hours=4) if ended else None,
                    "agent.dupont@paris.fr",
                    start - dt.timedelta(minutes=10),
                    start,
                ),
            )
        await conn.commit()

    procedure = next(p.procedure_id for p in town_hall.procedures if p.committed_days == 10)
    batch = HistoryBatch(0, {settings.topic(contract.CASES): 40})
    offset = 0
    for case in range(12):
        opened = NOW.astimezone(dt.UTC) - dt.timedelta(days=20 + case)  # elapsed, not wall-clock
        closed = opened + dt.timedelta(days=2 + case)
        for kind, at in ((EventType.CASE_OPENED, opened), (EventType.CASE_CLOSED, closed)):
            event = make_event(
                kind,
                town_hall.id,
                {"procedure_id": procedure, "case_id": f"case-{case}"},
                source=f"/cases/{town_hall.id}",
                time=at,
            )
            batch.events += event_row(event, settings.topic(contract.CASES), 0, offset)
            batch.n_events += 1
            offset += 1
    service = next(s.service_id for s in town_hall.services if s.queue)
    for seq in range(1, 7):
        at = NOW - dt.timedelta(hours=2, minutes=-10 * seq)
        status = {
            "facility_id": town_hall.id,
            "queues": [{"service_id": service, "length": seq, "wait_minutes": 3.0 * seq}],
        }
        batch.status_changes += (
            b"\t".join(
                (
                    town_hall.id.encode(),
                    str(seq).encode(),
                    at.isoformat().encode(),
                    b"open",
                    b"\\N",
                    b"\\N",
                    b"f",
                    copy_json(orjson.dumps(status)),
                )
            )
            + b"\n"
        )
        batch.n_status_changes += 1

    async def on_stored(_merged: MergedBatch) -> None:
        return None

    spool = Spool(tmp_path / "spool", memory_bytes=10**6, disk_bytes=10**6)
    writer = HistoryWriter(settings, spool, "open-data-test", on_stored)
    spool.push(batch)
    await writer.write_once()
    await writer.close()
    return {"cases": 12, "queue_samples": 6}
