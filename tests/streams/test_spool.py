"""The history spool: bounded memory, spill to disk, FIFO, backpressure, purge on revoke."""

from __future__ import annotations

import asyncio
from pathlib import Path

from streams.sinks.spool import HistoryBatch, Rollup, Spool
from tests.testkit import run_ready_tasks


def _batch(partition: int, offset: int, rows: int = 10) -> HistoryBatch:
    batch = HistoryBatch(partition, {"t-facility-passages": offset})
    for i in range(rows):
        batch.events += f"id-{partition}-{offset}-{i}\t…\n".encode()
    batch.n_events = rows
    batch.rollups.append(
        Rollup(
            f"f{partition}", f"2025-06-14T08:{offset % 60:02d}:00+00:00", 1.0, 1, 1, 1, 10, 1, 0, 1
        )
    )
    return batch


def test_batches_spill_to_disk_and_come_back_in_order(tmp_path: Path) -> None:
    """Past the memory bound, batches go to disk and are merged back oldest first, nothing lost."""
    spool = Spool(tmp_path / "spool", memory_bytes=500, disk_bytes=10**9)
    for offset in range(20):
        spool.push(_batch(0, offset))
    assert spool.spilled_bytes > 0
    assert any((tmp_path / "spool").iterdir())
    seen: list[int] = []
    while len(spool):
        merged = spool.merge(max_rows=25)
        seen.append(merged.marks[0]["t-facility-passages"])
        assert merged.n_events == merged.events.count(b"\n")
        spool.drop(merged.count)
    assert seen == sorted(seen) and seen[-1] == 19
    assert spool.rows == 0 and spool.spilled_bytes == 0
    assert not any((tmp_path / "spool").iterdir())


def test_merge_keeps_the_last_marks_and_snapshots_per_partition(tmp_path: Path) -> None:
    """Merged batches carry each partition's latest offsets and the latest snapshot of a facility."""
    spool = Spool(tmp_path / "spool", memory_bytes=10**9, disk_bytes=10**9)
    first, second = _batch(1, 5), _batch(1, 9)
    first.snapshots = {"piscine-a": b"old"}
    second.snapshots = {"piscine-a": b"new", "piscine-b": b"b"}
    spool.push(first)
    spool.push(_batch(2, 3))
    spool.push(second)
    merged = spool.merge(max_rows=10**6)
    assert merged.count == 3
    assert merged.marks == {1: {"t-facility-passages": 9}, 2: {"t-facility-passages": 3}}
    assert merged.snapshots == {1: {"piscine-a": b"new", "piscine-b": b"b"}}
    assert merged.snapshot_marks == {1: {"t-facility-passages": 9}}


async def test_full_disk_holds_the_consumer_until_drained(tmp_path: Path) -> None:
    """When the disk bound is reached, wait_for_room blocks until batches are written."""
    spool = Spool(tmp_path / "spool", memory_bytes=0, disk_bytes=300)
    for offset in range(5):
        spool.push(_batch(0, offset))
    waiter = asyncio.create_task(spool.wait_for_room())
    await run_ready_tasks()
    assert not waiter.done()
    spool.drop(len(spool))
    await asyncio.wait_for(waiter, 1.0)


def test_revoked_partition_is_purged(tmp_path: Path) -> None:
    """Dropping a revoked partition keeps every other partition's history."""
    spool = Spool(tmp_path / "spool", memory_bytes=300, disk_bytes=10**9)
    for offset in range(6):
        spool.push(_batch(offset % 2, offset))
    assert spool.purge_partition(1) == 3
    merged = spool.merge(max_rows=10**6)
    assert set(merged.marks) == {0}
    assert merged.n_events == 30
