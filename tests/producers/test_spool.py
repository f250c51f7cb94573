"""The durable spool on a real SQLite file: order, bound, reopen, lock, rejects."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from producers.errors import SpoolFull, SpoolLocked
from producers.spool import Record, Spool


def _record(facility: str, n: int, size: int = 100) -> Record:
    return Record("facility-passages", facility, f"{facility}-{n}", b"x" * size)


def test_replays_oldest_first_and_keeps_each_facility_in_order(tmp_path: Path) -> None:
    """Records come back in arrival order, so every facility's events stay in order."""
    with Spool(tmp_path / "s.sqlite3") as spool:
        spool.append([_record("a", 1), _record("b", 1)])
        spool.append([_record("a", 2)])
        spool.append([_record("b", 2), _record("a", 3)])
        ids = [s.record.event_id for s in spool.oldest(100)]
    assert ids == ["a-1", "b-1", "a-2", "b-2", "a-3"]


def test_removing_acknowledged_records_leaves_the_rest_in_order(tmp_path: Path) -> None:
    """Only acknowledged records leave; the pending count per facility follows."""
    with Spool(tmp_path / "s.sqlite3") as spool:
        spool.append([_record("a", i) for i in range(5)] + [_record("b", 0)])
        first = spool.oldest(2)
        spool.remove(first)
        assert [s.record.event_id for s in spool.oldest(100)] == ["a-2", "a-3", "a-4", "b-0"]
        assert spool.pending_facilities() == {"a": 3, "b": 1}
        spool.remove(spool.oldest(100))
        assert len(spool) == 0
        assert not spool.has_pending("a")
        assert spool.used_bytes == 0


def test_survives_reopening(tmp_path: Path) -> None:
    """What was committed is there after the process reopens the file, with its accounting."""
    path = tmp_path / "s.sqlite3"
    with Spool(path) as spool:
        spool.append([_record("a", 1), _record("b", 1), _record("a", 2)])
        spool.remove(spool.oldest(1))
        used = spool.used_bytes
    with Spool(path) as spool:
        assert [s.record.event_id for s in spool.oldest(10)] == ["b-1", "a-2"]
        assert spool.pending_facilities() == {"a": 1, "b": 1}
        assert spool.used_bytes == used
        spool.append([_record("c", 1)])
        assert [s.record.event_id for s in spool.oldest(10)][-1] == "c-1"


def test_sequence_numbers_are_never_reused_after_a_full_drain(tmp_path: Path) -> None:
    """A drained spool keeps counting up, so new records never sort before old ones."""
    path = tmp_path / "s.sqlite3"
    with Spool(path) as spool:
        spool.append([_record("a", 1), _record("a", 2)])
        last = spool.oldest(10)[-1].seq
        spool.remove(spool.oldest(10))
    with Spool(path) as spool:
        (seq,) = spool.append([_record("a", 3)])
    assert seq > last


def test_full_spool_refuses_the_whole_call_and_keeps_what_it_had(tmp_path: Path) -> None:
    """Past the bound, append raises SpoolFull and stores nothing of the refused call."""
    one = _record("a", 0).size
    with Spool(tmp_path / "s.sqlite3", max_bytes=one * 10) as spool:
        spool.append([_record("a", i) for i in range(8)])
        with pytest.raises(SpoolFull) as refused:
            spool.append([_record("b", i) for i in range(3)])
        assert refused.value.max_bytes == one * 10
        assert "full" in str(refused.value)
        assert len(spool) == 8
        assert not spool.has_pending("b")
        spool.remove(spool.oldest(3))
        spool.append([_record("b", i) for i in range(3)])
        assert len(spool) == 8


def test_a_second_process_cannot_share_the_spool(tmp_path: Path) -> None:
    """Two producers on one spool file would send its records twice: the second is refused."""
    path = tmp_path / "s.sqlite3"
    with Spool(path), pytest.raises(SpoolLocked):
        Spool(path)
    Spool(path).close()  # released on close


def test_rejected_records_are_kept_with_their_reason(tmp_path: Path) -> None:
    """A record Kafka refuses for good is moved aside with the reason, not deleted."""
    with Spool(tmp_path / "s.sqlite3") as spool:
        spool.append([_record("a", 1), _record("a", 2)])
        spool.reject(spool.oldest(1), "MessageSizeTooLargeError")
        assert [s.record.event_id for s in spool.oldest(10)] == ["a-2"]
        ((rejected, reason),) = spool.rejected()
    assert rejected.record.event_id == "a-1"
    assert reason == "MessageSizeTooLargeError"


def test_file_is_in_wal_mode(tmp_path: Path) -> None:
    """The spool file uses SQLite's write-ahead log (commits survive a killed process)."""
    path = tmp_path / "s.sqlite3"
    with Spool(path) as spool:
        spool.append([_record("a", 1)])
        mode = sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0]
    assert mode == "wal"
