"""History writes to the real PostgreSQL: exact values through COPY, idempotent replays."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from streams.sinks.postgres import HistoryWriter, event_row
from streams.sinks.spool import HistoryBatch, MergedBatch, Spool

pytestmark = pytest.mark.integration


async def _rows(settings: Settings, query: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        await conn.execute(f'SET search_path TO "{settings.db_schema}", public')
        cur = await conn.execute(query.encode())
        return list(await cur.fetchall())


async def test_awkward_text_survives_copy_exactly(db: Settings, tmp_path: Path) -> None:
    """Event ids and sources with tabs, newlines, backslashes and accents are stored as sent."""
    settings = db
    event = make_event(
        EventType.PASSAGE_COUNTED,
        "piscine-pontoise",
        {"gate_id": 'porte\t"A"\\1', "direction": "in", "count": 2},
        source="/tourniquets/piscine-pontoise/entrée\nnord\\sud",
        id="id\twith\\odd\r\nchars-é",
    )
    batch = HistoryBatch(0, {settings.topic(contract.PASSAGES): 41})
    batch.events += event_row(event, settings.topic(contract.PASSAGES), 0, 41)
    batch.n_events = 1
    stored: list[MergedBatch] = []

    async def on_stored(merged: MergedBatch) -> None:
        stored.append(merged)

    spool = Spool(tmp_path / "spool", memory_bytes=10**6, disk_bytes=10**6)
    writer = HistoryWriter(settings, spool, "group-a", on_stored)
    spool.push(batch)
    await writer.write_once()
    await writer.close()

    rows = await _rows(settings, "SELECT event_id, source, data, kafka_offset, time FROM events")
    assert rows == [(event.id, event.source, event.data.model_dump(), 41, event.time)]
    assert stored and stored[0].marks == {0: {settings.topic(contract.PASSAGES): 41}}
    checkpoints = await _rows(settings, "SELECT partition, effects FROM stream_checkpoints")
    assert checkpoints == [(0, {settings.topic(contract.PASSAGES): 41})]


async def test_replayed_batch_adds_no_row(db: Settings, tmp_path: Path) -> None:
    """Writing the same history twice (a replay after a crash) leaves one row per event."""
    settings = db
    events = [
        make_event(
            EventType.PASSAGE_COUNTED,
            "piscine-pontoise",
            {"gate_id": "g", "direction": "in", "count": 1},
            source="/t",
        )
        for _ in range(100)
    ]

    async def on_stored(merged: MergedBatch) -> None:
        return None

    spool = Spool(tmp_path / "spool", memory_bytes=10**7, disk_bytes=10**7)
    writer = HistoryWriter(settings, spool, "group-b", on_stored)
    for _ in range(2):
        batch = HistoryBatch(0, {"t": 99})
        for offset, event in enumerate(events):
            batch.events += event_row(event, "t", 0, offset)
            batch.n_events += 1
        spool.push(batch)
        await writer.write_once()
    await writer.close()
    assert await _rows(settings, "SELECT count(*) FROM events") == [(100,)]
