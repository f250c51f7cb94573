"""Closures: several at once, scopes, updates and ends in event-time order, overdue reopenings."""

from __future__ import annotations

from datetime import timedelta

from schemas.status import OpenState
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events

AREA = {"kind": "area", "name": "Bassin 50 m"}
SERVICE = {"kind": "service", "service_id": "accueil"}


def test_area_closure_makes_the_facility_partially_closed(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Closing one pool basin leaves the facility open but partially closed."""
    assert machine.apply(ev.closure("k1", scope=AREA), clock.now) is True
    status = machine.status()
    assert status.open_state is OpenState.PARTIALLY_CLOSED
    assert [c.closure_id for c in status.closures] == ["k1"]
    assert status.closures[0].scope.kind == "area"


def test_facility_closure_makes_it_exceptionally_closed(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A facility-wide closure wins over the opening hours."""
    machine.apply(ev.closure("k1", reopening=clock.now + timedelta(hours=2)), clock.now)
    status = machine.status()
    assert status.open_state is OpenState.EXCEPTIONALLY_CLOSED
    assert status.next_change_at == clock.now + timedelta(hours=2)


def test_several_closures_at_once(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Area, service and facility closures are all listed; ending them one by one reopens."""
    machine.apply(ev.closure("area", scope=AREA), clock.now)
    clock.advance(minutes=1)
    machine.apply(ev.closure("desk", scope=SERVICE), clock.now)
    assert machine.status().open_state is OpenState.PARTIALLY_CLOSED
    clock.advance(minutes=1)
    machine.apply(ev.closure("all"), clock.now)
    status = machine.status()
    assert status.open_state is OpenState.EXCEPTIONALLY_CLOSED
    assert [c.closure_id for c in status.closures] == ["area", "desk", "all"]
    machine.apply(ev.closure_end("all"), clock.now)
    assert machine.status().open_state is OpenState.PARTIALLY_CLOSED
    machine.apply(ev.closure_end("area"), clock.now)
    machine.apply(ev.closure_end("desk"), clock.now)
    status = machine.status()
    assert status.open_state is OpenState.OPEN
    assert status.closures == []


def test_expected_reopening_passing_without_end_is_overdue(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Past its expected reopening, with no end, the closure stays in force and is overdue."""
    reopening = clock.now + timedelta(hours=1)
    machine.apply(ev.closure("k1", reopening=reopening), clock.now)
    assert machine.next_wakeup() == reopening
    clock.set(reopening)
    assert machine.tick(clock.now) is True
    status = machine.status()
    assert status.open_state is OpenState.EXCEPTIONALLY_CLOSED
    assert status.closures[0].overdue is True
    machine.apply(ev.closure_end("k1"), clock.now)
    assert machine.status().open_state is OpenState.OPEN


def test_update_with_a_later_reopening_clears_overdue(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """An update pushing the reopening back makes an overdue closure on time again."""
    machine.apply(ev.closure("k1", reopening=clock.now + timedelta(minutes=30)), clock.now)
    clock.advance(minutes=45)
    machine.tick(clock.now)
    assert machine.status().closures[0].overdue is True
    machine.apply(
        ev.closure("k1", reopening=clock.now + timedelta(hours=2), updated=True), clock.now
    )
    closure = machine.status().closures[0]
    assert closure.overdue is False
    assert closure.expected_reopening_at == clock.now + timedelta(hours=2)


def test_announced_closure_takes_effect_at_its_start(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A closure declared for later is listed at once and closes the facility at its start."""
    starts = clock.now + timedelta(hours=2)
    machine.apply(ev.closure("k1", starts_at=starts, reason="strike"), clock.now)
    status = machine.status()
    assert status.open_state is OpenState.OPEN
    assert [c.closure_id for c in status.closures] == ["k1"]
    assert status.next_change_at == starts
    clock.set(starts)
    assert machine.tick(clock.now) is True
    assert machine.status().open_state is OpenState.EXCEPTIONALLY_CLOSED


def test_older_update_is_ignored(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """An update older than the last applied change of that closure does not apply."""
    declared = clock.now
    clock.advance(minutes=10)
    machine.apply(ev.closure("k1", scope=AREA, message="Nouveau message", at=clock.now), clock.now)
    seq = machine.seq
    stale_update = ev.closure("k1", scope=AREA, message="Ancien", updated=True, at=declared)
    assert machine.apply(stale_update, clock.now) is False
    assert machine.status().closures[0].message.fr == "Nouveau message"
    assert machine.seq == seq


def test_end_is_final(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A declaration or update arriving after the end does not bring the closure back."""
    declared_at = clock.now
    machine.apply(ev.closure("k1", at=declared_at), clock.now)
    clock.advance(minutes=5)
    machine.apply(ev.closure_end("k1"), clock.now)
    clock.advance(minutes=5)
    late_update = ev.closure("k1", updated=True, at=declared_at + timedelta(minutes=1))
    assert machine.apply(late_update, clock.now) is False
    assert machine.apply(ev.closure("k1", updated=True), clock.now) is False
    assert machine.status().closures == []
    assert machine.status().open_state is OpenState.OPEN


def test_end_before_declaration_wins(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """When ``.ended`` overtakes ``.declared``, the declaration arriving later is ignored."""
    declared_at = clock.now
    clock.advance(minutes=5)
    machine.apply(ev.closure_end("k1"), clock.now)
    machine.apply(ev.closure("k1", at=declared_at), clock.now)
    assert machine.status().closures == []


def test_area_closure_while_closed_stays_closed(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Outside opening hours a partial closure does not make the facility look open."""
    clock.set(clock.now.replace(hour=21))
    machine.tick(clock.now)
    machine.apply(ev.closure("k1", scope=AREA), clock.now)
    status = machine.status()
    assert status.open_state is OpenState.CLOSED
    assert len(status.closures) == 1
