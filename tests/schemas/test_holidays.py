"""French public holidays."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from schemas.holidays import (
    HOLIDAY_NAMES_EN,
    easter_sunday,
    holiday_name,
    is_public_holiday,
    public_holidays,
)


@pytest.mark.parametrize(
    ("year", "easter"),
    [
        (2024, date(2024, 3, 31)),
        (2025, date(2025, 4, 20)),
        (2026, date(2026, 4, 5)),
        (2027, date(2027, 3, 28)),
        (2008, date(2008, 3, 23)),  # early Easter
        (2038, date(2038, 4, 25)),  # latest possible date
        (2285, date(2285, 3, 22)),  # earliest possible date
    ],
)
def test_easter_sunday_known_dates(year: int, easter: date) -> None:
    """Easter Sunday matches the published dates."""
    assert easter_sunday(year) == easter


def test_easter_is_always_a_sunday_in_its_window() -> None:
    """Easter is a Sunday between 22 March and 25 April for four centuries."""
    for year in range(1900, 2300):
        easter = easter_sunday(year)
        assert easter.weekday() == 6, year
        assert date(year, 3, 22) <= easter <= date(year, 4, 25), year


def test_public_holidays_2026() -> None:
    """2026 has the eleven French holidays, movable ones computed from Easter, French names."""
    assert public_holidays(2026) == {
        date(2026, 1, 1): "Jour de l'an",
        date(2026, 4, 6): "Lundi de Pâques",
        date(2026, 5, 1): "Fête du Travail",
        date(2026, 5, 8): "Victoire 1945",
        date(2026, 5, 14): "Ascension",
        date(2026, 5, 25): "Lundi de Pentecôte",
        date(2026, 7, 14): "Fête nationale",
        date(2026, 8, 15): "Assomption",
        date(2026, 11, 1): "Toussaint",
        date(2026, 11, 11): "Armistice 1918",
        date(2026, 12, 25): "Noël",
    }


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_movable_holidays_follow_easter(year: int) -> None:
    """Easter Monday, Ascension and Whit Monday are 1, 39 and 50 days after Easter."""
    easter = easter_sunday(year)
    assert holiday_name(easter + timedelta(days=1)) == "Lundi de Pâques"
    assert holiday_name(easter + timedelta(days=39)) == "Ascension"
    assert holiday_name(easter + timedelta(days=50)) == "Lundi de Pentecôte"
    assert not is_public_holiday(easter)  # Easter Sunday itself is a Sunday, not a holiday


def test_is_public_holiday() -> None:
    """Bastille Day is a holiday; the day before is not."""
    assert is_public_holiday(date(2027, 7, 14))
    assert not is_public_holiday(date(2027, 7, 13))
    assert holiday_name(date(2027, 7, 13)) is None


def test_ascension_on_labour_day_keeps_one_holiday() -> None:
    """When Ascension falls on 1 May (2008) the day is one holiday named Fête du Travail."""
    holidays = public_holidays(2008)
    assert len(holidays) == 10
    assert holidays[date(2008, 5, 1)] == "Fête du Travail"


def test_every_holiday_has_an_english_name() -> None:
    """Each French holiday name has an English translation for the cards."""
    for name in public_holidays(2026).values():
        assert HOLIDAY_NAMES_EN[name]


def test_returned_dict_is_a_copy() -> None:
    """Changing the returned dict does not change later answers."""
    public_holidays(2030).clear()
    assert len(public_holidays(2030)) == 11


def test_zone_c_school_holidays_continue_after_christmas_2026() -> None:
    """The calendar comes from the Ministry's open data (as vacances-scolaires-france bundles it),
    not a hand-typed table ending at Christmas 2026: the February 2027 winter holidays of zone C
    are school holidays, the school weeks around them are not, and the forecast reads such a
    weekday as a Wednesday."""
    from schemas.holidays import SCHOOL_CALENDAR_ENDS, is_school_holiday, school_holiday_name
    from streams.forecast import core

    assert is_school_holiday(date(2027, 2, 10))
    assert school_holiday_name(date(2027, 2, 15)) == "Vacances d'hiver"
    assert not is_school_holiday(date(2027, 2, 5)) and not is_school_holiday(date(2027, 2, 22))
    assert not is_school_holiday(date(2027, 1, 12))
    assert is_school_holiday(date(2026, 12, 24)) and is_school_holiday(date(2025, 5, 30))
    assert date(2027, 9, 1) < SCHOOL_CALENDAR_ENDS
    keys = core.day_keys(date(2027, 2, 8), 2)  # Monday and Tuesday of the winter holidays
    assert list(keys) == [core.WEDNESDAY, core.WEDNESDAY]
