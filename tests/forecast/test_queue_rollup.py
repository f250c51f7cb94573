"""The history writer rolls each queue service's wait up per minute (``queue_wait_1m``) from the
status changes it stores — real PostgreSQL, the worker's own writer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from paris_live.db import connect
from paris_live.settings import Settings
from schemas.status import FacilityStatus
from streams.sinks.copy_rows import status_change_row
from streams.sinks.postgres import HistoryWriter
from streams.sinks.spool import HistoryBatch, MergedBatch, Spool
from tests.api.api_testkit import make_status

pytestmark = pytest.mark.integration

MINUTE = datetime(2026, 6, 2, 8, 30, tzinfo=UTC)


def _status(seq: int, at: datetime, waits: dict[str, tuple[int, float | None]]) -> FacilityStatus:
    queues = [
        {"service_id": s, "length": n, "wait_minutes": w, "measured_at": at.isoformat()}
        for s, (n, w) in waits.items()
    ]
    raw = make_status("mairie-paris-centre", seq, queues=queues, appointments=[])
    status = FacilityStatus.model_validate_json(raw)
    return status.model_copy(update={"updated_at": at})


def _batch(statuses: list[FacilityStatus]) -> HistoryBatch:
    batch = HistoryBatch(0, {"t": len(statuses)})
    for status in statuses:
        batch.status_changes += status_change_row(status, status.to_json())
        batch.n_status_changes += 1
    return batch


async def _write(settings: Settings, tmp_path: Path, batches: list[HistoryBatch]) -> None:
    async def on_stored(merged: MergedBatch) -> None:
        return None

    spool = Spool(tmp_path / "spool", memory_bytes=10**7, disk_bytes=10**7)
    writer = HistoryWriter(settings, spool, "group-queues", on_stored)
    for batch in batches:
        spool.push(batch)
        await writer.write_once()
    await writer.close()


async def _minutes(settings: Settings) -> list[tuple[object, ...]]:
    async with await connect(settings) as conn:
        cur = await conn.execute(
            "SELECT service_id, bucket, wait_avg, wait_max, length_avg, length_max, samples "
            "FROM queue_wait_1m ORDER BY service_id, bucket"
        )
        return list(await cur.fetchall())


async def test_each_service_wait_is_rolled_up_per_minute(db: Settings, tmp_path: Path) -> None:
    """Two statuses in one minute and one in the next: per service, the mean and the longest
    wait of each minute with its sample count; a queue without a wait estimate yet is skipped."""
    second = MINUTE + timedelta(seconds=40)
    statuses = [
        _status(
            1, MINUTE + timedelta(seconds=5), {"civil-status": (4, 10.0), "elections": (0, None)}
        ),
        _status(2, second, {"civil-status": (6, 14.0), "elections": (1, 2.0)}),
        _status(3, MINUTE + timedelta(minutes=1, seconds=2), {"civil-status": (2, 5.0)}),
    ]
    await _write(db, tmp_path, [_batch(statuses)])
    assert await _minutes(db) == [
        ("civil-status", MINUTE, 12.0, 14.0, 5.0, 6, 2),
        ("civil-status", MINUTE + timedelta(minutes=1), 5.0, 5.0, 2.0, 2, 1),
        ("elections", MINUTE, 2.0, 2.0, 1.0, 1, 1),
    ]


async def test_a_replayed_batch_counts_each_status_once(db: Settings, tmp_path: Path) -> None:
    """The same statuses written again (a replay after a crash), then a new status of the same
    minute in a later batch: the minute's mean weighs each status once."""
    first = [_status(1, MINUTE, {"reception": (3, 9.0)})]
    later = [_status(2, MINUTE + timedelta(seconds=30), {"reception": (1, 3.0)})]
    await _write(db, tmp_path, [_batch(first), _batch(first), _batch(later)])
    assert await _minutes(db) == [("reception", MINUTE, 6.0, 9.0, 2.0, 3, 2)]
