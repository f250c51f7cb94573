"""The pure Paris simulator: deterministic, realistic, and never contradicting the schedule."""

from __future__ import annotations

import datetime as dt
import itertools
from collections import defaultdict

import pytest

from producers.patterns import Scenario, day_kind, interpolate, target_ratio
from producers.simulation.config import SimulatorConfig
from producers.simulation.state import opening_hours
from producers.simulator import Simulation, simulate
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.events import ClosureReason, CloudEvent, EventType
from schemas.hours import ClosureWindow, schedule_state

TUESDAY = dt.date(2026, 6, 2)
SATURDAY = dt.date(2026, 6, 6)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def _facilities(kind: str | None = None, limit: int | None = None) -> list[Facility]:
    found = [f for f in load_catalogue() if kind is None or f.type == kind]
    return found[:limit] if limit else found


def _mixed(per_type: int) -> list[Facility]:
    by_type: dict[str, list[Facility]] = defaultdict(list)
    for facility in load_catalogue():
        by_type[facility.type].append(facility)
    return [f for facilities in by_type.values() for f in facilities[:per_type]]


def _fingerprint(events: list[CloudEvent]) -> list[bytes]:
    return [event.to_json() for event in events]


def _people_in(events: list[CloudEvent], start: dt.datetime, end: dt.datetime) -> int:
    return sum(
        e.data.count  # type: ignore[attr-defined]
        for e in events
        if e.type == EventType.PASSAGE_COUNTED
        and e.data.direction == "in"  # type: ignore[attr-defined]
        and start <= e.time < end
    )


def test_same_seed_same_events_other_seed_other_events() -> None:
    """A seed fixes every event, ids included; another seed gives another day."""
    facilities = _mixed(3)
    window = (_at(TUESDAY, 9), _at(TUESDAY, 11))
    first = list(simulate(facilities, *window, SimulatorConfig(seed=7)))
    again = list(simulate(facilities, *window, SimulatorConfig(seed=7)))
    other = list(simulate(facilities, *window, SimulatorConfig(seed=8)))
    assert len(first) > 500
    assert _fingerprint(first) == _fingerprint(again)
    assert _fingerprint(first) != _fingerprint(other)


def test_events_come_in_time_order_after_the_backlog() -> None:
    """After the start-up backlog (past case openings), events are in time order."""
    start = _at(TUESDAY, 8)
    events = list(simulate(_mixed(2), start, _at(TUESDAY, 10), SimulatorConfig(seed=1)))
    live = [e.time for e in events if e.time >= start]
    assert live == sorted(live)
    assert all(start <= t < _at(TUESDAY, 10) + dt.timedelta(minutes=10) for t in live)


def _closure_windows(events: list[CloudEvent]) -> dict[str, list[ClosureWindow]]:
    """Facility-scope closure windows per facility, as the events describe them."""
    starts: dict[str, tuple[str, dt.datetime, dt.datetime | None]] = {}
    ends: dict[str, dt.datetime] = {}
    for event in events:
        data = event.data
        if event.type in (EventType.CLOSURE_DECLARED, EventType.CLOSURE_UPDATED):
            if data.scope.kind == "facility":  # type: ignore[attr-defined]
                starts[data.closure_id] = (  # type: ignore[attr-defined]
                    event.subject,
                    data.starts_at,  # type: ignore[attr-defined]
                    data.expected_reopening_at,  # type: ignore[attr-defined]
                )
        elif event.type == EventType.CLOSURE_ENDED:
            ends[data.closure_id] = event.time  # type: ignore[attr-defined]
    windows: dict[str, list[ClosureWindow]] = defaultdict(list)
    for closure_id, (facility, starts_at, expected) in starts.items():
        windows[facility].append(
            ClosureWindow(starts_at, ends.get(closure_id, expected), "facility")
        )
    return windows


def test_no_passage_while_closed_by_schedule_or_closure() -> None:
    """Every passage happens while the schedule engine says the facility is open."""
    facilities = _mixed(4)
    config = SimulatorConfig(seed=3, closures_per_open_hour=0.08)
    events = list(simulate(facilities, _at(TUESDAY, 0), _at(TUESDAY + dt.timedelta(1), 0), config))
    windows = _closure_windows(events)
    assert sum(len(w) for w in windows.values()) >= 5, "the test needs facility closures"
    hours = {f.id: opening_hours(f) for f in facilities}
    passages = [e for e in events if e.type == EventType.PASSAGE_COUNTED]
    assert len(passages) > 5000
    for event in passages:
        state = schedule_state(
            hours[event.subject], event.time, closures=windows.get(event.subject, ())
        )
        assert state.open_state not in ("closed", "exceptionally_closed"), (
            f"{event.subject} passage at {event.time.astimezone(PARIS)} while {state.open_state}"
        )


def test_pools_are_busier_at_lunch_than_at_ten_on_a_weekday() -> None:
    """On a Tuesday, pools hold more people at 12:45 than at 10:00 and see more arrivals."""
    pools = _facilities("pool")
    simulation = Simulation(pools, _at(TUESDAY, 6), SimulatorConfig(seed=11))
    morning = simulation.advance(_at(TUESDAY, 10, 1))
    at_ten = sum(simulation.occupancy().values())
    lunch = simulation.advance(_at(TUESDAY, 12, 46))
    at_lunch = sum(simulation.occupancy().values())
    assert at_lunch > 1.5 * at_ten
    arrivals_ten = _people_in(morning, _at(TUESDAY, 9, 30), _at(TUESDAY, 10, 1))
    arrivals_lunch = _people_in(lunch, _at(TUESDAY, 12, 15), _at(TUESDAY, 12, 46))
    assert arrivals_lunch > 1.5 * arrivals_ten


def test_heat_wave_raises_pool_attendance() -> None:
    """The same Saturday with a heat wave brings far more bathers to the pools."""
    pools = _facilities("pool", limit=15)
    window = (_at(SATURDAY, 6), _at(SATURDAY, 22))
    normal = list(simulate(pools, *window, SimulatorConfig(seed=5)))
    hot = list(simulate(pools, *window, SimulatorConfig(seed=5, scenario=Scenario(heat_wave=True))))
    bathers_normal = _people_in(normal, *window)
    bathers_hot = _people_in(hot, *window)
    assert bathers_hot > 1.3 * bathers_normal


def test_closures_have_a_reason_a_french_message_and_end() -> None:
    """Every exceptional closure says why (a contract reason, French text) and ends later."""
    config = SimulatorConfig(seed=2, closures_per_open_hour=0.1)
    start, end = _at(TUESDAY, 7), _at(TUESDAY + dt.timedelta(days=2), 7)
    events = list(simulate(_mixed(3), start, end, config))
    declared = [e for e in events if e.type == EventType.CLOSURE_DECLARED]
    ended = {e.data.closure_id: e for e in events if e.type == EventType.CLOSURE_ENDED}  # type: ignore[attr-defined]
    assert len(declared) >= 10
    for event in declared:
        data = event.data
        assert data.reason in set(ClosureReason)  # type: ignore[attr-defined]
        assert data.message.fr and data.message.en  # type: ignore[attr-defined]
        assert data.starts_at > event.time  # type: ignore[attr-defined]  # announced first
    ending = [e for e in declared if e.data.closure_id in ended]  # type: ignore[attr-defined]
    assert len(ending) >= 0.8 * len(declared)
    for event in ending:
        assert ended[event.data.closure_id].time > event.data.starts_at  # type: ignore[attr-defined]


def test_town_hall_tickets_follow_issue_call_serve() -> None:
    """Town hall tickets are issued, then called, then served — or abandoned, never both."""
    events = list(
        simulate(_facilities("town_hall", 6), _at(TUESDAY, 8), _at(TUESDAY, 18), SimulatorConfig())
    )
    seen: dict[tuple[str, str], list[tuple[str, dt.datetime]]] = defaultdict(list)
    for e in events:
        if e.type.startswith("fr.paris.facilities.ticket."):
            key = (e.subject, e.data.ticket_id)  # type: ignore[attr-defined]
            seen[key].append((e.type.rsplit(".", 1)[1], e.time))
    assert len(seen) > 200
    outcomes: defaultdict[str, int] = defaultdict(int)
    for history in seen.values():
        steps = [step for step, _ in history]
        times = [t for _, t in history]
        assert times == sorted(times)
        assert steps in (["issued", "called", "served"], ["issued", "abandoned"]), steps
        outcomes[steps[-1]] += 1
    assert outcomes["served"] > outcomes["abandoned"] > 0


def test_identity_documents_wait_weeks_other_services_days() -> None:
    """Passport and ID card appointments are weeks away; other bookings within days."""
    start = _at(TUESDAY, 8)
    events = list(simulate(_facilities("town_hall", 8), start, _at(TUESDAY, 9)))
    delays: dict[str, list[float]] = defaultdict(list)
    for e in events:
        if e.type == EventType.SLOTS_PUBLISHED:
            delay = (e.data.next_available_at - start) / dt.timedelta(days=1)  # type: ignore[attr-defined]
            delays[e.data.service_id].append(delay)  # type: ignore[attr-defined]
    assert delays["identity-documents"] and min(delays["identity-documents"]) >= 20
    others = [d for service, ds in delays.items() if service != "identity-documents" for d in ds]
    assert others and min(others) < 14


def test_cases_close_only_after_they_opened() -> None:
    """Processing délais are measurable: closed cases were opened earlier in the stream."""
    events = list(simulate(_facilities("town_hall", 5), _at(TUESDAY, 8), _at(TUESDAY, 18)))
    opened: dict[str, dt.datetime] = {}
    closed = 0
    for e in events:
        if e.type == EventType.CASE_OPENED:
            opened[e.data.case_id] = e.time  # type: ignore[attr-defined]
        elif e.type == EventType.CASE_CLOSED:
            assert opened[e.data.case_id] < e.time  # type: ignore[attr-defined]
            closed += 1
    assert closed >= 5


def test_sensor_outages_leave_gaps_and_counters_drift() -> None:
    """Sensors go silent for a while, and counted passages drift from the true head count."""
    pools = _facilities("pool", 10)
    config = SimulatorConfig(seed=4, sensor_outages_per_hour=0.3)
    simulation = Simulation(pools, _at(SATURDAY, 9), config)
    events = simulation.advance(_at(SATURDAY, 18))
    readings: dict[str, list[dt.datetime]] = defaultdict(list)
    net: dict[str, int] = defaultdict(int)
    for e in events:
        if e.type == EventType.HEADCOUNT_MEASURED:
            readings[e.subject].append(e.time)
        elif e.type == EventType.PASSAGE_COUNTED:
            sign = 1 if e.data.direction == "in" else -1  # type: ignore[attr-defined]
            net[e.subject] += sign * e.data.count  # type: ignore[attr-defined]
    gaps = [b - a for times in readings.values() for a, b in itertools.pairwise(times)]
    assert max(gaps) >= dt.timedelta(minutes=30)
    assert min(gaps) == dt.timedelta(minutes=5)
    assert any(abs(net[f]) > 0 for f in net)  # counted flow never balances exactly


@pytest.mark.parametrize(
    ("day", "kind"),
    [
        (dt.date(2026, 6, 2), "weekday"),
        (dt.date(2026, 6, 3), "wednesday"),
        (dt.date(2026, 6, 6), "saturday"),
        (dt.date(2026, 6, 7), "sunday"),
        (dt.date(2026, 7, 14), "sunday"),  # Fête nationale
    ],
)
def test_day_kinds(day: dt.date, kind: str) -> None:
    """Wednesdays (no school in the afternoon) and public holidays get their own curves."""
    assert day_kind(day) == kind


def test_curves_interpolate_and_vanish_outside() -> None:
    """Curves are linear between points and zero outside their hours."""
    curve = ((8.0, 0.2), (10.0, 0.6))
    assert interpolate(curve, 9.0) == pytest.approx(0.4)
    assert interpolate(curve, 7.0) == interpolate(curve, 11.0) == 0.0
    assert target_ratio("town_hall", _at(TUESDAY, 10)) > target_ratio("town_hall", _at(TUESDAY, 16))


def test_simulator_knows_each_tickets_true_wait_without_changing_the_events() -> None:
    """With ``record_ticket_waits`` every called ticket's true wait (issued → called) matches its
    events, abandoned tickets have none, and the events are the very same as without it."""
    halls = _facilities("town_hall", 3)
    start, end = _at(TUESDAY, 8), _at(TUESDAY, 13)
    plain = list(simulate(halls, start, end, SimulatorConfig(seed=9)))
    simulation = Simulation(halls, start, SimulatorConfig(seed=9, record_ticket_waits=True))
    recorded = simulation.advance(end)
    assert _fingerprint(recorded) == _fingerprint(plain)
    waits = simulation.drain_ticket_waits()
    assert simulation.drain_ticket_waits() == []
    times: dict[tuple[str, str], dict[str, dt.datetime]] = defaultdict(dict)
    for e in recorded:
        if e.type.startswith("fr.paris.facilities.ticket."):
            times[(e.subject, e.data.ticket_id)][e.type.rsplit(".", 1)[1]] = e.time  # type: ignore[attr-defined]
    called = [w for w in waits if w.waited is not None]
    assert len(called) > 100 and any(w.waited is None for w in waits)
    for wait in waits:
        events = times[(wait.facility_id, wait.ticket_id)]
        assert events["issued"] == wait.issued_at
        if wait.called_at is None:
            assert "called" not in events
        else:
            assert events["called"] == wait.called_at
    assert max(w.waited for w in called if w.waited) > dt.timedelta(minutes=5)
