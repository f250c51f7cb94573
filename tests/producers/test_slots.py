"""Appointment slots of the simulated booking systems: only ever inside opening hours."""

from __future__ import annotations

import datetime as dt
import random

from producers.simulation import booking
from producers.simulation.config import SimulatorConfig
from producers.simulation.context import Context
from producers.simulation.state import FacilityState, opening_hours
from producers.simulator import Simulation
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType
from schemas.hours import OpeningHours, schedule_state
from schemas.hours.model import WeeklyHours

WEEK_START = dt.datetime(2026, 12, 21, 0, 0, tzinfo=PARIS)  # Christmas and Boxing Day included
OPEN_STATES = ("open", "closing_soon")


def _inside_hours(hours: OpeningHours, start: dt.datetime) -> bool:
    """The whole appointment (start to start + 15 min) is inside one opening period."""
    last_minute = start + dt.timedelta(minutes=booking.SLOT_MINUTES - 1)
    return all(schedule_state(hours, at).open_state in OPEN_STATES for at in (start, last_minute))


def _booking_state(facility: Facility, rng: random.Random) -> FacilityState:
    return FacilityState(
        facility=facility,
        hours=opening_hours(facility),
        capacity=facility.capacity or 100,
        has_sensor=False,
        gates=(),
        queues=[],
        slots=booking.new_slots(rng, facility),
        procedures=[],
    )


def _slot_times(events: list[CloudEvent]) -> list[tuple[str, str, dt.datetime | None]]:
    return [
        (e.subject, e.data.service_id, e.data.next_available_at)  # type: ignore[attr-defined]
        for e in events
        if e.type == EventType.SLOTS_PUBLISHED
    ]


def test_a_week_of_every_booking_system_offers_slots_only_inside_opening_hours() -> None:
    """Every bookable service of the whole catalogue, its availability moved every 15 minutes for
    a simulated week (as the simulator does): 0 slots on a closed day or outside the hours."""
    rng = random.Random(3)
    ctx = Context(rng, SimulatorConfig(seed=3))
    states = [
        _booking_state(f, rng) for f in load_catalogue() if any(s.bookable for s in f.services)
    ]
    events: list[CloudEvent] = []
    for state in states:
        for slots in state.slots:
            booking.publish_slots(ctx, state, slots, WEEK_START, WEEK_START, events)
    now = WEEK_START
    while now < WEEK_START + dt.timedelta(days=7):
        for state in states:
            for slots in state.slots:
                booking.move_slots(ctx, state, slots, now, now.astimezone(PARIS), events)
        now += dt.timedelta(minutes=15)
    published = _slot_times(events)
    hours = {s.facility.id: s.hours for s in states}
    outside = [
        (fid, service, at.isoformat())
        for fid, service, at in published
        if at is None or not _inside_hours(hours[fid], at)
    ]
    print(f"{len(published)} slots published by {len(states)} facilities, {len(outside)} outside")
    assert len(published) > 10 * len(states)
    assert outside == []


def test_the_simulators_first_slots_fall_inside_opening_hours() -> None:
    """The availability every booking system publishes when the simulator starts — on a Saturday
    evening, so a naive "in N days at 09:00–16:15" would land on Sundays and evenings."""
    start = dt.datetime(2026, 6, 6, 20, 0, tzinfo=PARIS)
    catalogue = list(load_catalogue())
    hours = {f.id: opening_hours(f) for f in catalogue}
    published = _slot_times(Simulation(catalogue, start).step())
    services = {(fid, svc) for fid, svc, _at in published}
    assert len(services) == sum(s.bookable for f in catalogue for s in f.services)
    outside = [
        (fid, svc) for fid, svc, at in published if at is None or not _inside_hours(hours[fid], at)
    ]
    assert outside == []


def test_next_slot_skips_closed_days_and_leaves_room_before_closing() -> None:
    """From a Saturday at 12:20 with Saturday hours 09:00–12:30 and Sunday closed, the next slot
    is Monday at the opening: 12:30 leaves no room for a 15-minute appointment."""
    weekly = {day: [("08:30", "17:00")] for day in ("mon", "tue", "wed", "thu", "fri")}
    hours = OpeningHours(weekly=WeeklyHours.model_validate({**weekly, "sat": [("09:00", "12:30")]}))
    saturday = dt.datetime(2026, 6, 6, 12, 20, tzinfo=PARIS)
    assert booking.next_slot(hours, saturday) == dt.datetime(2026, 6, 8, 8, 30, tzinfo=PARIS)
    assert booking.next_slot(hours, saturday.replace(hour=9, minute=1)) == saturday.replace(
        hour=9, minute=15
    )


def test_a_facility_that_never_opens_offers_no_slot() -> None:
    """No opening within the search horizon: no appointment time is made up."""
    hours = OpeningHours(weekly=WeeklyHours.model_validate({}))
    assert booking.next_slot(hours, WEEK_START) is None
