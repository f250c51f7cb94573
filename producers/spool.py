"""The durable local spool: Kafka records waiting for the broker, in one SQLite file (WAL mode).

When Kafka is unreachable (or a send fails) the :class:`~producers.publisher.Publisher` writes the
records here; they are committed before the publish call returns, so ``kill -9`` loses nothing
(WAL + ``synchronous=NORMAL`` survives a process crash; ``FULL`` also survives a power cut).

* **Oldest first**: ``seq`` is an ``AUTOINCREMENT`` key, never reused, so reading by ``seq`` replays
  in arrival order and therefore keeps the order of every facility.
* **Removed only after Kafka acknowledged them** (:meth:`Spool.remove` is called by the drainer
  with the acknowledged records).
* **Bounded**: ``max_bytes`` of records (and ``min_free_bytes`` left on the disk); an append that
  would exceed the bound raises :class:`~producers.errors.SpoolFull` and stores nothing of the call.
* **Poison records** that Kafka refuses for good (too large, topic forbidden...) are moved to the
  ``rejected`` table with the reason, never deleted silently.
* **One owner**: the file is locked (``flock``) for the lifetime of the :class:`Spool`; a second
  process opening it gets :class:`~producers.errors.SpoolLocked`.

The class is synchronous and does no network I/O; each call is one short SQLite transaction.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, NamedTuple, Self

from producers.errors import SpoolFull, SpoolLocked

ROW_OVERHEAD_BYTES = 48
"""Bytes counted per row on top of its payload (rowid, timestamps, SQLite cell header)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS spool (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    topic       TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    value       BLOB NOT NULL,
    spooled_at  REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq         INTEGER PRIMARY KEY,
    topic       TEXT NOT NULL,
    facility_id TEXT NOT NULL,
    event_id    TEXT NOT NULL,
    value       BLOB NOT NULL,
    spooled_at  REAL NOT NULL,
    rejected_at REAL NOT NULL,
    reason      TEXT NOT NULL
);
"""


class Record(NamedTuple):
    """One Kafka record: the key is the facility id (UTF-8), the value the event JSON.

    A named tuple: one is built per published event, on the hot path."""

    topic: str
    facility_id: str
    event_id: str
    value: bytes

    @property
    def size(self) -> int:
        """Bytes this record counts for in the spool bound."""
        return (
            len(self.value)
            + len(self.topic)
            + len(self.facility_id)
            + len(self.event_id)
            + ROW_OVERHEAD_BYTES
        )


@dataclass(frozen=True, slots=True)
class SpooledRecord:
    """A record stored in the spool under its ``seq`` (arrival order)."""

    seq: int
    record: Record


class Spool:
    """Records waiting for Kafka, oldest first, in a locked SQLite file."""

    def __init__(
        self,
        path: Path,
        *,
        max_bytes: int = 1 << 30,
        min_free_bytes: int = 64 << 20,
        synchronous: Literal["normal", "full"] = "normal",
    ) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock_fd = os.open(f"{self.path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise SpoolLocked(
                f"spool {self.path} is used by another running producer; "
                "give each producer process its own spool (--spool)"
            ) from None
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA auto_vacuum=INCREMENTAL")  # only effective on a new file
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.executescript(_SCHEMA)
        self._pending: Counter[str] = Counter()
        self._used_bytes = 0
        for facility_id, count, size in self._db.execute(
            "SELECT facility_id, count(*), "
            "total(length(value) + length(topic) + length(facility_id) + length(event_id))"
            " FROM spool GROUP BY facility_id"
        ):
            self._pending[facility_id] = count
            self._used_bytes += int(size) + count * ROW_OVERHEAD_BYTES
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def close(self) -> None:
        """Close the database and release the lock (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._db.close()
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- state -------------------------------------------------------------------------------

    def __len__(self) -> int:
        return sum(self._pending.values())

    @property
    def used_bytes(self) -> int:
        """Bytes of the records waiting (what ``max_bytes`` bounds)."""
        return self._used_bytes

    def has_pending(self, facility_id: str) -> bool:
        """Whether records of this facility wait in the spool (new ones must queue behind)."""
        return facility_id in self._pending

    def pending_facilities(self) -> dict[str, int]:
        """Records waiting per facility."""
        return dict(self._pending)

    # -- writes ------------------------------------------------------------------------------

    def append(self, records: Sequence[Record]) -> list[int]:
        """Store records atomically, after every record already stored; returns their ``seq``.

        Raises :class:`SpoolFull` (storing nothing) when the bound or the disk would be exceeded.
        """
        if not records:
            return []
        incoming = sum(record.size for record in records)
        if self._used_bytes + incoming > self.max_bytes:
            raise SpoolFull(
                f"spool {self.path} is full ({self._used_bytes:,} of {self.max_bytes:,} bytes "
                f"used, {len(records)} events of {incoming:,} bytes refused); Kafka has been "
                "unreachable for too long",
                used_bytes=self._used_bytes,
                max_bytes=self.max_bytes,
            )
        free = shutil.disk_usage(self.path.parent).free
        if free - incoming < self.min_free_bytes:
            raise SpoolFull(
                f"disk of spool {self.path} is nearly full ({free:,} bytes free, "
                f"{self.min_free_bytes:,} kept free)",
                used_bytes=self._used_bytes,
                max_bytes=self.max_bytes,
            )
        now = time.time()
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                first = self._next_seq()
                self._db.executemany(
                    "INSERT INTO spool (seq, topic, facility_id, event_id, value, spooled_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    [
                        (first + i, r.topic, r.facility_id, r.event_id, r.value, now)
                        for i, r in enumerate(records)
                    ],
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        except sqlite3.OperationalError as exc:
            if "full" in str(exc).lower():
                raise SpoolFull(
                    f"spool {self.path}: {exc}",
                    used_bytes=self._used_bytes,
                    max_bytes=self.max_bytes,
                ) from exc
            raise
        self._used_bytes += incoming
        self._pending.update(record.facility_id for record in records)
        return list(range(first, first + len(records)))

    def _next_seq(self) -> int:
        """The next ``seq`` (inside the write transaction), never reusing a deleted one."""
        row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'spool'").fetchone()
        last = row[0] if row else 0
        return int(last) + 1

    def remove(self, spooled: Iterable[SpooledRecord]) -> None:
        """Delete records Kafka acknowledged."""
        items = list(spooled)
        if not items:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("DELETE FROM spool WHERE seq = ?", [(s.seq,) for s in items])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._forget(items)
        if not self._pending:
            self._shrink()

    def reject(self, spooled: Iterable[SpooledRecord], reason: str) -> None:
        """Move records Kafka refuses for good to the ``rejected`` table, with the reason."""
        items = list(spooled)
        if not items:
            return
        now = time.time()
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT OR REPLACE INTO rejected"
                " SELECT seq, topic, facility_id, event_id, value, spooled_at, ?, ?"
                " FROM spool WHERE seq = ?",
                [(now, reason, s.seq) for s in items],
            )
            self._db.executemany("DELETE FROM spool WHERE seq = ?", [(s.seq,) for s in items])
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._forget(items)

    def _forget(self, items: list[SpooledRecord]) -> None:
        for item in items:
            facility_id = item.record.facility_id
            self._used_bytes -= item.record.size
            self._pending[facility_id] -= 1
            if self._pending[facility_id] <= 0:
                del self._pending[facility_id]

    def _shrink(self) -> None:
        """Give the space of a drained spool back to the disk."""
        self._db.execute("PRAGMA incremental_vacuum")
        self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- reads -------------------------------------------------------------------------------

    def oldest(self, limit: int, *, after: int = 0) -> list[SpooledRecord]:
        """Up to ``limit`` records with ``seq > after``, oldest first."""
        rows = self._db.execute(
            "SELECT seq, topic, facility_id, event_id, value FROM spool"
            " WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        return [
            SpooledRecord(seq, Record(topic, facility_id, event_id, bytes(value)))
            for seq, topic, facility_id, event_id, value in rows
        ]

    def rejected(self) -> list[tuple[SpooledRecord, str]]:
        """Records Kafka refused for good, with the reason (for operators)."""
        rows = self._db.execute(
            "SELECT seq, topic, facility_id, event_id, value, reason FROM rejected ORDER BY seq"
        ).fetchall()
        return [
            (SpooledRecord(seq, Record(topic, facility_id, event_id, bytes(value))), reason)
            for seq, topic, facility_id, event_id, value, reason in rows
        ]
