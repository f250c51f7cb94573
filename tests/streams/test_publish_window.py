"""The worker publishes on the leading edge of a per-facility window, and collapses when behind
(issue 18). Pure core and the flush cut, with a fake clock: no Kafka, no Redis, no sleep."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from schemas.catalogue import Catalogue, Facility, load_catalogue
from schemas.events import CloudEvent
from schemas.status import FacilityStatus
from streams import recovery
from streams.sinks.redis import LiveStatus
from streams.worker.batching import collect_statuses
from streams.worker.config import WorkerConfig
from streams.worker.partitions import PartitionState
from streams.worker.processor import Processor
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


# --- the publishing loop of the processor, on fake sinks ----------------------------------------


class GatedRedis:
    """A Redis sink whose first write waits until the test opens the gate (Redis slow)."""

    primary_changes = 0  # the same primary all along (no failover)

    def __init__(self) -> None:
        self.writes: list[list[tuple[str, int]]] = []
        self.gate = asyncio.Event()
        self.wrote = asyncio.Event()

    async def write(self, statuses: Sequence[LiveStatus]) -> int:
        self.writes.append([(st.facility_id, st.seq) for st in statuses])
        self.wrote.set()
        if len(self.writes) == 1:
            await self.gate.wait()
        return len(statuses)

    async def stored_seqs(self, facility_ids: Sequence[str]) -> dict[str, int]:
        return dict.fromkeys(facility_ids, 0)


class NullKafka:
    last_seq = 0

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        pass

    async def flush(self) -> int:
        return 0


class NullSpool:
    async def wait_for_room(self) -> None:
        pass

    def push(self, batch: Any) -> None:
        pass

    def purge_partition(self, partition: int) -> int:
        return 0


class NullHistory:
    def wake(self) -> None:
        pass

    async def wait_idle(self, within: float) -> bool:
        return True


class TickingMachine(FakeMachine):
    """Changes when the test says so; the processor's tick() picks the change up."""

    def __init__(self, facility_id: str) -> None:
        super().__init__(facility_id)
        self.pending = 0

    def next_wakeup(self) -> dt.datetime | None:
        return dt.datetime(2025, 1, 1, tzinfo=dt.UTC) if self.pending else None

    def tick(self, now: dt.datetime) -> bool:
        self.seq += self.pending
        changed, self.pending = self.pending > 0, 0
        return changed


class TickingMachines:
    def __init__(self) -> None:
        self.made: dict[str, TickingMachine] = {}

    def new(self, facility: Facility) -> TickingMachine:
        machine = self.made[facility.id] = TickingMachine(facility.id)
        return machine

    def restore(self, facility: Facility, state: dict[str, Any]) -> TickingMachine:
        return self.new(facility)


async def _no_checkpoint(partition: int) -> recovery.PartitionCheckpoint:
    return recovery.PartitionCheckpoint(partition)


async def _no_commit(offsets: Any) -> None:
    return None


def fake_processor(
    catalogue: Catalogue,
    config: WorkerConfig,
    *,
    partitions: int = 1,
    machines: Any = None,
    redis: Any = None,
    spool: Any = None,
    history: Any = None,
) -> Processor:
    """A :class:`Processor` on fakes (Redis held by a gate, no Kafka, nothing checkpointed or
    committed) at a fixed clock; each fake may be given."""
    return Processor(
        catalogue=catalogue,
        partitions=partitions,
        machines=machines or TickingMachines(),
        redis=redis or GatedRedis(),
        kafka=NullKafka(),  # type: ignore[arg-type]
        dead_letters=None,  # type: ignore[arg-type]
        status_topic="facility-status",
        spool=spool or NullSpool(),
        load_checkpoint=_no_checkpoint,
        commit=_no_commit,
        history=history or NullHistory(),
        config=config,
        clock=lambda: dt.datetime(2025, 1, 1, 12, tzinfo=dt.UTC),
    )


async def test_publishing_loop_behind_a_slow_redis_collapses_to_the_latest() -> None:
    """While a round waits on Redis, 30 changes of one facility and 5 of another pile up: the
    next round writes each once, at its latest state — never a queue of stale ones."""
    catalogue = Catalogue([f for f in load_catalogue()][:3])
    a, b, _ = catalogue.ids
    redis, machines = GatedRedis(), TickingMachines()

    processor = fake_processor(
        catalogue,
        WorkerConfig(live_interval=0.0, live_round_gap=0.0),
        machines=machines,
        redis=redis,
    )
    processor.assign([0])
    assert await processor.wait_ready(0) is not None
    stopping = False
    loop = asyncio.create_task(processor.publish_forever(lambda: stopping))
    try:
        machines.made[a].pending = 1
        processor.tick()
        await asyncio.wait_for(redis.wrote.wait(), 10)
        assert redis.writes == [[(a, 1)]]
        redis.wrote.clear()
        for _ in range(30):  # the round is stuck on Redis; changes keep coming
            machines.made[a].pending = 1
            processor.tick()
        for _ in range(5):
            machines.made[b].pending = 1
            processor.tick()
        redis.gate.set()
        await asyncio.wait_for(redis.wrote.wait(), 10)
        assert sorted(redis.writes[1]) == sorted([(a, 31), (b, 5)])
    finally:
        stopping = True
        loop.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await loop
