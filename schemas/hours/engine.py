"""The schedule engine: pure functions of (hours, instant, closures). No I/O, no clock reads.

A period is open while the Paris wall clock reads a time in [opens, closes). Each wall time
is mapped to the first instant the clock shows it (or a later time):

- an ambiguous time (the repeated hour of the autumn fall-back) maps to its first
  occurrence (fold=0), so 01:00–04:00 on that day lasts four real hours;
- a nonexistent time (the skipped hour of the spring-forward) maps to the jump itself
  (03:00 CEST), so 01:00–04:00 on that day lasts two real hours and 02:00–02:45 is empty.

This mapping never goes backwards, so the periods of a day stay sorted once placed in time.
"""

from __future__ import annotations

import heapq
import weakref
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Final, Literal, get_args

from schemas.clock import PARIS
from schemas.holidays import HOLIDAY_NAMES_EN, holiday_name
from schemas.hours.model import Label, OpeningHours
from schemas.hours.periods import Period, minutes_to_time, parsed_periods

__all__ = [
    "NEXT_CHANGE_HORIZON",
    "ClosureWindow",
    "DaySchedule",
    "DaySource",
    "ScheduleOpenState",
    "ScheduleState",
    "ScopeKind",
    "day_schedule",
    "periods_on",
    "schedule_state",
]

NEXT_CHANGE_HORIZON: Final = timedelta(days=14)
"""How far ahead :func:`schedule_state` looks for the next change of the regular schedule."""

ScheduleOpenState = Literal[
    "open", "closing_soon", "closed", "exceptionally_closed", "partially_closed"
]
ScopeKind = Literal["facility", "area", "service"]
DaySource = Literal["weekly", "season", "special", "public_holiday"]

_SCOPE_KINDS: Final = frozenset(get_args(ScopeKind))
_MINUTE: Final = timedelta(minutes=1)
_DAY: Final = timedelta(days=1)
_SPAN_DAYS_BEFORE: Final = 1
_SPAN_DAYS_AFTER: Final = 16  # > horizon (14 days) + DST slack: the span's cut end is never used
_CACHE_LIMIT: Final = 64


@dataclass(frozen=True, slots=True)
class DaySchedule:
    """The regular schedule of one Paris date once precedence is applied."""

    day: date
    periods: tuple[Period, ...]
    source: DaySource
    label: Label | None


@dataclass(frozen=True, slots=True)
class ClosureWindow:
    """An exceptional closure as the schedule sees it: active on ``[starts_at, ends_at)``.

    ``ends_at`` None means no expected reopening. A window whose ``ends_at`` is not after
    ``starts_at`` is never active (e.g. an expected reopening that has already passed).
    """

    starts_at: datetime
    ends_at: datetime | None
    scope_kind: ScopeKind

    def __post_init__(self) -> None:
        _require_aware(self.starts_at, "ClosureWindow.starts_at")
        if self.ends_at is not None:
            _require_aware(self.ends_at, "ClosureWindow.ends_at")
        if self.scope_kind not in _SCOPE_KINDS:
            raise ValueError(
                f"ClosureWindow.scope_kind must be one of {sorted(_SCOPE_KINDS)}, "
                f"not {self.scope_kind!r}"
            )

    def active_at(self, at: datetime) -> bool:
        """Whether the closure is in force at the aware instant ``at``."""
        return self.starts_at <= at and (self.ends_at is None or at < self.ends_at)


@dataclass(frozen=True, slots=True)
class ScheduleState:
    """What the schedule and the closures say at one instant."""

    open_state: ScheduleOpenState
    today_hours: list[tuple[str, str]]
    """Regular periods of the Paris date of the instant, ``[("09:00", "12:00"), ...]``."""
    next_change_at: datetime | None
    """Next instant ``open_state`` changes, in Paris time; None if none is known (a closure
    with no expected reopening, or no change within :data:`NEXT_CHANGE_HORIZON`)."""
    label: Label | None = None
    """Label of today's special day, public holiday or season, if any."""
    source: DaySource = "weekly"
    """Which rule gave today's hours."""
    closes_at: datetime | None = None
    """When the current regular opening ends (Paris time), if open now and known."""


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {value.isoformat()}")


# --- per-hours caches ------------------------------------------------------------------------
# Keyed by object identity (models are frozen; pydantic's __eq__ and model_copy would carry a
# private attribute along). The entry goes away with the object.


@dataclass(slots=True)
class _Cache:
    days: dict[date, tuple[DaySchedule, tuple[tuple[datetime, datetime], ...]]] = field(
        default_factory=dict
    )
    spans: dict[date, tuple[list[datetime], list[datetime | None]]] = field(default_factory=dict)


_CACHES: dict[int, _Cache] = {}


def _cache_for(hours: OpeningHours) -> _Cache:
    key = id(hours)
    cache = _CACHES.get(key)
    if cache is None:
        cache = _CACHES[key] = _Cache()
        weakref.finalize(hours, _CACHES.pop, key, None)
    return cache


def _resolve_day(hours: OpeningHours, day: date) -> DaySchedule:
    special = hours.special_on(day)
    if special is not None:
        return DaySchedule(day, parsed_periods(special.periods), "special", special.label)
    season = hours.season_on(day)
    weekly = season.weekly if season is not None else hours.weekly
    holiday = holiday_name(day)
    if holiday is not None and hours.public_holidays != "open":
        label = Label(fr=holiday, en=HOLIDAY_NAMES_EN.get(holiday))
        if hours.public_holidays == "closed":
            return DaySchedule(day, (), "public_holiday", label)
        return DaySchedule(day, parsed_periods(weekly.on_weekday(6)), "public_holiday", label)
    if season is not None:
        return DaySchedule(
            day, parsed_periods(season.weekly.on_weekday(day.weekday())), "season", season.label
        )
    return DaySchedule(day, parsed_periods(hours.weekly.on_weekday(day.weekday())), "weekly", None)


def _day_entry(
    hours: OpeningHours, day: date
) -> tuple[DaySchedule, tuple[tuple[datetime, datetime], ...]]:
    cache = _cache_for(hours)
    entry = cache.days.get(day)
    if entry is None:
        schedule = _resolve_day(hours, day)
        placed = []
        for period in schedule.periods:
            start = _wall_to_utc(day, period.opens_minutes)
            end = _wall_to_utc(day, period.closes_minutes)
            if start < end:  # a period inside the skipped spring hour lasts no time at all
                placed.append((start, end))
        entry = (schedule, tuple(placed))
        if len(cache.days) >= _CACHE_LIMIT:
            cache.days.clear()
        cache.days[day] = entry
    return entry


@lru_cache(maxsize=16384)  # shared by all facilities: most open and close at the same times
def _wall_to_utc(day: date, minutes: int) -> datetime:
    """First UTC instant at which the Paris wall clock on ``day`` reads ``minutes`` or later."""
    if minutes == 1440:
        day, minutes = day + _DAY, 0
    naive = datetime.combine(day, minutes_to_time(minutes))
    for _ in range(24 * 60):
        instant = naive.replace(tzinfo=PARIS).astimezone(UTC)  # fold=0: first occurrence
        if instant.astimezone(PARIS).replace(tzinfo=None) == naive:
            return instant
        naive += _MINUTE  # inside a spring-forward gap: walk to its end
    raise AssertionError(f"no existing Paris time after {naive.isoformat()}")  # pragma: no cover


def day_schedule(hours: OpeningHours, day: date) -> DaySchedule:
    """The periods, label and rule that apply on a Paris date (special > holiday > season >
    weekly)."""
    return _day_entry(hours, day)[0]


def periods_on(hours: OpeningHours, day: date) -> list[Period]:
    """The opening periods of a Paris date, in wall-clock time."""
    return list(_day_entry(hours, day)[0].periods)


def _span(hours: OpeningHours, day: date) -> tuple[list[datetime], list[datetime | None]]:
    """Merged open intervals (UTC) from ``day - 1`` to ``day + 16``; a last interval reaching
    the end of that range has an unknown end (None)."""
    cache = _cache_for(hours)
    span = cache.spans.get(day)
    if span is None:
        starts: list[datetime] = []
        ends: list[datetime | None] = []
        last_day = day + timedelta(days=_SPAN_DAYS_AFTER)
        current = day - timedelta(days=_SPAN_DAYS_BEFORE)
        while current <= last_day:
            for start, end in _day_entry(hours, current)[1]:
                if ends and ends[-1] == start:
                    ends[-1] = end  # 24:00 followed by 00:00: one continuous opening
                else:
                    starts.append(start)
                    ends.append(end)
            current += _DAY
        if ends and ends[-1] == _wall_to_utc(last_day, 1440):
            ends[-1] = None
        span = (starts, ends)
        if len(cache.spans) >= _CACHE_LIMIT:
            cache.spans.clear()
        cache.spans[day] = span
    return span


def _state_at(
    instant: datetime,
    starts: list[datetime],
    ends: list[datetime | None],
    closures: Sequence[ClosureWindow],
    closing_soon: timedelta,
) -> ScheduleOpenState:
    if any(c.scope_kind == "facility" and c.active_at(instant) for c in closures):
        return "exceptionally_closed"
    index = bisect_right(starts, instant) - 1
    if index < 0:
        return "closed"
    end = ends[index]
    if end is not None and instant >= end:
        return "closed"
    if any(c.scope_kind != "facility" and c.active_at(instant) for c in closures):
        return "partially_closed"
    if end is not None and instant >= end - closing_soon:
        return "closing_soon"
    return "open"


def _schedule_candidates(
    starts: list[datetime], ends: list[datetime | None], after: datetime, closing_soon: timedelta
) -> Iterator[datetime]:
    """Instants, in order, where the regular state may change (opening, closing soon, closing)."""
    for index in range(max(bisect_right(starts, after) - 1, 0), len(starts)):
        start, end = starts[index], ends[index]
        yield start
        if end is None:
            return
        yield max(start, end - closing_soon)
        yield end


def _facility_closure_end(at: datetime, closures: Sequence[ClosureWindow]) -> datetime | None:
    """End of the run of facility closures covering ``at``; None if one never ends."""
    cursor = at
    while True:
        covering = [c for c in closures if c.scope_kind == "facility" and c.active_at(cursor)]
        if not covering:
            return cursor
        ends = [c.ends_at for c in covering]
        if any(end is None for end in ends):
            return None
        cursor = max(end for end in ends if end is not None)


def schedule_state(
    hours: OpeningHours,
    at: datetime,
    *,
    closing_soon_minutes: int = 30,
    closures: Sequence[ClosureWindow] = (),
) -> ScheduleState:
    """Open state at ``at`` (aware), today's hours and the next instant the state changes.

    A facility-scope closure in force makes the facility ``exceptionally_closed`` whatever
    the hours say; an area or service closure in force while open makes it
    ``partially_closed``. ``closing_soon`` starts ``closing_soon_minutes`` before a closing.
    """
    _require_aware(at, "at")
    if not 0 <= closing_soon_minutes <= 24 * 60:
        raise ValueError(f"closing_soon_minutes must be within 0..1440, not {closing_soon_minutes}")
    instant = at.astimezone(UTC)
    today = instant.astimezone(PARIS).date()
    schedule = _day_entry(hours, today)[0]
    starts, ends = _span(hours, today)
    closing_soon = timedelta(minutes=closing_soon_minutes)
    state = _state_at(instant, starts, ends, closures, closing_soon)

    next_change: datetime | None = None
    if state == "exceptionally_closed":
        next_change = _facility_closure_end(instant, closures)
    else:
        horizon = instant + NEXT_CHANGE_HORIZON
        closure_bounds = sorted(
            bound
            for closure in closures
            for bound in (closure.starts_at, closure.ends_at)
            if bound is not None and instant < bound <= horizon
        )
        candidates = heapq.merge(
            _schedule_candidates(starts, ends, instant, closing_soon),
            (bound.astimezone(UTC) for bound in closure_bounds),
        )
        for candidate in candidates:
            if candidate > horizon:
                break
            if candidate > instant and (
                _state_at(candidate, starts, ends, closures, closing_soon) != state
            ):
                next_change = candidate
                break

    closes_at: datetime | None = None
    if state in ("open", "closing_soon", "partially_closed"):
        index = bisect_right(starts, instant) - 1
        closes_at = ends[index]

    return ScheduleState(
        open_state=state,
        today_hours=[period.as_hhmm() for period in schedule.periods],
        next_change_at=None if next_change is None else next_change.astimezone(PARIS),
        label=schedule.label,
        source=schedule.source,
        closes_at=None if closes_at is None else closes_at.astimezone(PARIS),
    )
