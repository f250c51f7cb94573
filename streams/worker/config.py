"""Tuning of the stream worker (:class:`WorkerConfig`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WorkerConfig:
    """Tuning of the worker; the defaults are what production runs."""

    live_interval: float = 0.05
    """Coalescing window of live writes (Redis, ``facility-status``), per facility, on its leading
    edge: a change of a facility not written within the window goes out at once, later ones at
    the window's end — one write per facility per window whatever the event rate."""
    live_round_gap: float = 0.005
    """Shortest time between two rounds of the publishing loop: under a steady stream of small
    batches it bounds the rounds (each a Redis pipeline and a Kafka flush) to 200 a second, at
    the cost of at most this much latency; changes meanwhile collapse into the next round."""
    history_interval: float = 0.5
    """How often the history of a partition is cut into a batch for PostgreSQL."""
    snapshot_interval: float = 30.0
    """Snapshot the machines that changed every this many seconds (a snapshot holds the dedup
    window, up to a few hundred kB per facility; a restart replays at most this much). Each
    partition snapshots on its own phase of the interval, so that a worker's partitions do not
    all stall the loop in the same round (:func:`streams.worker.batching.snapshot_phase`)."""
    status_history_interval: float = 60.0
    """A ``status_changes`` row is written when the open state, closures, occupancy level or
    staleness change, and otherwise at most once per this many seconds per facility."""
    tick_interval: float = 1.0
    spool_memory_bytes: int = 256 * 1024 * 1024
    spool_disk_bytes: int = 4 * 1024 * 1024 * 1024
    history_max_rows: int = 50_000
