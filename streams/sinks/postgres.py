"""History to PostgreSQL: raw events, status changes, 1-minute rollups — plus the worker checkpoint.

Rows are encoded once, on the hot path, in COPY text format (:func:`event_row`,
:func:`status_change_row`); a flush COPYs them into session temp tables and moves them with
``INSERT … SELECT … ON CONFLICT DO NOTHING`` (rollups are upserted: the latest figures of a minute
win). The checkpoint of each partition (:mod:`streams.recovery`) is written in the same
transaction, so "these offsets are done" and "their history is stored" can never disagree.

When PostgreSQL is unreachable the writer keeps the batches in the :class:`~streams.sinks.spool.Spool`
and retries with backoff; the live status keeps flowing to Redis meanwhile.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import re
import time
from collections.abc import Awaitable, Callable

import psycopg
import structlog
from psycopg import sql

from paris_live.settings import Settings
from schemas.events import CloudEvent
from schemas.status import FacilityStatus
from streams import metrics, recovery
from streams.sinks.spool import MergedBatch, Spool

log = structlog.get_logger(__name__)

_NULL = b"\\N"
_TEMP_DDL = """
CREATE TEMP TABLE IF NOT EXISTS _events_in (
    event_id text, time timestamptz, facility_id text, type text, source text, topic text,
    kafka_partition int, kafka_offset bigint, data jsonb) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS _status_in (
    facility_id text, seq bigint, at timestamptz, open_state text, occupancy_count int,
    occupancy_ratio real, stale boolean, status jsonb) ON COMMIT DELETE ROWS;
"""
_EVENT_COLS = (
    "event_id, time, facility_id, type, source, topic, kafka_partition, kafka_offset, data"
)
_STATUS_COLS = "facility_id, seq, at, open_state, occupancy_count, occupancy_ratio, stale, status"
_UPSERT_ROLLUP = """
INSERT INTO occupancy_1m (facility_id, bucket, count_avg, count_min, count_max, count_last,
                          capacity, passages_in, passages_out, samples)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (facility_id, bucket) DO UPDATE SET
    count_avg = EXCLUDED.count_avg, count_min = EXCLUDED.count_min,
    count_max = EXCLUDED.count_max, count_last = EXCLUDED.count_last,
    capacity = EXCLUDED.capacity, passages_in = EXCLUDED.passages_in,
    passages_out = EXCLUDED.passages_out, samples = EXCLUDED.samples
"""


_needs_escape = re.compile(r"[\\\t\n\r]").search


def copy_text(value: str) -> bytes:
    """A text field in COPY text format (backslash, tab, newline and CR escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value.encode()


def copy_json(value: bytes) -> bytes:
    """A JSON document in COPY text format (JSON has no raw control characters; escape ``\\``)."""
    return value.replace(b"\\", b"\\\\")


def event_row(event: CloudEvent, topic: str, partition: int, offset: int) -> bytes:
    """One ``events`` row (the columns of ``_EVENT_COLS``), newline-terminated.

    On the hot path: one f-string, one encode. ``subject`` (a slug), ``type`` (an enum value) and
    ``topic`` never need escaping; ``id`` and ``source`` are free text and are checked.
    """
    eid = event.id
    if _needs_escape(eid):
        eid = copy_text(eid).decode()
    source = event.source
    if _needs_escape(source):
        source = copy_text(source).decode()
    data = event.data.__pydantic_serializer__.to_json(event.data)
    if b"\\" in data:
        data = data.replace(b"\\", b"\\\\")
    line = (
        f"{eid}\t{event.time.isoformat()}\t{event.subject}\t{event.type}\t{source}\t{topic}\t"
        f"{partition}\t{offset}\t"
    )
    return line.encode() + data + b"\n"


def status_change_row(status: FacilityStatus, json: bytes) -> bytes:
    """One ``status_changes`` row (the columns of ``_STATUS_COLS``), newline-terminated."""
    occ = status.occupancy
    return (
        b"\t".join(
            (
                copy_text(status.facility_id),
                str(status.seq).encode(),
                status.updated_at.isoformat().encode(),
                str(status.open_state).encode(),
                _NULL if occ is None else str(occ.count).encode(),
                _NULL if occ is None or occ.ratio is None else repr(occ.ratio).encode(),
                b"t" if status.stale else b"f",
                copy_json(json),
            )
        )
        + b"\n"
    )


class HistoryWriter:
    """Drains the spool into PostgreSQL, one transaction per merged batch, retrying while down.

    ``on_stored(batch)`` is called after each commit (the worker then commits Kafka offsets).
    """

    def __init__(
        self,
        settings: Settings,
        spool: Spool,
        group_id: str,
        on_stored: Callable[[MergedBatch], Awaitable[None]],
        *,
        database_url: str | None = None,
        max_rows: int = 50_000,
        refresh_every: float = 60.0,
    ) -> None:
        self._settings = settings
        self._url = database_url or settings.database
        self._spool = spool
        self._group = group_id
        self._on_stored = on_stored
        self._max_rows = max_rows
        self._refresh_every = refresh_every
        self._conn: psycopg.AsyncConnection | None = None
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._bucket_range: tuple[str, str] | None = None
        self._last_refresh = time.monotonic()
        self.available = True

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(self._url, connect_timeout=5)
            await conn.execute(
                sql.SQL("SET search_path TO {}, public").format(
                    sql.Identifier(self._settings.db_schema)
                )
            )
            await conn.execute(_TEMP_DDL)
            await conn.commit()
            self._conn = conn
        return self._conn

    async def run(self) -> None:
        """Write whatever the spool holds, forever; wakes on :meth:`wake` or every second."""
        backoff = 0.2
        while True:
            if not len(self._spool):
                self._idle.set()
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=1.0)
                await self._maybe_refresh()
                continue
            self._idle.clear()
            try:
                await self.write_once()
                backoff = 0.2
            except (psycopg.Error, OSError) as exc:
                # Unreachable server (the expected case) or a refused statement (a bug: logged as
                # an error). Either way the batch stays in the spool and is retried — never dropped.
                metrics.SINK_ERRORS.labels(sink="postgres").inc()
                unreachable = isinstance(
                    exc, psycopg.OperationalError | psycopg.InterfaceError | OSError
                )
                if not unreachable:
                    log.error("history_write_failed", error=str(exc), backlog=self._spool.rows)
                elif self.available:
                    log.warning("history_unavailable", error=str(exc), backlog=self._spool.rows)
                self.available = False
                await self._drop_connection()
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def write_once(self) -> MergedBatch:
        """Write the oldest merged batch and drop it from the spool."""
        merged = self._spool.merge(self._max_rows)
        started = time.perf_counter()
        conn = await self._connection()
        async with conn.transaction():
            await self._write(conn, merged)
        metrics.SINK_FLUSH.labels(sink="postgres").observe(time.perf_counter() - started)
        metrics.SINK_BATCH.labels(sink="postgres").observe(merged.rows)
        if not self.available:
            log.info("history_available", backlog=self._spool.rows)
            self.available = True
        self._spool.drop(merged.count)
        self._note_buckets(merged)
        await self._on_stored(merged)
        return merged

    async def wait_idle(self, within: float) -> bool:
        """Wait until the spool is empty and nothing is being written; False after ``within`` s."""
        self.wake()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(self._spool) or not self._idle.is_set():
            if loop.time() >= deadline:
                return False
            await asyncio.sleep(0.02)  # polled: the writer may be mid-transaction
        return True

    async def _write(self, conn: psycopg.AsyncConnection, merged: MergedBatch) -> None:
        cur = conn.cursor()
        if merged.n_events:
            async with cur.copy(f"COPY _events_in ({_EVENT_COLS}) FROM STDIN") as copy:
                await copy.write(bytes(merged.events))
            await cur.execute(
                f"INSERT INTO events ({_EVENT_COLS}) SELECT {_EVENT_COLS} FROM _events_in "
                "ON CONFLICT DO NOTHING"
            )
        if merged.n_status_changes:
            async with cur.copy(f"COPY _status_in ({_STATUS_COLS}) FROM STDIN") as copy:
                await copy.write(bytes(merged.status_changes))
            await cur.execute(
                f"INSERT INTO status_changes ({_STATUS_COLS}) SELECT {_STATUS_COLS} "
                "FROM _status_in ON CONFLICT DO NOTHING"
            )
        if merged.rollups:
            await cur.executemany(
                _UPSERT_ROLLUP,
                [
                    (
                        r.facility_id,
                        r.bucket,
                        r.count_avg,
                        r.count_min,
                        r.count_max,
                        r.count_last,
                        r.capacity,
                        r.passages_in,
                        r.passages_out,
                        r.samples,
                    )
                    for r in merged.rollups.values()
                ],
            )
        await recovery.save_checkpoints(cur, self._group, merged)

    def _note_buckets(self, merged: MergedBatch) -> None:
        for _, bucket in merged.rollups:
            lo, hi = self._bucket_range or (bucket, bucket)
            self._bucket_range = (min(lo, bucket), max(hi, bucket))

    async def _maybe_refresh(self) -> None:
        """Every ``refresh_every`` s, recompute the hour/day rollups the new minutes touch."""
        if (
            self._bucket_range is None
            or time.monotonic() - self._last_refresh < self._refresh_every
        ):
            return
        lo, hi = self._bucket_range
        try:
            conn = await self._connection()
            async with conn.transaction():
                await conn.execute(
                    "SELECT refresh_rollups(%s::timestamptz, %s::timestamptz + interval '1 minute')",
                    (lo, hi),
                )
        except (psycopg.OperationalError, psycopg.InterfaceError, OSError):
            await self._drop_connection()
            return
        except psycopg.Error as exc:  # e.g. the function is missing on an old schema
            log.warning("refresh_rollups_failed", error=str(exc))
        self._bucket_range = None
        self._last_refresh = time.monotonic()

    async def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(TimeoutError, psycopg.Error, OSError):
                await asyncio.wait_for(conn.close(), timeout=1.0)


def utc_iso(moment: dt.datetime) -> str:
    """An aware datetime as an RFC 3339 UTC string (rollup buckets)."""
    return moment.astimezone(dt.UTC).isoformat()
