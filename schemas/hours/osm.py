"""The catalogue's hours as an OpenStreetMap ``opening_hours`` string (what OSM contributors use).

One pure function, :func:`osm_opening_hours`, writes the same schedule the engine
(:mod:`schemas.hours.engine`) reads, in the precedence the engine applies, using OSM's rule that a
later normal rule (``;``) replaces the earlier ones on the days it selects::

    Mo-Fr 09:00-12:00,13:30-17:00; Sa 09:00-12:00          the weekly hours (absent days: closed)
    Jul 01-Aug 31 Mo-Sa 10:00-19:00; Jul 01-Aug 31 Su off    each season, all seven days written
    PH off                                                  public holidays (``PH`` = French ones)
    2026 Dec 24 09:00-16:00; 2026 Dec 25 off                special days, last: they win

The public-holiday rule maps as the engine reads it: ``closed`` → ``PH off``; ``sunday`` → ``PH``
with the Sunday hours of the weekly hours, then of each season within its dates; ``open`` → no
``PH`` rule (a holiday keeps its weekday's hours). Exceptional closures with a known end
(:class:`schemas.hours.ClosureWindow` of scope ``facility``) may be added as dated ``off`` rules
(``2026 Dec 03 14:00-24:00 off``); a closure without an expected reopening cannot be written and is
left out, as are area and service closures (the facility stays open). OSM evaluates wall-clock
time: these strings say nothing about the repeated or skipped hour of a DST change.

The tests round-trip every facility of the catalogue through ``opening-hours-py`` and compare its
open/closed with the engine's at many instants (``tests/standards/test_osm_hours.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from typing import Final

from schemas.clock import PARIS
from schemas.hours.engine import ClosureWindow
from schemas.hours.model import OpeningHours, Season, WeeklyHours
from schemas.hours.periods import DayPeriods

__all__ = ["OSM_DAYS", "osm_opening_hours", "osm_weekly"]

OSM_DAYS: Final = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
"""OSM's weekday abbreviations, indexed like :meth:`datetime.date.weekday`."""
_MONTHS: Final = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)
_OFF: Final = "off"


def _times(periods: DayPeriods) -> str:
    """``09:00-12:00,13:30-17:00``, or ``off`` for a closed day."""
    if not periods:
        return _OFF
    return ",".join(f"{opens}-{closes}" for opens, closes in periods)


def _day_groups(weekly: WeeklyHours) -> list[tuple[str, str]]:
    """Runs of consecutive weekdays with the same hours: ``[("Mo-Fr", "09:00-17:00"), ...]``."""
    groups: list[tuple[int, int, str]] = []
    for index in range(7):
        times = _times(weekly.on_weekday(index))
        if groups and groups[-1][2] == times and groups[-1][1] == index - 1:
            groups[-1] = (groups[-1][0], index, times)
        else:
            groups.append((index, index, times))
    return [
        (OSM_DAYS[first] if first == last else f"{OSM_DAYS[first]}-{OSM_DAYS[last]}", times)
        for first, last, times in groups
    ]


def osm_weekly(weekly: WeeklyHours, prefix: str = "") -> list[str]:
    """The rules of a week: only open days when ``prefix`` is empty (the default is closed),
    every day — closed ones as ``off`` — when a prefix narrows them to a season."""
    head = f"{prefix} " if prefix else ""
    groups = _day_groups(weekly)
    if prefix:
        return [f"{head}{days} {times}" for days, times in groups]
    rules = [f"{days} {times}" for days, times in groups if times != _OFF]
    return rules or [_OFF]


def _month_day(value: str) -> str:
    """``"07-01"`` → ``"Jul 01"``."""
    month, day = value.split("-")
    return f"{_MONTHS[int(month) - 1]} {day}"


def _season_range(season: Season) -> str:
    return f"{_month_day(season.from_)}-{_month_day(season.to)}"


def _date(day: date) -> str:
    """``2026 Dec 24``."""
    return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"


def _holiday_rules(hours: OpeningHours) -> list[str]:
    if hours.public_holidays == "closed":
        return [f"PH {_OFF}"]
    if hours.public_holidays == "open":
        return []
    rules = [f"PH {_times(hours.weekly.sun)}"]
    rules += [f"{_season_range(s)} PH {_times(s.weekly.sun)}" for s in hours.seasons]
    return rules


def _closure_rules(closures: Iterable[ClosureWindow]) -> list[str]:
    """Dated ``off`` rules for the facility closures whose end is known, split per Paris day."""
    rules: list[str] = []
    for closure in closures:
        if closure.scope_kind != "facility" or closure.ends_at is None:
            continue
        start = closure.starts_at.astimezone(PARIS)
        end = closure.ends_at.astimezone(PARIS)
        day = start.date()
        while start < end:
            next_midnight = datetime(day.year, day.month, day.day, tzinfo=PARIS) + timedelta(days=1)
            stop = min(end, next_midnight.astimezone(PARIS))
            opens = f"{start:%H:%M}"
            closes = "24:00" if stop >= next_midnight else f"{stop:%H:%M}"
            if opens != closes:
                rules.append(f"{_date(day)} {opens}-{closes} {_OFF}")
            day += timedelta(days=1)
            start = datetime(day.year, day.month, day.day, tzinfo=PARIS)
    return rules


def osm_opening_hours(hours: OpeningHours, closures: Sequence[ClosureWindow] = ()) -> str:
    """The hours as an OSM ``opening_hours`` value (see the module docstring for the mapping)."""
    rules = osm_weekly(hours.weekly)
    for season in hours.seasons:
        rules += osm_weekly(season.weekly, _season_range(season))
    rules += _holiday_rules(hours)
    rules += [f"{_date(s.date)} {_times(s.periods)}" for s in hours.special]
    rules += _closure_rules(closures)
    if rules[0] == _OFF and len(rules) > 1:
        rules = rules[1:]  # « off » first then rules: the later rules say it all
    return "; ".join(rules)
