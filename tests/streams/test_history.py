"""History writes to the real PostgreSQL: exact values through COPY, idempotent replays."""

from __future__ import annotations

from pathlib import Path

import orjson
import psycopg
import pytest

from paris_live.db import search_path
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.events import EventType, make_event
from streams.deadletters import DeadLetters
from streams.sinks.copy_rows import event_row
from streams.sinks.kafka import KafkaSink
from streams.sinks.postgres import HistoryWriter
from streams.sinks.spool import HistoryBatch, MergedBatch, Spool
from tests.streams.streams_testkit import read_dead_letters

pytestmark = pytest.mark.integration


async def _rows(settings: Settings, query: str) -> list[tuple[object, ...]]:
    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        await conn.execute(search_path(settings.db_schema))
        cur = await conn.execute(query.encode())
        return list(await cur.fetchall())


async def test_awkward_text_survives_copy_exactly(db: Settings, tmp_path: Path) -> None:
    """Event ids and sources with tabs, newlines, backslashes and accents are stored as sent
    (the contract now refuses control characters: the rows are built past validation)."""
    settings = db
    valid = make_event(
        EventType.PASSAGE_COUNTED,
        "piscine-pontoise",
        {"gate_id": 'porte "A"\\1', "direction": "in", "count": 2},
        source="/tourniquets/piscine-pontoise/entrée-nord\\sud",
    )
    event = valid.model_copy(
        update={
            "id": "id\twith\\odd\r\nchars-é",
            "source": "/tourniquets/piscine-pontoise/entrée\nnord\\sud",
            "data": valid.data.model_copy(update={"gate_id": 'porte\t"A"\\1'}),
        }
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


async def test_a_row_postgresql_refuses_is_dead_lettered_and_the_rest_is_written(
    db: Settings, kafka_topics: Settings, tmp_path: Path
) -> None:
    """A NUL PostgreSQL cannot hold, among 19 good rows (built past validation): the good rows and
    the checkpoint are stored, the refused row is a permanent_error dead letter with its source
    offset, and a second write of the same batch sends no second dead letter."""
    settings = db
    topic = settings.topic(contract.PASSAGES)
    events = [
        make_event(
            EventType.PASSAGE_COUNTED,
            "piscine-pontoise",
            {"gate_id": f"g{i}", "direction": "in", "count": 1},
            source="/t",
        )
        for i in range(20)
    ]
    poison = events[7].model_copy(
        update={"data": events[7].data.model_copy(update={"gate_id": "tri\u0000pode"})}
    )
    events[7] = poison
    stored: list[MergedBatch] = []

    async def on_stored(merged: MergedBatch) -> None:
        stored.append(merged)

    sink = KafkaSink(settings.kafka)
    await sink.start()
    spool = Spool(tmp_path / "spool", memory_bytes=10**7, disk_bytes=10**7)
    dead = DeadLetters(sink, settings.topic(contract.DEAD_LETTERS))
    writer = HistoryWriter(settings, spool, "group-c", on_stored, effects=sink, dead_letters=dead)
    try:
        for _ in range(2):  # the second time: a replay of the same batch
            batch = HistoryBatch(2, {topic: 119})
            for offset, event in enumerate(events, start=100):
                batch.events += event_row(event, topic, 2, offset)
                batch.n_events += 1
            spool.push(batch)
            await writer.write_once()
    finally:
        await writer.close()
        await sink.stop()

    assert await _rows(settings, "SELECT count(*) FROM events") == [(19,)]
    assert await _rows(settings, f"SELECT count(*) FROM events WHERE event_id = '{poison.id}'") == [
        (0,)
    ]
    checkpoints = await _rows(settings, "SELECT partition, effects FROM stream_checkpoints")
    assert checkpoints == [(2, {topic: 119})]
    assert len(stored) == 2 and writer.refused_rows == 2
    letters = await read_dead_letters(settings, want=1, within=30)
    assert len(letters) == 1, letters
    letter = letters[0]
    assert letter["reason"] == "permanent_error"
    assert (letter["topic"], letter["partition"], letter["offset"]) == (topic, 2, 107)
    assert "PostgreSQL" in letter["message"] and "22P05" in letter["message"]
    assert orjson.loads(letter["payload"])["id"] == poison.id
