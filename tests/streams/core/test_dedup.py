"""Event-id deduplication: bounded memory, duplicates change nothing."""

from __future__ import annotations

from streams.core.dedup import RecentIds
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events


def test_an_id_seen_twice_is_refused() -> None:
    """The second delivery of an id is reported as already seen."""
    ids = RecentIds(4)
    assert ids.add("a") is True
    assert ids.add("a") is False
    assert "a" in ids


def test_memory_is_bounded_and_forgets_the_oldest() -> None:
    """Past its capacity the set forgets the oldest ids first and never grows."""
    ids = RecentIds(3)
    for event_id in ("a", "b", "c", "d"):
        ids.add(event_id)
    assert len(ids) == 3
    assert ids.ids() == ["b", "c", "d"]
    assert ids.add("a") is True  # forgotten, so accepted again
    assert ids.add("d") is False


def test_duplicate_event_changes_nothing(machine: FacilityMachine, ev: Events) -> None:
    """A passage delivered twice counts once and leaves seq where it was."""
    event = ev.passage("in", 3)
    clock_now = event.time
    assert machine.apply(event, clock_now) is True
    before = machine.status()
    assert machine.apply(event, clock_now) is False
    after = machine.status()
    assert after.seq == before.seq
    assert after.occupancy is not None and after.occupancy.count == 3
    assert after == before


def test_duplicates_of_every_kind_change_nothing(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Replaying a whole mixed sequence of events changes neither seq nor status."""
    events = [
        ev.passage("in", 4),
        ev.headcount(10),
        ev.ticket("issued", "t1"),
        ev.slots(clock.now.replace(hour=15)),
        ev.case("opened", "c1"),
        ev.closure("k1", scope={"kind": "area", "name": "Bassin 50 m"}),
    ]
    for event in events:
        machine.apply(event, clock.now)
    before = machine.status()
    for event in events:
        assert machine.apply(event, clock.now) is False
    assert machine.status() == before
