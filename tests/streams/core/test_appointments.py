"""Appointments: delay to the next free slot, latest publication wins, delay shrinks with time."""

from __future__ import annotations

from datetime import timedelta

from schemas.status import AppointmentStatus
from streams.core.appointments import delay_days
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events


def appointment(machine: FacilityMachine) -> AppointmentStatus:
    (found,) = machine.status().appointments
    return found


def test_delay_in_days_to_the_next_slot(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A slot in 3 days and 12 hours shows a delay of 3.5 days."""
    slot = clock.now + timedelta(days=3, hours=12)
    machine.apply(ev.slots(slot), clock.now)
    found = appointment(machine)
    assert found.service_id == "rdv"
    assert found.next_available_at == slot
    assert found.delay_days == 3.5


def test_no_free_slot_means_no_delay(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """When the booking system has no free slot, date and delay are both empty."""
    machine.apply(ev.slots(None, free=0), clock.now)
    found = appointment(machine)
    assert (found.next_available_at, found.delay_days) == (None, None)


def test_latest_publication_wins_whatever_the_arrival_order(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A publication older than the one applied does not replace it."""
    newer_slot = clock.now + timedelta(days=2)
    older_slot = clock.now + timedelta(days=9)
    machine.apply(ev.slots(newer_slot, at=clock.now), clock.now)
    seq = machine.seq
    assert (
        machine.apply(ev.slots(older_slot, at=clock.now - timedelta(hours=1)), clock.now) is False
    )
    assert appointment(machine).next_available_at == newer_slot
    assert machine.seq == seq


def test_delay_shrinks_as_time_passes_without_events(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A day later, with no new publication, the same slot is one day closer."""
    machine.apply(ev.slots(clock.now + timedelta(days=3)), clock.now)
    target = clock.now + timedelta(days=1)
    while (wake := machine.next_wakeup()) is not None and wake <= target:
        clock.set(wake)
        machine.tick(clock.now)
    clock.set(target)
    machine.tick(clock.now)
    assert appointment(machine).delay_days == 2.0


def test_delay_rounding(clock: Clock) -> None:
    """Delays are rounded half up to 0.1 day and never negative."""
    assert delay_days(clock.now + timedelta(hours=3.6), clock.now) == 0.2
    assert delay_days(clock.now - timedelta(days=1), clock.now) == 0.0
    assert delay_days(None, clock.now) is None
