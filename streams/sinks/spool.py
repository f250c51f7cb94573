"""History batches waiting for PostgreSQL: a FIFO in memory, spilled to disk past a bound.

The spool is memory relief, not a durability promise: offsets are committed to Kafka only once a
batch is in PostgreSQL, so after a crash the spill files are discarded (the directory is wiped at
start) and Kafka replays the records. While PostgreSQL is down the live status keeps flowing; the
spool grows in memory up to ``memory_bytes``, then on disk up to ``disk_bytes``; past that
:meth:`Spool.wait_for_room` holds the consumer (backpressure) — nothing is ever dropped.
"""

from __future__ import annotations

import asyncio
import os
import pickle
import shutil
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

from streams import metrics


@dataclass(slots=True)
class Rollup:
    """One row of ``occupancy_1m`` (upserted: the latest figures of a minute win)."""

    facility_id: str
    bucket: str
    count_avg: float
    count_min: int | None
    count_max: int | None
    count_last: int | None
    capacity: int | None
    passages_in: int
    passages_out: int
    samples: int


@dataclass(slots=True)
class HistoryBatch:
    """The history of one partition between two flushes, with the offsets it covers.

    ``marks`` (topic → last offset) is the point up to which every effect of the partition's records
    is in this batch or an earlier one; ``snapshots`` (facility id → encoded machine state), when
    present, is the state of every machine that changed since the previous snapshot, at ``marks``.
    """

    partition: int
    marks: dict[str, int]
    events: bytearray = field(default_factory=bytearray)
    n_events: int = 0
    status_changes: bytearray = field(default_factory=bytearray)
    n_status_changes: int = 0
    rollups: list[Rollup] = field(default_factory=list)
    snapshots: dict[str, bytes] | None = None
    effects_seq: int = 0
    """The Kafka sink's reliable sequence number at the cut: the dead letters and forwards of
    these records are settled once ``KafkaSink.settled_through`` reaches it."""

    @property
    def rows(self) -> int:
        return self.n_events + self.n_status_changes + len(self.rollups)

    @property
    def size(self) -> int:
        snap = sum(len(v) for v in self.snapshots.values()) if self.snapshots else 0
        return len(self.events) + len(self.status_changes) + 100 * len(self.rollups) + snap


@dataclass(slots=True)
class MergedBatch:
    """Consecutive batches written in one transaction (the last marks of each partition win)."""

    count: int = 0
    events: bytearray = field(default_factory=bytearray)
    n_events: int = 0
    status_changes: bytearray = field(default_factory=bytearray)
    n_status_changes: int = 0
    rollups: dict[tuple[str, str], Rollup] = field(default_factory=dict)
    snapshots: dict[int, dict[str, bytes]] = field(default_factory=dict)
    marks: dict[int, dict[str, int]] = field(default_factory=dict)
    snapshot_marks: dict[int, dict[str, int]] = field(default_factory=dict)
    effects_seq: int = 0

    def add(self, batch: HistoryBatch) -> None:
        self.count += 1
        self.effects_seq = max(self.effects_seq, batch.effects_seq)
        self.events += batch.events
        self.n_events += batch.n_events
        self.status_changes += batch.status_changes
        self.n_status_changes += batch.n_status_changes
        for r in batch.rollups:
            self.rollups[(r.facility_id, r.bucket)] = r
        self.marks[batch.partition] = dict(batch.marks)
        if batch.snapshots is not None:
            self.snapshots.setdefault(batch.partition, {}).update(batch.snapshots)
            self.snapshot_marks[batch.partition] = dict(batch.marks)

    @property
    def rows(self) -> int:
        return self.n_events + self.n_status_changes + len(self.rollups)


@dataclass(slots=True)
class _Spilled:
    path: Path
    partition: int
    rows: int
    size: int


class Spool:
    """FIFO of :class:`HistoryBatch`; the oldest are in memory, the overflow in ``directory``."""

    def __init__(self, directory: Path, *, memory_bytes: int, disk_bytes: int) -> None:
        self._dir = directory
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, exist_ok=True)
        self._memory_limit = memory_bytes
        self._disk_limit = disk_bytes
        self._queue: deque[HistoryBatch | _Spilled] = deque()
        self._memory = 0
        self._disk = 0
        self._rows = 0
        self._counter = 0
        self._room = asyncio.Event()
        self._room.set()
        self._not_empty = asyncio.Event()

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def rows(self) -> int:
        return self._rows

    @property
    def spilled_bytes(self) -> int:
        return self._disk

    def push(self, batch: HistoryBatch) -> None:
        size = batch.size
        spilled = any(isinstance(item, _Spilled) for item in self._queue)
        if not spilled and self._memory + size <= self._memory_limit:
            self._queue.append(batch)
            self._memory += size
        else:
            self._counter += 1
            path = self._dir / f"{self._counter:012d}-p{batch.partition}.batch"
            with path.open("wb") as fh:
                pickle.dump(batch, fh, protocol=pickle.HIGHEST_PROTOCOL)
            self._queue.append(_Spilled(path, batch.partition, batch.rows, size))
            self._disk += size
        self._rows += batch.rows
        self._not_empty.set()
        self._update()

    def merge(self, max_rows: int) -> MergedBatch:
        """The oldest batches (at least one, about ``max_rows`` rows) merged; not removed yet."""
        merged = MergedBatch()
        for item in self._queue:
            if merged.count and merged.rows + item.rows > max_rows:
                break
            merged.add(self._load(item))
        return merged

    def drop(self, count: int) -> None:
        """Forget the ``count`` oldest batches (written to PostgreSQL)."""
        for _ in range(count):
            self._forget(self._queue.popleft())
        if not self._queue:
            self._not_empty.clear()
        self._update()

    def purge_partition(self, partition: int) -> int:
        """Drop every batch of a partition this worker no longer owns; returns how many."""
        keep: deque[HistoryBatch | _Spilled] = deque()
        dropped = 0
        while self._queue:
            item = self._queue.popleft()
            if item.partition == partition:
                self._forget(item)
                dropped += 1
            else:
                keep.append(item)
        self._queue = keep
        if not self._queue:
            self._not_empty.clear()
        self._update()
        return dropped

    async def wait_not_empty(self) -> None:
        await self._not_empty.wait()

    async def wait_for_room(self) -> None:
        """Return at once unless the disk bound is reached; then wait until PostgreSQL drains it."""
        await self._room.wait()

    def _load(self, item: HistoryBatch | _Spilled) -> HistoryBatch:
        if isinstance(item, HistoryBatch):
            return item
        with item.path.open("rb") as fh:
            batch: HistoryBatch = pickle.load(fh)
        return batch

    def _forget(self, item: HistoryBatch | _Spilled) -> None:
        self._rows -= item.rows
        if isinstance(item, HistoryBatch):
            self._memory -= item.size
        else:
            self._disk -= item.size
            item.path.unlink(missing_ok=True)

    def _update(self) -> None:
        if self._disk >= self._disk_limit:
            self._room.clear()
        else:
            self._room.set()
        metrics.HISTORY_BACKLOG.set(self._rows)
        metrics.HISTORY_SPILLED.set(self._disk)

    def close(self) -> None:
        shutil.rmtree(self._dir, ignore_errors=True)


def default_spool_dir(state_dir: Path, group_id: str) -> Path:
    """One directory per worker process under the state dir."""
    return state_dir / "streams-spool" / f"{group_id}-{os.getpid()}"
