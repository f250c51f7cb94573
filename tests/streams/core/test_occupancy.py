"""Occupancy: passages, headcounts, drift correction, daily reset, levels, trend, rollups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.clock import PARIS
from schemas.status import OccupancyLevel, Trend
from streams.core.machine import FacilityMachine, MachineConfig
from tests.streams.core.kit import Clock, Events, make_facility


def count(machine: FacilityMachine) -> int:
    occupancy = machine.status().occupancy
    assert occupancy is not None
    return occupancy.count


def test_no_occupancy_before_any_data(machine: FacilityMachine) -> None:
    """A facility that never sent a passage or headcount shows no occupancy figure."""
    assert machine.status().occupancy is None


def test_passages_in_and_out(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """People in add up, people out are taken away, whatever the gate."""
    machine.apply(ev.passage("in", 5, gate="north"), clock.now)
    machine.apply(ev.passage("in", 2, gate="south"), clock.now)
    machine.apply(ev.passage("out", 3, gate="north"), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None
    assert occupancy.count == 4
    assert occupancy.source == "turnstile"
    assert occupancy.capacity == 100
    assert occupancy.ratio == 0.04


def test_headcount_resets_the_count_and_later_passages_adjust_it(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A headcount replaces the passage count; passages after it move it again."""
    machine.apply(ev.passage("in", 30), clock.now)
    clock.advance(minutes=1)
    machine.apply(ev.headcount(12), clock.now)
    assert count(machine) == 12
    assert machine.status().occupancy.source == "sensor"  # type: ignore[union-attr]
    clock.advance(seconds=10)
    machine.apply(ev.passage("in", 2), clock.now)
    machine.apply(ev.passage("out", 1), clock.now)
    assert count(machine) == 13


def test_late_headcount_keeps_passages_that_happened_after_it(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A headcount arriving after passages newer than it still counts those passages."""
    measured = clock.now
    clock.advance(seconds=5)
    machine.apply(ev.passage("in", 3), clock.now)
    clock.advance(seconds=5)
    machine.apply(ev.headcount(20, at=measured), clock.now)
    assert count(machine) == 23


def test_passage_older_than_the_headcount_is_ignored(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A passage that happened before the applied headcount is already in it."""
    before = clock.now
    clock.advance(seconds=30)
    machine.apply(ev.headcount(20), clock.now)
    seq = machine.seq
    assert machine.apply(ev.passage("in", 5, at=before), clock.now) is False
    assert count(machine) == 20
    assert machine.seq == seq


def test_older_headcount_is_ignored(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A headcount measured before the current one does not replace it."""
    first = clock.now
    clock.advance(seconds=30)
    machine.apply(ev.headcount(40), clock.now)
    assert machine.apply(ev.headcount(10, at=first), clock.now) is False
    assert count(machine) == 40


def test_headcount_too_late_is_ignored(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """A headcount arriving more than 10 minutes after it was measured is ignored."""
    machine.apply(ev.passage("in", 8), clock.now)
    measured = clock.now
    clock.advance(minutes=11)
    machine.apply(ev.headcount(50, at=measured), clock.now)
    assert count(machine) == 8


def test_drifting_turnstile_never_shows_negative_people(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """441 more exits than entries show 0 swimmers, record the drift, and count again from 0."""
    machine.apply(ev.passage("in", 59), clock.now)
    for _ in range(50):
        machine.apply(ev.passage("out", 10), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None
    assert occupancy.count == 0
    assert occupancy.source == "estimate"
    assert machine.occupancy_drift == 441
    machine.apply(ev.passage("in", 7), clock.now)
    assert count(machine) == 7


def test_count_is_capped_at_one_and_a_half_capacity(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A turnstile counting in twice never shows more than 1.5 × capacity."""
    for _ in range(40):
        machine.apply(ev.passage("in", 10), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None
    assert occupancy.count == 150
    assert occupancy.level is OccupancyLevel.FULL
    assert machine.occupancy_drift == -250


def test_headcount_ends_the_estimate(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """After drift correction a headcount makes the figure measured again."""
    machine.apply(ev.passage("out", 5), clock.now)
    assert machine.status().occupancy.source == "estimate"  # type: ignore[union-attr]
    clock.advance(seconds=1)
    machine.apply(ev.headcount(9), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and (occupancy.count, occupancy.source) == (9, "sensor")
    assert machine.occupancy_drift == 0


def test_daily_reset_at_closing(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """At closing time the count goes back to 0 by itself, and the next morning starts at 0."""
    machine.apply(ev.passage("in", 12), clock.now)
    machine.apply(ev.passage("out", 3), clock.now)
    closing = datetime(2025, 6, 10, 20, 0, tzinfo=PARIS)
    clock.set(closing + timedelta(seconds=1))
    assert machine.tick(clock.now) is True
    assert count(machine) == 0
    # a passage from before closing that arrives late is yesterday's business
    machine.apply(ev.passage("in", 4, at=closing - timedelta(minutes=1)), clock.now)
    assert count(machine) == 0
    clock.set(datetime(2025, 6, 11, 9, 5, tzinfo=PARIS))
    machine.tick(clock.now)
    machine.apply(ev.passage("in", 2), clock.now)
    assert count(machine) == 2


def test_reset_happens_even_if_the_worker_was_away(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """An event processed the next morning first applies the missed overnight reset."""
    machine.apply(ev.passage("in", 12), clock.now)
    clock.set(datetime(2025, 6, 11, 9, 30, tzinfo=PARIS))
    machine.apply(ev.passage("in", 1), clock.now)
    assert count(machine) == 1


def test_fresh_machine_ignores_history_before_the_last_reset(ev: Events, clock: Clock) -> None:
    """Replaying yesterday's passages into a new machine does not add them to today."""
    fresh = FacilityMachine(make_facility())
    yesterday = clock.now - timedelta(days=1)
    fresh.apply(ev.passage("in", 30, at=yesterday), clock.now)
    fresh.apply(ev.passage("in", 2), clock.now)
    assert count(fresh) == 2


@pytest.mark.parametrize(
    ("people", "level"),
    [
        (0, OccupancyLevel.LOW),
        (49, OccupancyLevel.LOW),
        (50, OccupancyLevel.MODERATE),
        (79, OccupancyLevel.MODERATE),
        (80, OccupancyLevel.HIGH),
        (94, OccupancyLevel.HIGH),
        (95, OccupancyLevel.FULL),
        (120, OccupancyLevel.FULL),
    ],
)
def test_levels_follow_the_pool_thresholds(
    machine: FacilityMachine, ev: Events, clock: Clock, people: int, level: OccupancyLevel
) -> None:
    """A pool is moderate from 50 %, high from 80 % and full from 95 % of its capacity."""
    machine.apply(ev.headcount(people), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.level is level


def test_levels_use_the_facility_type(ev: Events, clock: Clock) -> None:
    """Social services are already full at 90 % (their own thresholds)."""
    desk = FacilityMachine(make_facility(type="social_services"))
    desk.apply(ev.headcount(90), clock.now)
    occupancy = desk.status().occupancy
    assert occupancy is not None and occupancy.level is OccupancyLevel.FULL


def test_level_thresholds_can_be_configured(ev: Events, clock: Clock) -> None:
    """A configured threshold set replaces the type's one."""
    strict = FacilityMachine(make_facility(), MachineConfig(level_thresholds=(0.1, 0.2, 0.3)))
    strict.apply(ev.headcount(25), clock.now)
    occupancy = strict.status().occupancy
    assert occupancy is not None and occupancy.level is OccupancyLevel.HIGH


def test_no_level_without_capacity(ev: Events, clock: Clock) -> None:
    """Without a known capacity the count is shown, with no ratio and no level."""
    hall = FacilityMachine(make_facility(capacity=None))
    hall.apply(ev.passage("in", 40), clock.now)
    occupancy = hall.status().occupancy
    assert occupancy is not None
    assert (occupancy.count, occupancy.ratio, occupancy.level) == (40, None, None)


def test_trend_rising_then_steady_then_falling(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Filling up reads rising, a plateau decays to steady with no event, emptying reads falling."""
    machine.apply(ev.passage("in", 10), clock.now)
    for _ in range(10):
        clock.advance(minutes=1)
        machine.apply(ev.passage("in", 3), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.trend is Trend.RISING
    # nothing happens for 20 minutes: the ticks alone bring the trend back to steady
    end = clock.now + timedelta(minutes=20)
    while (wake := machine.next_wakeup()) is not None and wake <= end:
        clock.set(wake)
        machine.tick(clock.now)
    clock.set(end)
    machine.tick(clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.trend is Trend.STEADY
    for _ in range(6):
        clock.advance(minutes=1)
        machine.apply(ev.passage("out", 5), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.trend is Trend.FALLING


def test_small_moves_are_steady(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Two people more than a quarter of an hour ago is not a trend for a 100-person pool."""
    machine.apply(ev.headcount(40), clock.now)
    clock.advance(minutes=16)
    machine.tick(clock.now)
    machine.apply(ev.passage("in", 2), clock.now)
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.trend is Trend.STEADY


def test_minute_rollups(machine: FacilityMachine, ev: Events, clock: Clock) -> None:
    """Each touched minute gives one figure: entries, exits, min, max, last and mean count."""
    minute = clock.now.astimezone(UTC)
    machine.apply(ev.passage("in", 10), clock.now)
    clock.advance(seconds=30)
    machine.apply(ev.passage("out", 4), clock.now)
    partial = machine.minute_rollup(minute)
    assert partial is not None and partial.count_last == 6
    clock.advance(seconds=45)
    machine.tick(clock.now)
    figures = machine.drain_rollups()
    assert len(figures) == 1
    figure = figures[0]
    assert figure.bucket == minute
    assert (figure.passages_in, figure.passages_out) == (10, 4)
    assert (figure.count_min, figure.count_max, figure.count_last) == (0, 10, 6)
    assert figure.count_avg == pytest.approx(8.0)  # 10 for 30 s, then 6 for 30 s
    assert machine.drain_rollups() == []


def test_open_minute_asks_for_a_tick_at_its_end(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A minute with passages is closed by a tick even if no other event comes."""
    machine.apply(ev.passage("in", 1), clock.now.replace(second=20))
    assert machine.next_wakeup() == clock.now.replace(second=0) + timedelta(minutes=1)


def test_a_headcount_from_the_future_never_hides_later_headcounts(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A headcount dated 2999 is taken as measured now: the next headcount replaces it."""
    machine.apply(ev.headcount(50, at=datetime(2999, 1, 1, 12, tzinfo=UTC)), clock.now)
    assert count(machine) == 50
    occupancy = machine.status().occupancy
    assert occupancy is not None and occupancy.measured_at <= clock.now
    clock.advance(seconds=30)
    machine.apply(ev.headcount(7), clock.now)
    assert count(machine) == 7


def test_a_passage_from_the_future_is_not_added_to_every_later_headcount(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A passage dated 2999 counts once, as seen now; headcounts after it are shown as measured."""
    machine.apply(ev.passage("in", 5, at=datetime(2999, 1, 1, 12, tzinfo=UTC)), clock.now)
    clock.advance(seconds=30)
    machine.apply(ev.headcount(7), clock.now)
    assert count(machine) == 7
    clock.advance(seconds=30)
    machine.apply(ev.headcount(9), clock.now)
    assert count(machine) == 9
