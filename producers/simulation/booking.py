"""Booking systems: ``slots.published`` when a bookable service's availability changes.

The next-appointment delay wanders within a range per service — multi-week delays for identity
documents, days elsewhere — and a booking system publishes changes only. An appointment is only
ever offered inside the facility's opening hours (the services have no hours of their own): the
delay gives the earliest instant, :func:`next_slot` the first quarter hour from then on that fits a
whole appointment inside an opening period of the schedule engine.
"""

from __future__ import annotations

import datetime as dt
import random

from producers.simulation.context import Context
from producers.simulation.state import FacilityState, Slots
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType
from schemas.hours import OpeningHours, periods_on

BASE_DELAY_DAYS: dict[str, tuple[float, float]] = {
    "identity-documents": (21, 56),  # passports and ID cards: weeks
    "civil-status": (3, 12),
    "housing": (7, 21),
}
"""Range of the next-appointment delay of a bookable service (default 0.5–6 days)."""

SLOT_MINUTES = 15
"""Length of an appointment: slots start on a quarter hour and end before closing."""
SEARCH_DAYS = 92
"""How far past the earliest instant a slot is looked for (a facility closed for a whole season
has no slot to offer: ``next_available_at`` is then null)."""


def new_slots(rng: random.Random, facility: Facility) -> list[Slots]:
    """The initial availability of each bookable service of the facility, in catalogue order."""
    slots = []
    for service in facility.services:
        if not service.bookable:
            continue
        low, high = BASE_DELAY_DAYS.get(service.service_id, (0.5, 6.0))
        delay = rng.uniform(low, high)
        slots.append(Slots(service.service_id, delay, low, high, _free_slots(rng, delay)))
    return slots


def _free_slots(rng: random.Random, delay_days: float) -> int:
    return 0 if delay_days > 7 else rng.randint(1, 40)


def move_slots(
    ctx: Context,
    state: FacilityState,
    slots: Slots,
    now: dt.datetime,
    local: dt.datetime,
    out: list[CloudEvent],
) -> None:
    """Sometimes move the delay and the free slots of the week, and publish if that changed."""
    rng = ctx.rng
    if rng.random() > 0.3:
        return
    span = slots.high - slots.low
    slots.delay_days = min(slots.high, max(slots.low, slots.delay_days + rng.gauss(0, span * 0.05)))
    if slots.delay_days <= 7:
        slots.free_7d = max(0, slots.free_7d + rng.randint(-3, 3))
    else:
        slots.free_7d = 0
    publish_slots(ctx, state, slots, now, local, out)


def publish_slots(
    ctx: Context,
    state: FacilityState,
    slots: Slots,
    now: dt.datetime,
    local: dt.datetime,
    out: list[CloudEvent],
) -> None:
    """A ``slots.published`` event, unless the availability is the one last published."""
    day = local.date() + dt.timedelta(days=max(1, round(slots.delay_days)))
    quarter = 36 + int(slots.delay_days * 97) % 30  # 09:00 .. 16:15, stable for a delay
    earliest = dt.datetime.combine(day, dt.time(quarter // 4, 15 * (quarter % 4)), tzinfo=PARIS)
    next_at = next_slot(state.hours, earliest)
    published = (None if next_at is None else next_at.isoformat(), slots.free_7d)
    if published == slots.published:
        return  # a booking system publishes changes only
    slots.published = published
    data = {
        "service_id": slots.service_id,
        "next_available_at": next_at,
        "free_slots_7d": slots.free_7d,
    }
    source = f"/booking/{state.facility.id}/{slots.service_id}"
    out.append(ctx.event(EventType.SLOTS_PUBLISHED, state, data, source, now))


def next_slot(hours: OpeningHours, earliest: dt.datetime) -> dt.datetime | None:
    """The first appointment start at or after ``earliest``: on a quarter hour, Paris time, with
    the whole appointment (:data:`SLOT_MINUTES`) inside one opening period; None when the
    facility does not open within :data:`SEARCH_DAYS`."""
    local = earliest.astimezone(PARIS)
    day, from_minute = local.date(), local.hour * 60 + local.minute + (local.second > 0)
    for _ in range(SEARCH_DAYS):
        for period in periods_on(hours, day):
            start = _quarter_up(max(period.opens_minutes, from_minute))
            if start + SLOT_MINUTES <= period.closes_minutes:
                wall = dt.time(start // 60, start % 60)
                return dt.datetime.combine(day, wall, tzinfo=PARIS)
        day, from_minute = day + dt.timedelta(days=1), 0
    return None


def _quarter_up(minute: int) -> int:
    return -(-minute // SLOT_MINUTES) * SLOT_MINUTES
