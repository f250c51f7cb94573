"""Partitions: which one owns a facility, and what the worker holds for each one it was assigned.

The input topics are co-partitioned by facility id with Kafka's default partitioner
(:func:`partition_for`, murmur2); a :class:`PartitionState` holds the machines of the facilities
hashed to its partition — all of them, so timers run even for a facility that never sends an event.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from aiokafka.partitioner import murmur2

from streams.sinks.spool import HistoryBatch
from streams.worker.machines import Machine


def partition_for(facility_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner puts a facility's records in."""
    return int(murmur2(facility_id.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class PartitionState:
    """Everything this worker holds for one partition of the co-partitioned input topics."""

    partition: int
    machines: dict[str, Machine] = field(default_factory=dict)
    seq_bump: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    """Last offset applied to the state, per topic."""
    effects_until: dict[str, int] = field(default_factory=dict)
    """Offsets whose effects are already stored (replayed silently after a restart)."""
    live_dirty: set[str] = field(default_factory=set)
    snap_dirty: set[str] = field(default_factory=set)
    recorded: dict[str, tuple[tuple[Any, ...], float]] = field(default_factory=dict)
    batch: HistoryBatch | None = None
    cut_marks: dict[str, int] = field(default_factory=dict)
    """The offsets of the last history batch handed to PostgreSQL (a cut that brings no rows,
    no snapshot and no new offset is not written: its checkpoint would be the same)."""
    snapshot_phase: float = 0.0
    """Offset of this partition's snapshot rounds within ``snapshot_interval`` (monotonic clock;
    :func:`streams.worker.batching.snapshot_phase`)."""
    next_snapshot: float = 0.0
    """Monotonic time of the next snapshot round (:func:`~streams.worker.batching.next_snapshot_at`)."""
    last_cut: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    revoked: bool = False

    def current_batch(self) -> HistoryBatch:
        if self.batch is None:
            self.batch = HistoryBatch(self.partition, {})
        return self.batch
