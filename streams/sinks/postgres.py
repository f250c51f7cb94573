"""History to PostgreSQL: raw events, status changes, 1-minute rollups — plus the worker checkpoint.

Two kinds of 1-minute rollups: occupancy (``occupancy_1m``, from the machines' minute figures)
and the wait of each queue service (``queue_wait_1m``, sampled from the status changes stored:
each new ``status_changes`` row is one sample of every queue it shows, see
:data:`_INSERT_STATUS_AND_QUEUE_WAITS`) — what the crowding forecast learns from.

Rows are encoded once, on the hot path, in COPY text format (:mod:`streams.sinks.copy_rows`); a flush COPYs them into session temp tables and moves them with
``INSERT … SELECT … ON CONFLICT DO NOTHING`` (rollups are upserted: the latest figures of a minute
win). The checkpoint of each partition (:mod:`streams.recovery`) is written in the same
transaction, so "these offsets are done" and "their history is stored" can never disagree.

When PostgreSQL is unreachable the writer keeps the batches in the :class:`~streams.sinks.spool.Spool`
and retries with backoff; the live status keeps flowing to Redis meanwhile.

When PostgreSQL refuses a batch *for good* — a :data:`PERMANENT_ERRORS` error (``DataError``:
a value it cannot hold; ``IntegrityError``: a constraint — expected conflicts are
``ON CONFLICT DO NOTHING`` and never raise) — retrying it would freeze every partition's
checkpoint. The writer then isolates the rows at fault by bisection inside one transaction (each
half in a savepoint; ``k`` bad rows among ``n`` cost ``O(k log n)`` statements), writes the
others, sends each refused event to ``dead-letters`` (``reason: permanent_error``, the database
message, the source topic, partition and offset), waits until Kafka acknowledged them, and only
then commits the batch and its checkpoint: the offsets keep moving and nothing acknowledged is
lost. Other errors (connection lost, ``OperationalError``, a missing table) are retried as before.

Before writing a batch the writer also waits until the dead letters and forwards of its records
are acknowledged (``effects_seq``, :class:`~streams.sinks.kafka.KafkaSink`): the checkpoint says
"the effects of these offsets are stored", and after it the offsets are committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Protocol

import psycopg
import structlog

from paris_live.db import search_path
from paris_live.settings import Settings
from schemas.errors import InvalidEvent, Reason
from streams import metrics, recovery
from streams.sinks.copy_rows import EVENT_COLS, STATUS_COLS, event_document, event_fields, rows_of
from streams.sinks.spool import MergedBatch, Spool

if TYPE_CHECKING:
    from streams.deadletters import DeadLetters

log = structlog.get_logger(__name__)

_TEMP_DDL = """
CREATE TEMP TABLE IF NOT EXISTS _events_in (
    event_id text, time timestamptz, facility_id text, type text, source text, topic text,
    kafka_partition int, kafka_offset bigint, data jsonb) ON COMMIT DELETE ROWS;
CREATE TEMP TABLE IF NOT EXISTS _status_in (
    facility_id text, seq bigint, at timestamptz, open_state text, occupancy_count int,
    occupancy_ratio real, stale boolean, status jsonb) ON COMMIT DELETE ROWS;
"""
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

_INSERT_STATUS_AND_QUEUE_WAITS = f"""
WITH stored AS (
    INSERT INTO status_changes ({STATUS_COLS}) SELECT {STATUS_COLS} FROM _status_in
    ON CONFLICT DO NOTHING RETURNING facility_id, at, status
), samples AS (
    SELECT stored.facility_id, q->>'service_id' AS service_id,
           date_trunc('minute', stored.at) AS bucket,
           (q->>'wait_minutes')::real AS wait, (q->>'length')::int AS length
    FROM stored, jsonb_array_elements(coalesce(stored.status->'queues', '[]'::jsonb)) AS q
    WHERE q->>'wait_minutes' IS NOT NULL AND q->>'service_id' IS NOT NULL
)
INSERT INTO queue_wait_1m (facility_id, service_id, bucket, wait_avg, wait_max, length_avg,
                           length_max, samples)
SELECT facility_id, service_id, bucket, avg(wait), max(wait), avg(length), max(length), count(*)
FROM samples GROUP BY facility_id, service_id, bucket
ON CONFLICT (facility_id, service_id, bucket) DO UPDATE SET
    wait_avg = (queue_wait_1m.wait_avg * queue_wait_1m.samples
                + EXCLUDED.wait_avg * EXCLUDED.samples)
               / (queue_wait_1m.samples + EXCLUDED.samples),
    wait_max = greatest(queue_wait_1m.wait_max, EXCLUDED.wait_max),
    length_avg = (queue_wait_1m.length_avg * queue_wait_1m.samples
                  + EXCLUDED.length_avg * EXCLUDED.samples)
                 / (queue_wait_1m.samples + EXCLUDED.samples),
    length_max = greatest(queue_wait_1m.length_max, EXCLUDED.length_max),
    samples = queue_wait_1m.samples + EXCLUDED.samples
"""
"""Status changes, and the per-service queue-wait minutes they sample, in one statement: only
the rows new to ``status_changes`` (``RETURNING`` after ``ON CONFLICT DO NOTHING``) feed
``queue_wait_1m``, so a batch written again after a crash counts each status once — the
minute's mean wait is merged, weighted by samples, with what earlier batches stored for it."""


PERMANENT_ERRORS: tuple[type[psycopg.Error], ...] = (psycopg.DataError, psycopg.IntegrityError)
"""Errors a row causes by itself (SQLSTATE classes 22 and 23): retrying the same row fails again.
Everything else (connection lost, server shutting down, a missing table) is worth a retry."""
EFFECTS_WAIT_S = 10.0
"""How long one write attempt waits for the dead letters and forwards of its batch."""


class EffectsPending(Exception):
    """The dead letters / forwards of a batch are not acknowledged yet (Kafka away): retry."""


class EffectsGate(Protocol):
    """What the writer needs of :class:`streams.sinks.kafka.KafkaSink`."""

    async def wait_settled(self, seq: int, within: float) -> bool: ...


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
        effects: EffectsGate | None = None,
        dead_letters: DeadLetters | None = None,
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
        self._effects = effects
        self._dead = dead_letters
        self._parked: dict[tuple[str, int, int], int] = {}
        """Refused events already dead-lettered (source topic, partition, offset → sink seq): a
        retried batch does not send them twice."""
        self.available = True
        self.refused_rows = 0

    def wake(self) -> None:
        self._wake.set()

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def _connection(self) -> psycopg.AsyncConnection:
        if self._conn is None or self._conn.closed:
            conn = await psycopg.AsyncConnection.connect(self._url, connect_timeout=5)
            await conn.execute(search_path(self._settings.db_schema))
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
            except EffectsPending as exc:
                log.warning("history_waits_for_kafka", error=str(exc), backlog=self._spool.rows)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
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
        await self._wait_effects(merged.effects_seq)
        conn = await self._connection()
        try:
            async with conn.transaction():
                await self._write(conn, merged)
        except PERMANENT_ERRORS as exc:
            log.error(
                "history_batch_refused",
                error=str(exc),
                sqlstate=exc.sqlstate,
                rows=merged.rows,
                partitions=sorted(merged.marks),
            )
            async with conn.transaction():
                await self._write_isolating(conn, merged)
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

    async def _wait_effects(self, seq: int) -> None:
        if (
            self._effects is not None
            and seq
            and not await self._effects.wait_settled(seq, EFFECTS_WAIT_S)
        ):
            raise EffectsPending(f"dead letters / forwards up to #{seq} not acknowledged")

    async def _write(self, conn: psycopg.AsyncConnection, merged: MergedBatch) -> None:
        if merged.n_events:
            await _copy_events(conn, bytes(merged.events))
        if merged.n_status_changes:
            await _copy_status(conn, bytes(merged.status_changes))
        await self._write_rest(conn, merged)

    async def _write_isolating(self, conn: psycopg.AsyncConnection, merged: MergedBatch) -> None:
        """Write a refused batch without the rows PostgreSQL refuses (inside a transaction)."""
        bad_events: list[tuple[bytes, psycopg.Error]] = []
        bad_status: list[tuple[bytes, psycopg.Error]] = []
        if merged.n_events:
            await _isolate(conn, rows_of(merged.events), _copy_events, bad_events)
        if merged.n_status_changes:
            await _isolate(conn, rows_of(merged.status_changes), _copy_status, bad_status)
        await self._write_rest(conn, merged)
        for row, error in bad_status:  # derived from a status: nothing to dead-letter
            metrics.HISTORY_REFUSED.labels(table="status_changes").inc()
            log.error(
                "status_change_row_refused",
                facility_id=row.split(b"\t", 1)[0].decode("utf-8", "replace"),
                error=str(error),
            )
        last = 0
        for row, error in bad_events:
            last = max(last, self._park(row, error))
        self.refused_rows += len(bad_events) + len(bad_status)
        # the dead letters must be acknowledged before the checkpoint says these offsets are done
        await self._wait_effects(last)

    def _park(self, row: bytes, error: psycopg.Error) -> int:
        """Send a refused ``events`` row to ``dead-letters``; the sink sequence number (0: none)."""
        fields = event_fields(row)
        where = (fields["topic"], int(fields["kafka_partition"]), int(fields["kafka_offset"]))
        metrics.HISTORY_REFUSED.labels(table="events").inc()
        log.error(
            "history_row_refused",
            event_id=fields["event_id"],
            facility_id=fields["facility_id"],
            topic=where[0],
            partition=where[1],
            offset=where[2],
            error=str(error),
        )
        if self._dead is None:
            return 0
        if where in self._parked:
            return self._parked[where]
        message = f"history: PostgreSQL refused the event ({error.sqlstate}): {error}"
        seq = self._dead.refuse(
            InvalidEvent(Reason.PERMANENT_ERROR, None, message.strip()),
            topic=where[0],
            partition=where[1],
            offset=where[2],
            key=fields["facility_id"].encode(),
            raw=event_document(fields),
        )
        if len(self._parked) >= 10_000:
            self._parked.clear()
        self._parked[where] = seq
        return seq

    async def _write_rest(self, conn: psycopg.AsyncConnection, merged: MergedBatch) -> None:
        cur = conn.cursor()
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


async def _copy_events(conn: psycopg.AsyncConnection, rows: bytes, clear: bool = False) -> None:
    cur = conn.cursor()
    if clear:
        await cur.execute("DELETE FROM _events_in")
    async with cur.copy(f"COPY _events_in ({EVENT_COLS}) FROM STDIN") as copy:
        await copy.write(rows)
    await cur.execute(
        f"INSERT INTO events ({EVENT_COLS}) SELECT {EVENT_COLS} FROM _events_in "
        "ON CONFLICT DO NOTHING"
    )


async def _copy_status(conn: psycopg.AsyncConnection, rows: bytes, clear: bool = False) -> None:
    cur = conn.cursor()
    if clear:
        await cur.execute("DELETE FROM _status_in")
    async with cur.copy(f"COPY _status_in ({STATUS_COLS}) FROM STDIN") as copy:
        await copy.write(rows)
    await cur.execute(_INSERT_STATUS_AND_QUEUE_WAITS)


async def _isolate(
    conn: psycopg.AsyncConnection,
    rows: Sequence[bytes],
    write: Callable[[psycopg.AsyncConnection, bytes, bool], Awaitable[None]],
    refused: list[tuple[bytes, psycopg.Error]],
) -> None:
    """Write ``rows``, leaving out (into ``refused``) each one PostgreSQL refuses by itself:
    all at once in a savepoint, else each half the same way."""
    try:
        async with conn.transaction():  # a savepoint: a refusal undoes this part only
            await write(conn, b"".join(rows), True)
        return
    except PERMANENT_ERRORS as exc:
        if len(rows) == 1:
            refused.append((rows[0], exc))
            return
    middle = len(rows) // 2
    await _isolate(conn, rows[:middle], write, refused)
    await _isolate(conn, rows[middle:], write, refused)
