"""Snapshots: exact round trip through JSON, and the restored machine behaves as the original."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest

from schemas.catalogue import Facility
from schemas.events import CloudEvent
from streams.core.errors import BadSnapshot
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events, make_facility


def through_json(snapshot: dict[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(json.dumps(snapshot))
    return loaded


def busy_machine(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Feed a machine something of every kind."""
    machine.apply(ev.passage("in", 12), clock.now)
    machine.apply(ev.passage("out", 2), clock.now)
    clock.advance(seconds=20)
    machine.apply(ev.headcount(15), clock.now)
    machine.apply(ev.ticket("issued", "A1", at=clock.now - timedelta(minutes=9)), clock.now)
    machine.apply(ev.ticket("issued", "A2"), clock.now)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    machine.apply(ev.ticket("called", "A9"), clock.now)
    machine.apply(ev.slots(clock.now + timedelta(days=2, hours=5)), clock.now)
    machine.apply(ev.case("opened", "c1", at=clock.now - timedelta(days=20)), clock.now)
    machine.apply(ev.case("closed", "c1"), clock.now)
    machine.apply(ev.case("opened", "c2"), clock.now)
    machine.apply(ev.case("closed", "c3"), clock.now)
    machine.apply(
        ev.closure(
            "k1",
            scope={"kind": "area", "name": "Bassin 50 m"},
            reopening=clock.now.replace(hour=11),
        ),
        clock.now,
    )
    machine.apply(ev.closure("k2", starts_at=clock.now + timedelta(days=1)), clock.now)
    machine.apply(ev.closure_end("k0"), clock.now)
    clock.advance(seconds=50)
    machine.tick(clock.now)
    machine.apply(ev.passage("in", 1), clock.now)


def test_round_trip_is_exact(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A restored machine writes the very same snapshot and shows the very same status."""
    busy_machine(machine, ev, clock)
    snapshot = machine.to_snapshot()
    restored = FacilityMachine.from_snapshot(machine.facility, through_json(snapshot))
    assert restored.to_snapshot() == snapshot
    assert restored.status() == machine.status()
    assert restored.next_wakeup() == machine.next_wakeup()
    assert restored.drain_rollups() == machine.drain_rollups()


def test_restored_machine_continues_identically(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """After a restore, the same events and ticks give the same statuses, seq for seq."""
    busy_machine(machine, ev, clock)
    restored = FacilityMachine.from_snapshot(machine.facility, through_json(machine.to_snapshot()))
    later: list[CloudEvent] = [
        ev.passage("in", 3),
        ev.passage("in", 3),  # a new event, same figures
        ev.ticket("served", "A1"),
        ev.closure_end("k1"),
    ]
    replayed = [later[0], *later]  # the first one twice: dedup must survive the restore
    for event in replayed:
        clock.advance(seconds=7)
        assert machine.apply(event, clock.now) == restored.apply(event, clock.now)
        assert restored.status() == machine.status()
    for _ in range(40):
        wake = machine.next_wakeup()
        assert wake is not None and wake == restored.next_wakeup()
        clock.set(wake)
        assert machine.tick(clock.now) == restored.tick(clock.now)
        assert restored.status() == machine.status()
    assert restored.to_snapshot() == machine.to_snapshot()


def test_snapshot_before_the_first_clock(facility: Facility) -> None:
    """A machine that never saw the clock round-trips too."""
    fresh = FacilityMachine(facility)
    snapshot = fresh.to_snapshot()
    assert FacilityMachine.from_snapshot(facility, through_json(snapshot)).to_snapshot() == snapshot


def test_snapshot_of_another_facility_is_refused(machine: FacilityMachine) -> None:
    """Restoring a snapshot for the wrong facility raises BadSnapshot."""
    other = make_facility(id="piscine-autre")
    with pytest.raises(BadSnapshot):
        FacilityMachine.from_snapshot(other, machine.to_snapshot())


def test_damaged_or_foreign_snapshots_are_refused(machine: FacilityMachine) -> None:
    """A snapshot of another version or with missing parts raises BadSnapshot."""
    snapshot = machine.to_snapshot()
    with pytest.raises(BadSnapshot):
        FacilityMachine.from_snapshot(machine.facility, {**snapshot, "version": 99})
    damaged = {key: value for key, value in snapshot.items() if key != "occupancy"}
    with pytest.raises(BadSnapshot):
        FacilityMachine.from_snapshot(machine.facility, damaged)
