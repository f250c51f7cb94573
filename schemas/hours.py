"""Opening hours: the catalogue's ``hours`` models and the pure schedule engine.

The JSON shape (exactly what the catalogue stores)::

    {"weekly": {"mon": [["09:00", "12:00"], ["13:30", "17:00"]], ..., "sun": []},
     "seasons": [{"name": "summer", "label": {"fr": "Horaires d'été", "en": "Summer hours"},
                  "from": "07-01", "to": "08-31", "weekly": {...}}],
     "special": [{"date": "2026-12-24", "periods": [["09:00", "16:00"]], "label": {...}}],
     "public_holidays": "closed"}

Periods are ``[opens, closes]`` in Paris wall-clock time. For one date the precedence is:
special day > public-holiday rule > season > weekly.
"""

from __future__ import annotations

import heapq
import weakref
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Annotated, Final, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from schemas.clock import PARIS
from schemas.holidays import HOLIDAY_NAMES_EN, holiday_name

__all__ = [
    "HHMM",
    "NEXT_CHANGE_HORIZON",
    "PARIS",
    "WEEKDAYS",
    "ClosureWindow",
    "DayPeriods",
    "DaySchedule",
    "DaySource",
    "Label",
    "OpeningHours",
    "Period",
    "PublicHolidayRule",
    "ScheduleOpenState",
    "ScheduleState",
    "ScopeKind",
    "Season",
    "SpecialDay",
    "WeeklyHours",
    "day_schedule",
    "periods_on",
    "schedule_state",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of :class:`WeeklyHours`, indexed like :meth:`datetime.date.weekday`."""

HHMM = Annotated[str, StringConstraints(pattern=r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")]
"""Paris wall-clock time ``"HH:MM"``; ``"24:00"`` is allowed as a closing time (end of day)."""

MMDD = Annotated[str, StringConstraints(pattern=r"^(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$")]

PeriodJSON = tuple[HHMM, HHMM]
DayPeriods = list[PeriodJSON]
PublicHolidayRule = Literal["closed", "open", "sunday"]

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MODEL_CONFIG = ConfigDict(
    frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
)


def hhmm_to_minutes(value: str) -> int:
    """Minutes since midnight of an ``"HH:MM"`` string (``"24:00"`` → 1440)."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def _check_day(periods: DayPeriods, where: str) -> DayPeriods:
    """Periods of one day: each closes after it opens, sorted, separated by a gap."""
    previous_close: int | None = None
    previous: PeriodJSON | None = None
    for opens, closes in periods:
        start, end = hhmm_to_minutes(opens), hhmm_to_minutes(closes)
        if opens == "24:00":
            raise ValueError(f"{where}: a period cannot open at 24:00 ({opens}–{closes})")
        if end <= start:
            raise ValueError(
                f"{where}: period {opens}–{closes} closes before it opens "
                "(periods cannot cross midnight; close at 24:00 and open at 00:00 next day)"
            )
        if previous_close is not None and previous is not None:
            if start < previous_close:
                raise ValueError(
                    f"{where}: periods {previous[0]}–{previous[1]} and {opens}–{closes} "
                    "overlap or are not sorted by opening time"
                )
            if start == previous_close:
                raise ValueError(
                    f"{where}: periods {previous[0]}–{previous[1]} and {opens}–{closes} "
                    f"touch; merge them into {previous[0]}–{closes}"
                )
        previous_close, previous = end, (opens, closes)
    return periods


class Label(BaseModel):
    """Text a citizen reads: French first, English optional."""

    model_config = _MODEL_CONFIG

    fr: str = Field(min_length=1)
    en: str | None = None


class WeeklyHours(BaseModel):
    """Regular periods per weekday; a missing or empty day is closed."""

    model_config = _MODEL_CONFIG

    mon: DayPeriods = []
    tue: DayPeriods = []
    wed: DayPeriods = []
    thu: DayPeriods = []
    fri: DayPeriods = []
    sat: DayPeriods = []
    sun: DayPeriods = []

    @model_validator(mode="after")
    def _periods_are_well_formed(self) -> WeeklyHours:
        for key in WEEKDAYS:
            _check_day(getattr(self, key), key)
        return self

    def on_weekday(self, weekday: int) -> DayPeriods:
        """Periods of a weekday, 0 = Monday as in :meth:`datetime.date.weekday`."""
        periods: DayPeriods = getattr(self, WEEKDAYS[weekday])
        return periods


class Season(BaseModel):
    """Weekly hours applying every year between two month-day bounds, both included.

    ``from`` later than ``to`` wraps the year end (``"12-15"`` → ``"01-05"``).
    """

    model_config = _MODEL_CONFIG

    name: str = Field(min_length=1)
    label: Label | None = None
    from_: MMDD = Field(alias="from")
    to: MMDD
    weekly: WeeklyHours

    @field_validator("from_", "to")
    @classmethod
    def _day_exists(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        if day > _DAYS_IN_MONTH[month - 1]:
            raise ValueError(f"{value} is not a day of the year")
        return value

    def contains(self, day: date) -> bool:
        """Whether the season applies on ``day``."""
        key = (day.month, day.day)
        start = _month_day(self.from_)
        end = _month_day(self.to)
        if start <= end:
            return start <= key <= end
        return key >= start or key <= end


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


class SpecialDay(BaseModel):
    """One date whose periods replace everything else; empty periods = closed all day."""

    model_config = _MODEL_CONFIG

    date: date
    periods: DayPeriods = []
    label: Label | None = None

    @model_validator(mode="after")
    def _periods_are_well_formed(self) -> SpecialDay:
        _check_day(self.periods, f"special {self.date.isoformat()}")
        return self


class OpeningHours(BaseModel):
    """A facility's opening hours (the catalogue's ``hours`` object)."""

    model_config = _MODEL_CONFIG

    weekly: WeeklyHours
    seasons: list[Season] = []
    special: list[SpecialDay] = []
    public_holidays: PublicHolidayRule = "closed"

    @model_validator(mode="after")
    def _no_ambiguity(self) -> OpeningHours:
        seen: set[date] = set()
        for special in self.special:
            if special.date in seen:
                raise ValueError(f"special day {special.date.isoformat()} is listed twice")
            seen.add(special.date)
        names: set[str] = set()
        for season in self.seasons:
            if season.name in names:
                raise ValueError(f"season {season.name!r} is listed twice")
            names.add(season.name)
        for index, first in enumerate(self.seasons):
            for second in self.seasons[index + 1 :]:
                overlap = _first_common_day(first, second)
                if overlap is not None:
                    raise ValueError(
                        f"seasons {first.name!r} and {second.name!r} overlap (both include "
                        f"{overlap}); a date may belong to one season only"
                    )
        return self

    def season_on(self, day: date) -> Season | None:
        """The season applying on ``day``, if any."""
        for season in self.seasons:
            if season.contains(day):
                return season
        return None

    def special_on(self, day: date) -> SpecialDay | None:
        """The special day for ``day``, if any."""
        for special in self.special:
            if special.date == day:
                return special
        return None


def _first_common_day(first: Season, second: Season) -> str | None:
    """A month-day both seasons include (checked over a leap year), or None."""
    for ordinal in range(date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal() + 1):
        day = date.fromordinal(ordinal)
        if first.contains(day) and second.contains(day):
            return f"{day.month:02d}-{day.day:02d}"
    return None


# ---------------------------------------------------------------------------------------------
# The engine: pure functions of (hours, instant, closures). No I/O, no clock reads.
#
# A period is open while the Paris wall clock reads a time in [opens, closes). Each wall time
# is mapped to the first instant the clock shows it (or a later time):
#   - an ambiguous time (the repeated hour of the autumn fall-back) maps to its first
#     occurrence (fold=0), so 01:00–04:00 on that day lasts four real hours;
#   - a nonexistent time (the skipped hour of the spring-forward) maps to the jump itself
#     (03:00 CEST), so 01:00–04:00 on that day lasts two real hours and 02:00–02:45 is empty.
# This mapping never goes backwards, so the periods of a day stay sorted once placed in time.
# ---------------------------------------------------------------------------------------------

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
class Period:
    """One opening period of a day, in Paris wall-clock time; ``closes`` None means 24:00."""

    opens: time
    closes: time | None

    @classmethod
    def from_hhmm(cls, opens: str, closes: str) -> Period:
        """Period from its catalogue form ``("09:00", "24:00")``."""
        return cls(_minutes_to_time(hhmm_to_minutes(opens)), _hhmm_time_or_none(closes))

    @property
    def opens_minutes(self) -> int:
        """Minutes since midnight at which the period opens."""
        return self.opens.hour * 60 + self.opens.minute

    @property
    def closes_minutes(self) -> int:
        """Minutes since midnight at which the period closes (1440 for 24:00)."""
        if self.closes is None:
            return 1440
        return self.closes.hour * 60 + self.closes.minute

    def as_hhmm(self) -> tuple[str, str]:
        """The period as ``("HH:MM", "HH:MM")``, 24:00 included."""
        return _minutes_to_hhmm(self.opens_minutes), _minutes_to_hhmm(self.closes_minutes)


def _minutes_to_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _hhmm_time_or_none(value: str) -> time | None:
    minutes = hhmm_to_minutes(value)
    return None if minutes == 1440 else _minutes_to_time(minutes)


def _minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


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
        return DaySchedule(day, _periods(special.periods), "special", special.label)
    season = hours.season_on(day)
    weekly = season.weekly if season is not None else hours.weekly
    holiday = holiday_name(day)
    if holiday is not None and hours.public_holidays != "open":
        label = Label(fr=holiday, en=HOLIDAY_NAMES_EN.get(holiday))
        if hours.public_holidays == "closed":
            return DaySchedule(day, (), "public_holiday", label)
        return DaySchedule(day, _periods(weekly.on_weekday(6)), "public_holiday", label)
    if season is not None:
        return DaySchedule(
            day, _periods(season.weekly.on_weekday(day.weekday())), "season", season.label
        )
    return DaySchedule(day, _periods(hours.weekly.on_weekday(day.weekday())), "weekly", None)


def _periods(periods: DayPeriods) -> tuple[Period, ...]:
    return tuple(_parsed_period(opens, closes) for opens, closes in periods)


@lru_cache(maxsize=4096)
def _parsed_period(opens: str, closes: str) -> Period:
    return Period.from_hhmm(opens, closes)


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
    naive = datetime.combine(day, _minutes_to_time(minutes))
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
