"""Properties of the schedule engine over generated hours, closures and instants (2024–2030)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.clock import PARIS
from schemas.hours import (
    NEXT_CHANGE_HORIZON,
    WEEKDAYS,
    ClosureWindow,
    OpeningHours,
    ScopeKind,
    periods_on,
    schedule_state,
)

PROPERTY = settings(
    max_examples=200,
    deadline=timedelta(seconds=5),
    suppress_health_check=[HealthCheck.too_slow],
)

FIRST_DAY = date(2024, 1, 1)
LAST_DAY = date(2030, 12, 31)
TICK = timedelta(microseconds=1)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@st.composite
def day_periods(draw: st.DrawFn) -> list[list[str]]:
    """Up to four sorted, separated periods; bounds on quarter hours or any minute."""
    bound = st.one_of(
        st.sampled_from([0, 1440, 120, 150, 180]),  # midnight, and the hour DST skips or repeats
        st.integers(0, 96).map(lambda q: q * 15),
        st.integers(0, 1440),
    )
    drawn = set(draw(st.lists(bound, unique=True, max_size=6)))
    if draw(st.integers(0, 3)) == 0:  # open through midnight on both sides: joins adjacent days
        drawn |= {0, 1440}
    bounds = sorted(drawn)
    if len(bounds) % 2:
        del bounds[-2 if len(bounds) > 1 else -1]  # keep a 24:00 closing when there is one
    return [[_hhmm(bounds[i]), _hhmm(bounds[i + 1])] for i in range(0, len(bounds), 2)]


weekly_hours = st.fixed_dictionaries({day: day_periods() for day in WEEKDAYS})
month_days = st.dates(date(2024, 1, 1), date(2024, 12, 31)).map(lambda d: f"{d:%m-%d}")


@st.composite
def seasons(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Zero to two non-overlapping seasons, possibly wrapping the year end."""
    points = sorted(draw(st.lists(month_days, unique=True, min_size=4, max_size=4)))
    a, b, c, d = points
    bounds = draw(st.sampled_from([[(a, b), (c, d)], [(d, a), (b, c)]]))
    count = draw(st.integers(0, 2))
    return [
        {
            "name": f"s{i}",
            "label": {"fr": f"Saison {i}"},
            "from": start,
            "to": end,
            "weekly": draw(weekly_hours),
        }
        for i, (start, end) in enumerate(bounds[:count])
    ]


dst_days = st.sampled_from(
    [
        day
        for year in range(2024, 2031)
        for month in (3, 10)
        for day in [
            max(date(year, month, d) for d in range(25, 32) if date(year, month, d).weekday() == 6)
        ]
    ]
)
"""The last Sundays of March and October: Paris's DST changes, 2024–2030."""


@st.composite
def special_days(draw: st.DrawFn) -> list[dict[str, Any]]:
    days = draw(
        st.lists(st.one_of(st.dates(FIRST_DAY, LAST_DAY), dst_days), unique=True, max_size=3)
    )
    return [{"date": day.isoformat(), "periods": draw(day_periods())} for day in days]


@st.composite
def opening_hours(draw: st.DrawFn) -> OpeningHours:
    return OpeningHours.model_validate(
        {
            "weekly": draw(weekly_hours),
            "seasons": draw(seasons()),
            "special": draw(special_days()),
            "public_holidays": draw(st.sampled_from(["closed", "open", "sunday"])),
        }
    )


@st.composite
def instants(draw: st.DrawFn) -> datetime:
    """Aware instants in 2024–2030, often on DST days and on whole minutes, in varied zones."""
    near_dst = st.builds(
        lambda day, minutes: (
            datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
        ),
        dst_days,
        st.integers(-36 * 60, 36 * 60),
    )
    anywhere = st.datetimes(
        datetime(2024, 1, 1), datetime(2030, 12, 31, 23, 59), timezones=st.just(UTC)
    )
    on_minute = anywhere.map(lambda d: d.replace(second=0, microsecond=0))
    instant = draw(st.one_of(near_dst, anywhere, on_minute))
    zone = draw(st.sampled_from([UTC, PARIS, timezone(timedelta(hours=-5, minutes=-30))]))
    return instant.astimezone(zone)


@st.composite
def closure_lists(draw: st.DrawFn, around: datetime) -> list[ClosureWindow]:
    """Zero to three closures starting up to 3 days either side of ``around``."""
    closures = []
    for _ in range(draw(st.integers(0, 3))):
        starts_at = around + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
        duration = draw(st.one_of(st.none(), st.integers(1, 5 * 1440)))
        ends_at = None if duration is None else starts_at + timedelta(minutes=duration)
        kind: ScopeKind = draw(st.sampled_from(["facility", "area", "service"]))
        closures.append(ClosureWindow(starts_at, ends_at, kind))
    return closures


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[OpeningHours, datetime, list[ClosureWindow], int]:
    at = draw(instants())
    return draw(opening_hours()), at, draw(closure_lists(at)), draw(st.integers(0, 120))


@PROPERTY
@given(scenarios())
def test_next_change_is_strictly_after_the_instant(
    scenario: tuple[OpeningHours, datetime, list[ClosureWindow], int],
) -> None:
    """next_change_at, when known, is an aware Paris instant strictly after ``at``."""
    hours, at, closures, soon = scenario
    state = schedule_state(hours, at, closures=closures, closing_soon_minutes=soon)
    if state.next_change_at is not None:
        assert state.next_change_at > at
        assert state.next_change_at.tzinfo is PARIS


@PROPERTY
@given(scenarios())
def test_state_really_changes_at_next_change(
    scenario: tuple[OpeningHours, datetime, list[ClosureWindow], int],
) -> None:
    """Just before next_change_at the state is the current one; at next_change_at it differs."""
    hours, at, closures, soon = scenario
    state = schedule_state(hours, at, closures=closures, closing_soon_minutes=soon)
    if state.next_change_at is None:
        return
    change = state.next_change_at.astimezone(UTC)  # arithmetic in UTC, never in wall time
    before = schedule_state(hours, change - TICK, closures=closures, closing_soon_minutes=soon)
    after = schedule_state(hours, change, closures=closures, closing_soon_minutes=soon)
    assert before.open_state == state.open_state
    assert after.open_state != state.open_state


@PROPERTY
@given(scenarios(), st.lists(st.floats(0, 1, exclude_max=True), min_size=1, max_size=4))
def test_state_is_constant_until_next_change(
    scenario: tuple[OpeningHours, datetime, list[ClosureWindow], int], fractions: list[float]
) -> None:
    """The state found at ``at`` holds on [at, next_change_at), or the whole horizon if None."""
    hours, at, closures, soon = scenario
    at = at.astimezone(UTC)  # arithmetic in UTC, never in wall time
    state = schedule_state(hours, at, closures=closures, closing_soon_minutes=soon)
    if state.next_change_at is not None:
        span = state.next_change_at - at
    elif state.open_state == "exceptionally_closed":
        span = timedelta(days=60)  # a closure with no expected end: closed for good
    else:
        span = NEXT_CHANGE_HORIZON
    for fraction in fractions:
        sample = at + span * fraction
        if sample >= at + span:
            continue
        assert (
            schedule_state(hours, sample, closures=closures, closing_soon_minutes=soon).open_state
            == state.open_state
        ), sample


@PROPERTY
@given(st.data(), opening_hours(), instants())
def test_facility_closure_always_wins(
    data: st.DataObject, hours: OpeningHours, at: datetime
) -> None:
    """With a facility closure in force, the state is exceptionally closed, whatever the hours."""
    before = timedelta(minutes=data.draw(st.integers(0, 3 * 1440)))
    after = data.draw(st.one_of(st.none(), st.integers(1, 3 * 1440)))
    closure = ClosureWindow(
        at - before, None if after is None else at + timedelta(minutes=after), "facility"
    )
    others = data.draw(closure_lists(at))
    state = schedule_state(hours, at, closures=[*others, closure])
    assert state.open_state == "exceptionally_closed"


@PROPERTY
@given(scenarios())
def test_result_does_not_depend_on_the_instant_zone(
    scenario: tuple[OpeningHours, datetime, list[ClosureWindow], int],
) -> None:
    """The same instant given in UTC, in Paris time or at another offset gives the same result."""
    hours, at, closures, soon = scenario
    results = {
        zone: schedule_state(
            hours, at.astimezone(zone), closures=closures, closing_soon_minutes=soon
        )
        for zone in (UTC, PARIS, timezone(timedelta(hours=9, minutes=30)))
    }
    assert results[UTC] == results[PARIS] == results[timezone(timedelta(hours=9, minutes=30))]


def _wall_minutes(local: datetime) -> int:
    return local.hour * 60 + local.minute


@PROPERTY
@given(opening_hours(), instants())
def test_open_matches_the_wall_clock_on_ordinary_days(hours: OpeningHours, at: datetime) -> None:
    """Away from DST changes, open exactly when the Paris wall clock is inside a period."""
    local = at.astimezone(PARIS)
    today = local.date()
    yesterday = today - timedelta(days=1)
    if any(
        day.month in (3, 10) and day.day >= 25 and day.weekday() == 6 for day in (today, yesterday)
    ):
        return
    minute = _wall_minutes(local)
    expected = any(p.opens_minutes <= minute < p.closes_minutes for p in periods_on(hours, today))
    state = schedule_state(hours, at, closing_soon_minutes=0)
    assert (state.open_state == "open") == expected
    assert state.open_state in ("open", "closed")


@PROPERTY
@given(opening_hours(), instants(), st.integers(0, 120))
def test_closes_at_is_the_real_closing(hours: OpeningHours, at: datetime, soon: int) -> None:
    """closes_at is the real closing (past midnight too); closing soon starts ``soon`` before."""
    state = schedule_state(hours, at, closing_soon_minutes=soon)
    if state.open_state not in ("open", "closing_soon") or state.closes_at is None:
        return
    closes_at = state.closes_at.astimezone(UTC)  # arithmetic in UTC, never in wall time
    assert schedule_state(hours, closes_at).open_state == "closed"
    assert schedule_state(hours, closes_at - TICK, closing_soon_minutes=0).open_state == "open"
    if soon and closes_at - timedelta(minutes=soon) > at:
        warning = closes_at - timedelta(minutes=soon)
        assert state.open_state == "open"
        assert state.next_change_at is not None
        # compared in UTC: an instant of the repeated autumn hour never equals another zone's (PEP 495)
        assert state.next_change_at.astimezone(UTC) == warning
        assert (
            schedule_state(hours, warning, closing_soon_minutes=soon).open_state == "closing_soon"
        )
