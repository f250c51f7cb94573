"""Opening hours: the catalogue's ``hours`` models and the pure schedule engine.

The JSON shape (exactly what the catalogue stores)::

    {"weekly": {"mon": [["09:00", "12:00"], ["13:30", "17:00"]], ..., "sun": []},
     "seasons": [{"name": "summer", "label": {"fr": "Horaires d'été", "en": "Summer hours"},
                  "from": "07-01", "to": "08-31", "weekly": {...}}],
     "special": [{"date": "2026-12-24", "periods": [["09:00", "16:00"]], "label": {...}}],
     "public_holidays": "closed"}

Periods are ``[opens, closes]`` in Paris wall-clock time. For one date the precedence is:
special day > public-holiday rule > season > weekly.

* :mod:`schemas.hours.periods` — the ``"HH:MM"`` periods of a day: checks and parsing;
* :mod:`schemas.hours.model` — the pydantic models of that JSON shape;
* :mod:`schemas.hours.engine` — the pure engine: a date's schedule, the open state at an instant
  and the next change, exceptional closures included.

Every public name is importable from :mod:`schemas.hours`.
"""

from __future__ import annotations

from schemas.clock import PARIS
from schemas.hours.engine import (
    NEXT_CHANGE_HORIZON,
    ClosureWindow,
    DaySchedule,
    DaySource,
    ScheduleOpenState,
    ScheduleState,
    ScopeKind,
    day_schedule,
    periods_on,
    schedule_state,
)
from schemas.hours.model import (
    WEEKDAYS,
    Label,
    OpeningHours,
    PublicHolidayRule,
    Season,
    SpecialDay,
    WeeklyHours,
)
from schemas.hours.periods import HHMM, DayPeriods, Period

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
