"""Schedule: open state moves with the clock alone; staleness knows the schedule; daily resets."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.hours import OpeningHours
from schemas.status import OpenState
from streams.core.machine import FacilityMachine
from streams.core.schedule import next_reset_after, reset_on
from tests.streams.core.kit import Clock, Events, make_facility


def hours(weekly: dict[str, list[list[str]]]) -> OpeningHours:
    week = {day: weekly.get(day, []) for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    return OpeningHours.model_validate({"weekly": week, "public_holidays": "open"})


def test_open_closing_soon_closed_with_no_event(machine: FacilityMachine, clock: Clock) -> None:
    """At 19:30 the pool is closing soon and at 20:00 closed, only by ticks at the announced times."""
    assert machine.status().open_state is OpenState.OPEN
    closing_soon = datetime(2025, 6, 10, 19, 30, tzinfo=PARIS)
    assert machine.next_wakeup() == closing_soon
    assert machine.status().next_change_at == closing_soon
    seq = machine.seq
    clock.set(closing_soon)
    assert machine.tick(clock.now) is True
    assert machine.status().open_state is OpenState.CLOSING_SOON
    assert machine.seq == seq + 1
    closing = datetime(2025, 6, 10, 20, 0, tzinfo=PARIS)
    assert machine.next_wakeup() == closing
    clock.set(closing)
    assert machine.tick(clock.now) is True
    status = machine.status()
    assert status.open_state is OpenState.CLOSED
    assert status.next_change_at == datetime(2025, 6, 11, 9, 0, tzinfo=PARIS)


def test_tick_before_anything_is_due_changes_nothing(
    machine: FacilityMachine, clock: Clock
) -> None:
    """An early tick leaves seq alone."""
    seq = machine.seq
    assert machine.tick(clock.advance(minutes=5)) is False
    assert machine.seq == seq


def test_status_before_the_first_clock_is_unknown(facility: Facility) -> None:
    """A machine that has not seen the clock yet says it does not know (seq 0)."""
    fresh = FacilityMachine(facility)
    status = fresh.status()
    assert (status.open_state, status.seq) == (OpenState.UNKNOWN, 0)


def test_today_hours_follow_the_date(ev: Events, clock: Clock) -> None:
    """Today's hours change at Paris midnight even if the open state does not."""
    weekly = {day: [["09:00", "20:00"]] for day in ("mon", "tue", "thu", "fri", "sat", "sun")}
    weekly["wed"] = [["10:00", "12:00"]]
    machine = FacilityMachine(make_facility(hours={"weekly": weekly, "public_holidays": "open"}))
    clock.set(datetime(2025, 6, 10, 22, 0, tzinfo=PARIS))
    machine.tick(clock.now)
    assert [(h.opens, h.closes) for h in machine.status().today_hours] == [("09:00", "20:00")]
    midnight = datetime(2025, 6, 11, 0, 0, tzinfo=PARIS)
    assert machine.next_wakeup() == midnight
    clock.set(midnight)
    assert machine.tick(clock.now) is True
    assert [(h.opens, h.closes) for h in machine.status().today_hours] == [("10:00", "12:00")]


def test_open_facility_without_data_becomes_stale(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """15 minutes without sensor data while open make the status stale; new data ends it."""
    machine.apply(ev.passage("in", 3), clock.now)
    assert machine.status().stale is False
    clock.advance(minutes=14)
    machine.tick(clock.now)
    assert machine.status().stale is False
    clock.advance(minutes=1)
    assert machine.tick(clock.now) is True
    assert machine.status().stale is True
    seq = machine.seq
    assert machine.apply(ev.passage("in", 0 + 1), clock.now) is True
    assert machine.seq == seq + 1
    assert machine.status().stale is False
    assert machine.status().last_data_at == clock.now


def test_stale_is_found_by_ticks_alone(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Following next_wakeup is enough to turn an open, silent facility stale."""
    machine.apply(ev.passage("in", 3), clock.now)
    target = clock.now + timedelta(minutes=16)
    while (wake := machine.next_wakeup()) is not None and wake <= target:
        clock.set(wake)
        machine.tick(clock.now)
    assert machine.status().stale is True


def test_closed_facility_is_never_stale(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """After closing, hours without data are normal: not stale."""
    clock.set(datetime(2025, 6, 10, 19, 50, tzinfo=PARIS))
    machine.apply(ev.passage("in", 1), clock.now)
    clock.set(datetime(2025, 6, 10, 23, 0, tzinfo=PARIS))
    machine.tick(clock.now)
    status = machine.status()
    assert status.open_state is OpenState.CLOSED
    assert status.stale is False


def test_staleness_counts_from_the_opening(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """At opening the silence of the night does not count: stale only 15 minutes later."""
    machine.apply(ev.passage("in", 1), clock.now)
    opening = datetime(2025, 6, 11, 9, 0, tzinfo=PARIS)
    while (wake := machine.next_wakeup()) is not None and wake <= opening + timedelta(minutes=10):
        clock.set(wake)
        machine.tick(clock.now)
    assert machine.status().open_state is OpenState.OPEN
    assert machine.status().stale is False
    clock.set(opening + timedelta(minutes=15))
    machine.tick(clock.now)
    assert machine.status().stale is True


def test_facility_without_live_data_is_not_stale(machine: FacilityMachine, clock: Clock) -> None:
    """A facility that never sends sensor data (no sensors) is never called stale."""
    clock.advance(hours=2)
    machine.tick(clock.now)
    assert machine.status().stale is False


def test_reset_at_the_last_closing_of_the_day() -> None:
    """With a lunch break the reset is at the evening closing, not at noon."""
    week = hours({"tue": [["09:00", "12:00"], ["14:00", "18:00"]]})
    assert reset_on(week, date(2025, 6, 10)) == datetime(2025, 6, 10, 18, 0, tzinfo=PARIS)
    noon = datetime(2025, 6, 10, 12, 30, tzinfo=PARIS)
    assert next_reset_after(week, noon) == datetime(2025, 6, 10, 18, 0, tzinfo=PARIS)


def test_reset_at_midnight_on_a_closed_day() -> None:
    """A day without opening resets at the following midnight."""
    week = hours({"tue": [["09:00", "12:00"]]})
    assert reset_on(week, date(2025, 6, 11)) == datetime(2025, 6, 12, 0, 0, tzinfo=PARIS)


def test_no_reset_inside_a_continuous_opening() -> None:
    """A 24:00 closing followed by a 00:00 opening is one opening: no reset in between."""
    week = hours({"tue": [["08:00", "24:00"]], "wed": [["00:00", "02:00"]]})
    assert reset_on(week, date(2025, 6, 10)) is None
    assert reset_on(week, date(2025, 6, 11)) == datetime(2025, 6, 11, 2, 0, tzinfo=PARIS)
