"""The worker publishes on the leading edge of a per-facility window, and collapses when behind
(issue 18). Pure core and the flush cut, with a fake clock: no Kafka, no Redis, no sleep."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from schemas.events import CloudEvent
from schemas.status import FacilityStatus
from streams.sinks.redis import LiveStatus
from streams.worker.batching import collect_statuses
from streams.worker.config import WorkerConfig
from streams.worker.partitions import PartitionState
from streams.worker.publishing import PublishWindow

WINDOW = 0.25  # exact in binary: the fake clock's sums carry no rounding


class FakeMachine:
    """A facility whose status is its number of changes (as ``seq``)."""

    def __init__(self, facility_id: str) -> None:
        self.facility_id = facility_id
        self.seq = 0

    def change(self) -> None:
        self.seq += 1

    def status(self) -> FacilityStatus:
        return FacilityStatus.example().model_copy(
            update={"facility_id": self.facility_id, "seq": self.seq}
        )

    def apply(self, event: CloudEvent, now: dt.datetime) -> bool:
        raise NotImplementedError

    def tick(self, now: dt.datetime) -> bool:
        return False

    def next_wakeup(self) -> dt.datetime | None:
        return None

    def drain_rollups(self) -> list[Any]:
        return []

    def to_snapshot(self) -> dict[str, Any]:
        return {}


class Worker:
    """A partition, its machines and the publish window, driven by a fake clock: ``change`` is
    a fetched batch applied, ``round`` a round of the publishing loop."""

    def __init__(self, *facility_ids: str) -> None:
        self.now = 100.0
        self.state = PartitionState(0)
        self.machines = {f: FakeMachine(f) for f in facility_ids}
        self.state.machines.update(self.machines)
        self.window = PublishWindow(WINDOW)
        self.config = WorkerConfig(live_interval=WINDOW)
        self.published: list[tuple[float, str, int]] = []
        self.next_round: float | None = None

    def change(self, facility_id: str, times: int = 1) -> None:
        for _ in range(times):
            self.machines[facility_id].change()
        self.state.live_dirty.add(facility_id)

    def round(self, *, force: bool = False) -> list[tuple[str, int]]:
        out: list[LiveStatus] = []
        self.next_round = collect_statuses(
            self.state, out, self.now, self.config, self.window, force=force
        )
        self.published += [(self.now, st.facility_id, st.seq) for st in out]
        return [(st.facility_id, st.seq) for st in out]


def test_first_change_goes_out_at_the_end_of_its_batch() -> None:
    """A facility not published within the window is published by the round that follows the
    batch that changed it, with no wait."""
    worker = Worker("pool-a")
    worker.change("pool-a")
    assert worker.round() == [("pool-a", 1)]
    assert worker.next_round is None


def test_burst_within_the_window_is_coalesced_and_sent_at_its_end() -> None:
    """Changes after a publish, within the window, wait for its end and go out once, as the
    latest state; the round at the window's end is announced."""
    worker = Worker("pool-a")
    worker.change("pool-a")
    worker.round()
    for step in range(1, 5):
        worker.now = 100.0 + step * WINDOW / 5
        worker.change("pool-a", times=3)
        assert worker.round() == []
        assert worker.next_round == 100.0 + WINDOW
    worker.now = 100.0 + WINDOW
    assert worker.round() == [("pool-a", 13)]
    assert worker.published == [(100.0, "pool-a", 1), (100.0 + WINDOW, "pool-a", 13)]
    assert worker.next_round is None


def test_final_state_is_never_lost() -> None:
    """However a facility keeps changing, the last change is published once the window after
    it ends, and nothing is left pending."""
    worker = Worker("pool-a", "pool-b")
    for tick in range(40):  # pool-a changes every 1/8 window for 5 windows, pool-b twice
        worker.now = 100.0 + tick * WINDOW / 8
        worker.change("pool-a")
        if tick in (0, 3):
            worker.change("pool-b")
        worker.round()
        if worker.next_round is not None and worker.next_round <= worker.now + WINDOW / 8:
            worker.now = worker.next_round
            worker.round()
    while worker.next_round is not None:
        worker.now = worker.next_round
        worker.round()
    last_seen = {f: seq for _, f, seq in worker.published}
    assert last_seen == {"pool-a": 40, "pool-b": 2}
    assert not worker.state.live_dirty
    times_a = [at for at, f, _ in worker.published if f == "pool-a"]
    assert all(b - a >= WINDOW for a, b in itertools.pairwise(times_a))
    assert len(times_a) <= 40 * (WINDOW / 8) / WINDOW + 2  # about one write per window


def test_a_quiet_facility_goes_out_at_once_again() -> None:
    """A facility whose last publish is a full window old is published immediately, while a
    busy one beside it waits for its window."""
    worker = Worker("pool-a", "pool-b")
    worker.change("pool-a")
    worker.round()
    worker.now += WINDOW / 2
    worker.change("pool-b")
    worker.round()
    worker.now += WINDOW / 2
    worker.change("pool-a")
    worker.change("pool-b")
    assert worker.round() == [("pool-a", 2)]
    assert worker.next_round == 100.0 + WINDOW / 2 + WINDOW


def test_a_loop_that_fell_behind_publishes_only_the_latest() -> None:
    """While a round is stuck (Redis slow for three windows), 30 changes of one facility and 5
    of another collapse: the next round writes each facility once, at its latest state."""
    worker = Worker("pool-a", "pool-b")
    worker.change("pool-a")
    worker.round()
    worker.now += 3 * WINDOW  # the round awaited Redis all that time; batches kept arriving
    worker.change("pool-a", times=30)
    worker.change("pool-b", times=5)
    assert sorted(worker.round()) == [("pool-a", 31), ("pool-b", 5)]


def test_forced_flush_publishes_everything_changed() -> None:
    """A checkpoint (revoke, shutdown) publishes every changed facility, held or not, and
    restarts their window."""
    worker = Worker("pool-a")
    worker.change("pool-a")
    worker.round()
    worker.now += WINDOW / 4
    worker.change("pool-a")
    assert worker.round(force=True) == [("pool-a", 2)]
    assert worker.window.last["pool-a"] == worker.now


def test_window_forgets_revoked_facilities() -> None:
    """A facility forgotten (partition revoked, or a failed write to retry) is due at once."""
    window = PublishWindow(WINDOW)
    assert window.split({"pool-a"}, 10.0) == (["pool-a"], set())
    assert window.split({"pool-a"}, 10.1) == ([], {"pool-a"})
    window.forget(["pool-a"])
    assert window.split({"pool-a"}, 10.1) == (["pool-a"], set())
