"""French public holidays (jours fériés) for metropolitan France, any Gregorian year.

Eleven days: 1 January, Easter Monday, 1 May, 8 May, Ascension, Whit Monday, 14 July,
15 August, 1 November, 11 November, 25 December. Easter Sunday is computed with the
anonymous Gregorian algorithm (Meeus/Jones/Butcher). Alsace-Moselle's extra days are not
included: Paris does not observe them.

School holidays of zone C (académies de Créteil, Montpellier, Paris, Toulouse, Versailles — Paris is
zone C): :data:`SCHOOL_HOLIDAYS_ZONE_C`, dated, from the national school calendar. Children are free
all day, so a school-holiday weekday is busy like a Wednesday for pools, libraries and leisure
centres (the simulator and the crowding forecast both read it so).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from types import MappingProxyType
from typing import Final

__all__ = [
    "HOLIDAY_NAMES_EN",
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
    "Ministère de l'Éducation nationale, calendrier scolaire fixé par arrêté (education.gouv.fr, "
    "« Calendrier scolaire »), open data « Calendrier scolaire » (data.education.gouv.fr, "
    "fr-en-calendrier-scolaire), zone C — académie de Paris; school years 2024-2025 to the 2026 "
    "Christmas holidays"
)
"""Where :data:`SCHOOL_HOLIDAYS_ZONE_C` comes from (later dates: add them from the same dataset)."""

SCHOOL_HOLIDAYS_ZONE_C: Final[tuple[tuple[date, date, str], ...]] = (
    # (first day off, first day back at school, name): the days in [first, back) are holidays.
    (date(2024, 10, 19), date(2024, 11, 4), "Vacances de la Toussaint"),
    (date(2024, 12, 21), date(2025, 1, 6), "Vacances de Noël"),
    (date(2025, 2, 15), date(2025, 3, 3), "Vacances d'hiver"),
    (date(2025, 4, 12), date(2025, 4, 28), "Vacances de printemps"),
    (date(2025, 5, 29), date(2025, 6, 2), "Pont de l'Ascension"),
    (date(2025, 7, 5), date(2025, 9, 1), "Vacances d'été"),
    (date(2025, 10, 18), date(2025, 11, 3), "Vacances de la Toussaint"),
    (date(2025, 12, 20), date(2026, 1, 5), "Vacances de Noël"),
    (date(2026, 2, 21), date(2026, 3, 9), "Vacances d'hiver"),
    (date(2026, 4, 18), date(2026, 5, 4), "Vacances de printemps"),
    (date(2026, 5, 14), date(2026, 5, 18), "Pont de l'Ascension"),
    (date(2026, 7, 4), date(2026, 9, 1), "Vacances d'été"),
    (date(2026, 10, 17), date(2026, 11, 2), "Vacances de la Toussaint"),
    (date(2026, 12, 19), date(2027, 1, 4), "Vacances de Noël"),
)
"""Zone C school holidays, sourced (:data:`SCHOOL_HOLIDAYS_SOURCE`)."""


def school_holiday_name(day: date) -> str | None:
    """Name of the zone C school holidays ``day`` falls in, or None (or beyond the known dates)."""
    for first, back, name in SCHOOL_HOLIDAYS_ZONE_C:
        if first <= day < back:
            return name
    return None


def is_school_holiday(day: date) -> bool:
    """Whether ``day`` is in zone C (Paris) school holidays, weekends included."""
    return school_holiday_name(day) is not None
