"""Queues: length from tickets, observed waits (EWMA), fallback estimate, abandoned excluded."""

from __future__ import annotations

from datetime import datetime, timedelta

from schemas.clock import PARIS
from schemas.status import QueueStatus
from streams.core.machine import FacilityMachine, MachineConfig
from tests.streams.core.kit import Clock, Events, make_facility


def queue(machine: FacilityMachine, service: str = "accueil") -> QueueStatus:
    (found,) = [q for q in machine.status().queues if q.service_id == service]
    return found


def test_length_counts_tickets_waiting(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Issued tickets wait until called; a called ticket leaves the queue."""
    for ticket in ("A1", "A2", "A3"):
        machine.apply(ev.ticket("issued", ticket), clock.now)
    assert queue(machine).length == 3
    machine.apply(ev.ticket("called", "A1"), clock.now)
    assert queue(machine).length == 2


def test_no_queue_listed_before_any_ticket(machine: FacilityMachine) -> None:
    """A service that never sent a ticket has no queue figure."""
    assert machine.status().queues == []


def test_wait_is_the_ewma_of_observed_waits(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Observed waits of 10 then 20 minutes give 0.3 × 20 + 0.7 × 10 = 13 minutes."""
    start = clock.now
    for ticket in ("A1", "A2", "A3"):
        machine.apply(ev.ticket("issued", ticket, at=start), clock.now)
    clock.advance(minutes=10)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    assert queue(machine).wait_minutes == 10.0
    clock.advance(minutes=10)
    machine.apply(ev.ticket("called", "A2"), clock.now)
    assert queue(machine).wait_minutes == 13.0
    assert queue(machine).length == 1


def test_fallback_is_length_times_default_service_time(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """With no wait ever observed, 4 people waiting × 5 minutes (default) = 20 minutes."""
    for ticket in ("A1", "A2", "A3", "A4"):
        machine.apply(ev.ticket("issued", ticket), clock.now)
    assert queue(machine).wait_minutes == 20.0


def test_fallback_uses_recent_service_time(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Once observed waits are older than 30 minutes, length × observed service time is used."""
    machine.apply(ev.ticket("issued", "A1"), clock.now)
    machine.apply(ev.ticket("issued", "A2"), clock.now)
    machine.apply(ev.ticket("issued", "A3"), clock.now)
    clock.advance(minutes=6)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    clock.advance(minutes=2)
    machine.apply(ev.ticket("served", "A1"), clock.now)  # 2 minutes at the desk
    assert queue(machine).wait_minutes == 6.0
    # no event for 30 minutes: following next_wakeup alone switches to 2 waiting × 2 minutes
    target = clock.now + timedelta(minutes=31)
    while (wake := machine.next_wakeup()) is not None and wake <= target:
        clock.set(wake)
        machine.tick(clock.now)
    assert queue(machine).wait_minutes == 4.0


def test_abandoned_tickets_are_excluded(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """An abandoned ticket leaves the queue and its (long) wait never counts."""
    start = clock.now
    machine.apply(ev.ticket("issued", "A1", at=start), clock.now)
    machine.apply(ev.ticket("issued", "A2", at=start), clock.now)
    clock.advance(minutes=50)
    machine.apply(ev.ticket("abandoned", "A1"), clock.now)
    assert queue(machine).length == 1
    machine.apply(ev.ticket("called", "A1"), clock.now)  # too late: it ended
    clock.advance(minutes=1)
    machine.apply(ev.ticket("issued", "A3"), clock.now)
    clock.advance(minutes=2)
    machine.apply(ev.ticket("called", "A3"), clock.now)
    assert queue(machine).wait_minutes == 2.0


def test_call_before_issue_still_measures_the_wait(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A late ``issued`` after its ``called`` does not queue the ticket but gives its wait."""
    issued = clock.now
    machine.apply(ev.ticket("issued", "B1"), clock.now)
    clock.advance(minutes=8)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    machine.apply(ev.ticket("issued", "A1", at=issued), clock.now)
    status = queue(machine)
    assert status.length == 1  # only B1
    assert status.wait_minutes == 8.0


def test_late_issue_of_a_served_ticket_is_ignored(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """An ``issued`` arriving after the ticket was served does not put it back in the queue."""
    machine.apply(ev.ticket("issued", "A1"), clock.now)
    machine.apply(ev.ticket("called", "A1"), clock.now)
    machine.apply(ev.ticket("served", "A1"), clock.now)
    seq = machine.seq
    assert machine.apply(ev.ticket("issued", "A1"), clock.now) is False
    assert queue(machine).length == 0
    assert machine.seq == seq


def test_queues_are_emptied_at_the_daily_reset(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Tickets still waiting at closing are dropped; old tickets arriving late stay out."""
    machine.apply(ev.ticket("issued", "A1"), clock.now)
    machine.apply(ev.ticket("issued", "A2"), clock.now)
    clock.set(datetime(2025, 6, 10, 20, 0, 5, tzinfo=PARIS))
    machine.tick(clock.now)
    assert queue(machine).length == 0
    machine.apply(ev.ticket("issued", "A3", at=clock.now - timedelta(hours=2)), clock.now)
    assert queue(machine).length == 0


def test_configured_default_service_time(ev: Events, clock: Clock) -> None:
    """The default service time is a configuration figure."""
    machine = FacilityMachine(make_facility(), MachineConfig(default_service_minutes=3.0))
    machine.apply(ev.ticket("issued", "A1"), clock.now)
    machine.apply(ev.ticket("issued", "A2"), clock.now)
    assert queue(machine).wait_minutes == 6.0
