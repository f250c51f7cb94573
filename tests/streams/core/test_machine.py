"""The machine as the worker drives it: every catalogue facility, clock handling, wakeups."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest

from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.provenance import SourceRef
from schemas.status import FacilityStatus, OpenState
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events


def test_every_catalogue_facility_follows_its_hours_for_a_day() -> None:
    """Each facility of the shipped catalogue gets a known open state and a valid status all day."""
    start = datetime(2025, 6, 10, 6, 0, tzinfo=PARIS)
    end = start + timedelta(days=1)
    opened = 0
    for facility in load_catalogue():
        machine = FacilityMachine(facility)
        assert machine.tick(start) is True
        states = {machine.status().open_state}
        seq = machine.seq
        while (wake := machine.next_wakeup()) is not None and wake <= end:
            if machine.tick(wake):
                assert machine.seq == seq + 1
                seq = machine.seq
            status = machine.status()
            FacilityStatus.model_validate_json(status.to_json())
            states.add(status.open_state)
        assert OpenState.UNKNOWN not in states
        opened += OpenState.OPEN in states
    assert opened > 0


def test_status_says_how_sure_its_hours_are() -> None:
    """The status carries the catalogue's hours confidence on its day: official for the City's
    hours while the period they were given for lasts, no longer confirmed once it is over."""
    catalogue = load_catalogue()
    keller = catalogue.get("piscine-keller")
    source = keller.sources["hours"]
    assert isinstance(source, SourceRef) and source.valid_until is not None
    during = datetime.combine(source.valid_until, time(12, 0), tzinfo=PARIS)
    after = during + timedelta(days=1)
    for facility_id, now, confidence in [
        ("piscine-keller", during, "official"),
        ("piscine-keller", after, "estimated"),
        ("piscine-marjorie-gestring", during, "estimated"),
    ]:
        machine = FacilityMachine(catalogue.get(facility_id))
        machine.tick(now)
        status = machine.status()
        assert status.hours_confidence == confidence, (facility_id, now)
        assert FacilityStatus.model_validate_json(status.to_json()).hours_confidence == confidence


def test_naive_clock_is_refused(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A naive datetime as ``now`` is a bug and raises instead of guessing a zone."""
    with pytest.raises(ValueError, match="naive"):
        machine.apply(ev.passage("in", 1), clock.now.replace(tzinfo=None))


def test_a_new_machine_wants_a_tick_at_once(facility: Facility) -> None:
    """Before its first clock a machine asks to be ticked now (its wakeup is in the past)."""
    fresh = FacilityMachine(facility)
    wake = fresh.next_wakeup()
    assert wake is not None and wake < datetime(2000, 1, 1, tzinfo=PARIS)


def test_status_is_cached_until_the_next_change(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """status() returns the same object until something visible changes."""
    first = machine.status()
    assert machine.status() is first
    machine.apply(ev.passage("in", 1), clock.now)
    second = machine.status()
    assert second is not first
    assert second.seq == first.seq + 1
