"""The change and ordering policy: seq moves by one on visible changes only; ties are stable."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import EventType, make_event
from streams.core.errors import WrongFacility
from streams.core.machine import FacilityMachine
from tests.streams.core.kit import Clock, Events, make_facility


def test_seq_grows_by_exactly_one_per_change(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Each applied change adds one to seq, even when a timer fired in the same call."""
    machine.apply(ev.passage("in", 2), clock.now)
    seq = machine.seq
    clock.advance(hours=9, minutes=31)  # past closing soon, closing and the daily reset
    assert machine.apply(ev.passage("in", 1), clock.now) is True
    assert machine.seq == seq + 1
    assert machine.status().seq == seq + 1


def test_same_headcount_again_is_not_a_change(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """A headcount confirming the current count only refreshes timestamps: seq stays."""
    machine.apply(ev.headcount(30), clock.now)
    seq, status = machine.seq, machine.status()
    clock.advance(seconds=30)
    assert machine.apply(ev.headcount(30), clock.now) is False
    assert machine.seq == seq
    assert machine.status() == status  # same seq, same content


def test_refreshed_timestamps_show_with_the_next_change(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """last_data_at moved by a no-change event is published with the next real change."""
    machine.apply(ev.headcount(30), clock.now)
    clock.advance(minutes=2)
    machine.apply(ev.headcount(30), clock.now)
    clock.advance(minutes=1)
    machine.apply(ev.passage("in", 1), clock.now)
    status = machine.status()
    assert status.last_data_at == clock.now
    assert status.updated_at == clock.now


def test_exits_at_zero_change_nothing_after_the_first(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """Once the count sits at 0 as an estimate, more exits are not a visible change."""
    machine.apply(ev.passage("out", 1), clock.now)  # turnstile → estimate: visible
    seq = machine.seq
    assert machine.apply(ev.passage("out", 1), clock.now) is False
    assert machine.seq == seq


def test_feedback_events_do_not_touch_the_status(machine: FacilityMachine, clock: Clock) -> None:
    """A satisfaction survey is not part of the live status."""
    survey = make_event(
        EventType.SURVEY_SUBMITTED,
        "piscine-test",
        {"response_id": "r1", "channel": "web", "rating": 4},
        source="/test",
        time=clock.now,
    )
    seq = machine.seq
    assert machine.apply(survey, clock.now) is False
    assert machine.seq == seq


def test_event_of_another_facility_is_refused(machine: FacilityMachine, clock: Clock) -> None:
    """An event whose subject is another facility raises WrongFacility."""
    other = Events(clock, facility_id="mairie-15")
    with pytest.raises(WrongFacility):
        machine.apply(other.passage("in", 1), clock.now)


def test_slots_tie_is_broken_by_event_id(ev: Events, clock: Clock) -> None:
    """Two publications with the same time give the same winner whatever the arrival order."""
    at = clock.now
    first = ev.slots(clock.now + timedelta(days=1), at=at, id="slots-a")
    second = ev.slots(clock.now + timedelta(days=4), at=at, id="slots-b")
    results = []
    for order in ((first, second), (second, first)):
        machine = FacilityMachine(make_facility())
        for event in order:
            machine.apply(event, clock.now)
        results.append(machine.status().appointments[0].delay_days)
    assert results == [4.0, 4.0]


def test_closure_update_with_the_same_time_applies_in_arrival_order(
    machine: FacilityMachine, ev: Events, clock: Clock
) -> None:
    """An update stamped like the declaration still applies (the later arrival wins)."""
    at = clock.now
    machine.apply(ev.closure("k1", message="Panne", at=at), clock.now)
    machine.apply(ev.closure("k1", message="Panne réparée à 14 h", updated=True, at=at), clock.now)
    assert machine.status().closures[0].message.fr == "Panne réparée à 14 h"


def test_passage_order_does_not_change_the_sum(ev: Events, clock: Clock) -> None:
    """The same passages in two arrival orders give the same count (away from 0)."""
    events = [ev.passage("in", 10), ev.passage("out", 3), ev.passage("in", 4)]
    counts = []
    for order in (events, list(reversed(events))):
        machine = FacilityMachine(make_facility())
        for event in order:
            machine.apply(event, clock.now)
        occupancy = machine.status().occupancy
        assert occupancy is not None
        counts.append(occupancy.count)
    assert counts == [11, 11]


def test_the_time_window_refuses_the_far_future_and_what_is_older_than_the_retention() -> None:
    """An event more than 1 h ahead or older than the retention is outside; the edges are inside."""
    from streams.core.policy import TimeWindow

    window = TimeWindow(max_future=3600.0, max_age=7 * 86_400.0)
    now = datetime(2026, 6, 1, 12, tzinfo=UTC).timestamp()
    assert window.refusal(now, now) is None
    assert window.refusal(now + 3600.0, now) is None
    assert window.refusal(now - 7 * 86_400.0, now) is None
    assert "skew" in (window.refusal(now + 3601.0, now) or "")
    assert "retention" in (window.refusal(now - 7 * 86_400.0 - 1, now) or "")
    far = datetime(2999, 1, 1, tzinfo=UTC).timestamp()
    assert window.refusal(far, now) is not None
    assert TimeWindow(max_age=None).refusal(0.0, now) is None


def test_a_replayed_record_is_judged_at_its_kafka_timestamp() -> None:
    """The reference is the worker's clock, or the record's timestamp when that is earlier."""
    from streams.core.policy import reference_instant

    now = 1_800_000_000.0
    assert reference_instant(now, None) == now
    assert reference_instant(now, 0) == now
    assert reference_instant(now, int((now - 86_400) * 1000)) == now - 86_400
    assert reference_instant(now, int((now + 86_400) * 1000)) == now  # a lying producer clock
