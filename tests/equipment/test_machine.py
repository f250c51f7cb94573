"""Live accessibility in the facility state machine: equipment outages, step-free access,
overdue returns, ordering, snapshots — and the catalogue's equipment list it rests on."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from schemas.catalogue import load_catalogue
from schemas.equipment import equipment_of
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent, EventType, make_event
from schemas.provenance import SourceRef
from schemas.status import StepFreeAccess
from streams.core.machine import FacilityMachine, MachineConfig
from tests.streams.core.kit import FACILITY_ID, Clock, make_facility

WITH_LIFT = ["wheelchair_accessible", "elevator", "accessible_toilets"]


def report(
    clock: Clock,
    status: str,
    *,
    equipment_id: str = "lift",
    kind: str = "lift",
    back: datetime | None = None,
    at: datetime | None = None,
    id: str | None = None,
    fr: str = "Ascenseur hors service.",
) -> CloudEvent:
    data: dict[str, Any] = {
        "equipment_id": equipment_id,
        "kind": kind,
        "status": status,
        "message": {"fr": fr, "en": "Lift out of order."},
        "expected_back_at": back,
        "declared_by": "agent",
    }
    return make_event(
        EventType.EQUIPMENT_STATUS_CHANGED,
        FACILITY_ID,
        data,
        source=f"/agents/{FACILITY_ID}",
        time=at or clock.now,
        id=id,
    )


@pytest.fixture
def clock() -> Clock:
    """A fake clock at Tuesday 10 June 2025, 10:00 Paris time."""
    return Clock()


@pytest.fixture
def lifted(clock: Clock) -> FacilityMachine:
    """A step-free test pool with a lift (estimated profile) and accessible toilets."""
    machine = FacilityMachine(make_facility(accessibility=WITH_LIFT), MachineConfig())
    machine.tick(clock.now)
    return machine


def lift(machine: FacilityMachine) -> Any:
    return next(e for e in machine.status().accessibility.equipment if e.equipment_id == "lift")


def test_every_listed_equipment_is_shown_in_service_before_any_report(
    lifted: FacilityMachine,
) -> None:
    """Before any report, the lift and the toilets are listed, in service, never reported."""
    access = lifted.status().accessibility
    assert [(e.equipment_id, e.status.value, e.since) for e in access.equipment] == [
        ("lift", "in_service", None),
        ("accessible-toilet", "in_service", None),
    ]
    assert access.step_free_access is StepFreeAccess.YES
    assert access.estimated is True  # no dataset names the test pool's accessibility


def test_a_broken_lift_on_the_only_step_free_route_means_no_step_free_access(
    lifted: FacilityMachine, clock: Clock
) -> None:
    """Lift out of service → step_free_access no, with since, message and expected return."""
    back = clock.now + timedelta(hours=20)
    seq = lifted.seq
    assert lifted.apply(report(clock, "out_of_service", back=back), clock.now) is True
    assert lifted.seq == seq + 1
    status = lifted.status()
    assert status.accessibility.step_free_access is StepFreeAccess.NO
    item = lift(lifted)
    assert item.status.value == "out_of_service"
    assert item.since == clock.now
    assert item.expected_back_at == back
    assert item.message is not None and item.message.fr == "Ascenseur hors service."
    assert item.estimated is True


def test_a_degraded_lift_still_carries_people(lifted: FacilityMachine, clock: Clock) -> None:
    """A degraded lift (slow, one door) keeps step-free access."""
    lifted.apply(report(clock, "degraded"), clock.now)
    assert lift(lifted).status.value == "degraded"
    assert lifted.status().accessibility.step_free_access is StepFreeAccess.YES


def test_broken_toilets_do_not_block_the_way_in(lifted: FacilityMachine, clock: Clock) -> None:
    """Equipment off the step-free route never makes step-free access no."""
    lifted.apply(
        report(clock, "out_of_service", equipment_id="accessible-toilet", kind="accessible_toilet"),
        clock.now,
    )
    assert lifted.status().accessibility.step_free_access is StepFreeAccess.YES


def test_back_in_service_restores_access_and_forgets_the_words(
    lifted: FacilityMachine, clock: Clock
) -> None:
    """in_service ends the outage: step-free again, no message, since = the return."""
    lifted.apply(report(clock, "out_of_service"), clock.now)
    back_at = clock.advance(hours=2)
    assert lifted.apply(report(clock, "in_service"), back_at) is True
    item = lift(lifted)
    assert (item.status.value, item.message, item.since) == ("in_service", None, back_at)
    assert lifted.status().accessibility.step_free_access is StepFreeAccess.YES


def test_an_update_keeps_the_start_of_the_outage(lifted: FacilityMachine, clock: Clock) -> None:
    """A new expected return does not restart « hors service depuis »."""
    start = clock.now
    lifted.apply(report(clock, "out_of_service"), clock.now)
    clock.advance(minutes=30)
    later = clock.now + timedelta(days=1)
    assert lifted.apply(report(clock, "out_of_service", back=later), clock.now) is True
    assert (lift(lifted).since, lift(lifted).expected_back_at) == (start, later)


def test_expected_return_passing_makes_the_outage_overdue(
    lifted: FacilityMachine, clock: Clock
) -> None:
    """No return by expected_back_at → overdue, by the timer alone (no event)."""
    back = clock.now + timedelta(hours=1)
    lifted.apply(report(clock, "out_of_service", back=back), clock.now)
    assert lifted.next_wakeup() is not None and lifted.next_wakeup() <= back  # type: ignore[operator]
    assert lifted.tick(back + timedelta(seconds=1)) is True
    assert lift(lifted).overdue is True


def test_a_late_older_report_changes_nothing(lifted: FacilityMachine, clock: Clock) -> None:
    """The latest report (by event time) wins; an older one arriving late is ignored."""
    earlier = clock.now - timedelta(minutes=5)
    lifted.apply(report(clock, "out_of_service"), clock.now)
    seq = lifted.seq
    assert lifted.apply(report(clock, "in_service", at=earlier), clock.now) is False
    assert (lifted.seq, lift(lifted).status.value) == (seq, "out_of_service")


def test_the_same_event_twice_changes_nothing(lifted: FacilityMachine, clock: Clock) -> None:
    """A redelivered event (same id) is a duplicate."""
    event = report(clock, "out_of_service", id="e-1")
    assert lifted.apply(event, clock.now) is True
    assert lifted.apply(event, clock.now) is False


def test_unknown_equipment_or_wrong_kind_is_refused(lifted: FacilityMachine, clock: Clock) -> None:
    """An equipment the facility does not list, or the wrong kind, is refused naming it."""
    with pytest.raises(InvalidEvent) as unknown:
        lifted.apply(report(clock, "out_of_service", equipment_id="lift-9"), clock.now)
    assert unknown.value.reason == "unknown_equipment" and "lift-9" in unknown.value.message
    with pytest.raises(InvalidEvent) as kind:
        lifted.apply(report(clock, "out_of_service", kind="escalator"), clock.now)
    assert "escalator" in kind.value.message


def test_without_a_step_free_baseline_access_stays_unknown(clock: Clock) -> None:
    """A facility the data does not say is step-free reads unknown, never yes."""
    machine = FacilityMachine(make_facility(accessibility=["elevator"]), MachineConfig())
    machine.tick(clock.now)
    assert machine.status().accessibility.step_free_access is StepFreeAccess.UNKNOWN
    machine.apply(report(clock, "out_of_service"), clock.now)
    assert machine.status().accessibility.step_free_access is StepFreeAccess.UNKNOWN


def test_snapshot_round_trip_keeps_the_outage(lifted: FacilityMachine, clock: Clock) -> None:
    """A restored machine shows the same outage and makes it overdue at the same time."""
    back = clock.now + timedelta(hours=1)
    lifted.apply(report(clock, "out_of_service", back=back), clock.now)
    snap = lifted.to_snapshot()
    restored = FacilityMachine.from_snapshot(lifted.facility, snap, MachineConfig())
    assert restored.to_snapshot() == snap
    assert restored.tick(back + timedelta(seconds=1)) is True
    assert lift(restored).overdue is True


def test_catalogue_equipment_carries_its_source() -> None:
    """Equipment from Data ES features names its dataset row; a typical profile is estimated."""
    catalogue = load_catalogue()
    sourced = [e for f in catalogue for e in equipment_of(f) if isinstance(e.source, SourceRef)]
    assert sourced and all(e.source.dataset == "data-es" for e in sourced)  # type: ignore[union-attr]
    lifts = [e for f in catalogue for e in equipment_of(f) if e.kind == "lift"]
    assert lifts and all(e.source == "estimated" for e in lifts)
