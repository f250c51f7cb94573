"""Snapshot rounds spread over the interval (issue 18): the partitions of a worker never all cut
their snapshots in the same round, and each round still snapshots all of its partition's
changed machines at its offsets (what recovery needs). Driven by a fake monotonic clock."""

from __future__ import annotations

import itertools
from typing import Any

import orjson

from schemas.catalogue import Catalogue, load_catalogue
from streams.worker.batching import cut_batch, next_snapshot_at, snapshot_phase
from streams.worker.config import WorkerConfig
from streams.worker.partitions import PartitionState
from tests.streams.test_publish_window import (
    FakeMachine,
    fake_processor,
)
from tests.streams.test_worker_cpu_rounds import CountingHistory, CountingSpool

INTERVAL = 32.0  # exact in binary, as the rounds of 0.5 s: the fake clock's sums do not round
ROUND = 0.5
TOPIC = "facility-passages"


class CountedMachine(FakeMachine):
    """A facility whose snapshot says how many events it had seen when it was taken."""

    def __init__(self, facility_id: str) -> None:
        super().__init__(facility_id)
        self.events = 0

    def to_snapshot(self) -> dict[str, Any]:
        return {"facility_id": self.facility_id, "events": self.events}


def _partitions(count: int, machines_each: int, start: float) -> list[PartitionState]:
    states = []
    for p in range(count):
        state = PartitionState(p, snapshot_phase=snapshot_phase(p, count, INTERVAL))
        state.machines = {f"f{p}-{i}": CountedMachine(f"f{p}-{i}") for i in range(machines_each)}
        state.next_snapshot = next_snapshot_at(start, state.snapshot_phase, INTERVAL)
        states.append(state)
    return states


def _run(
    states: list[PartitionState], start: float, rounds: int, *, force_at: int | None = None
) -> list[dict[int, tuple[dict[str, int], dict[str, Any]]]]:
    """Every round: an event for every machine of every partition (offsets move on), then a
    cut of every partition, as the publishing loop does; returns, per round, the partitions that
    snapshotted with their marks and decoded snapshots."""
    config = WorkerConfig(snapshot_interval=INTERVAL, history_interval=ROUND)
    out = []
    for n in range(rounds):
        mono = start + n * ROUND
        taken = {}
        for state in states:
            for fid, machine in state.machines.items():
                assert isinstance(machine, CountedMachine)
                machine.events += 1
                state.snap_dirty.add(fid)
            state.applied[TOPIC] = state.applied.get(TOPIC, -1) + len(state.machines)
            batch = cut_batch(state, 0, n == force_at, mono, config)
            if batch.snapshots is not None:
                decoded = {fid: orjson.loads(raw) for fid, raw in batch.snapshots.items()}
                taken[state.partition] = (batch.marks, decoded)
        out.append(taken)
    return out


def test_no_round_snapshots_more_than_one_partition() -> None:
    """Four partitions under a steady load snapshot in four different rounds per interval (a
    quarter of the machines each), never all in the same one."""
    start = 1001.0
    states = _partitions(4, 10, start)
    rounds = _run(states, start, int(4 * INTERVAL / ROUND))
    busy = [taken for taken in rounds if taken]
    assert all(len(taken) == 1 for taken in busy)
    per_partition = {p: sum(p in taken for taken in rounds) for p in range(4)}
    assert per_partition == {0: 4, 1: 4, 2: 4, 3: 4}
    at = [n for n, taken in enumerate(rounds) if taken]
    gaps = {b - a for a, b in itertools.pairwise(at)}
    assert gaps == {int(INTERVAL / 4 / ROUND)}  # evenly spread: 8 s apart


def test_a_round_snapshots_every_changed_machine_at_its_offsets() -> None:
    """Each snapshot round of a partition holds every machine that changed since the previous
    one, as of the offsets the batch carries (recovery skips the records up to them)."""
    start = 50.0
    states = _partitions(4, 5, start)
    for taken in _run(states, start, int(2 * INTERVAL / ROUND)):
        for p, (marks, snaps) in taken.items():
            assert set(snaps) == set(states[p].machines)
            seen = marks[TOPIC] + 1  # one event per machine per round, offsets from 0
            assert {s["machine"]["events"] for s in snaps.values()} == {seen // 5}


def test_a_forced_snapshot_keeps_the_partitions_apart() -> None:
    """A checkpoint (rebalance, stop) snapshots every partition at once; the rounds after it
    stay spread over the interval instead of lining up on the checkpoint."""
    start = 0.0
    states = _partitions(4, 3, start)
    rounds = _run(states, start, int(3 * INTERVAL / ROUND), force_at=10)
    assert len(rounds[10]) == 4
    after = [taken for taken in rounds[11:] if taken]
    assert after and all(len(taken) == 1 for taken in after)


def test_snapshot_slots() -> None:
    """A partition's slots are its phase plus whole intervals; the next is strictly later."""
    phases = [snapshot_phase(p, 4, INTERVAL) for p in range(4)]
    assert phases == [0.0, 8.0, 16.0, 24.0]
    assert snapshot_phase(5, 4, INTERVAL) == 8.0
    assert next_snapshot_at(100.0, 8.0, INTERVAL) == 104.0
    assert next_snapshot_at(104.0, 8.0, INTERVAL) == 136.0
    assert next_snapshot_at(7.0, 8.0, INTERVAL) == 8.0


async def test_assigned_partitions_get_spread_snapshot_slots() -> None:
    """A worker assigned four partitions schedules their first snapshot rounds in four different
    places of the interval, each within one interval of recovery."""
    catalogue = Catalogue([f for f in load_catalogue()][:8])

    processor = fake_processor(
        catalogue,
        WorkerConfig(snapshot_interval=INTERVAL),
        partitions=4,
        spool=CountingSpool(),
        history=CountingHistory(),
    )
    processor.assign(range(4))
    states = [await processor.wait_ready(p) for p in range(4)]
    assert all(s is not None for s in states)
    slots = [s.next_snapshot for s in states if s is not None]
    ready_at = min(s.last_cut for s in states if s is not None)
    assert all(ready_at < slot <= ready_at + INTERVAL for slot in slots)
    assert len({round(slot % INTERVAL, 6) for slot in slots}) == 4
