"""Opening-hours models and schedule engine, with fixed instants (no wall clock)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.clock import PARIS
from schemas.hours import (
    ClosureWindow,
    Label,
    OpeningHours,
    Period,
    day_schedule,
    periods_on,
    schedule_state,
)


def paris(y: int, mo: int, d: int, h: int = 0, mi: int = 0, *, fold: int = 0) -> datetime:
    """An aware Paris instant; ``fold=1`` picks the second occurrence of an ambiguous time."""
    return datetime(y, mo, d, h, mi, tzinfo=PARIS, fold=fold)


def hours(data: dict[str, Any]) -> OpeningHours:
    return OpeningHours.model_validate(data)


WEEKDAYS_ONLY = ("mon", "tue", "wed", "thu", "fri")

POOL = hours(
    {
        "weekly": {
            **{day: [["07:00", "12:00"], ["13:30", "20:00"]] for day in WEEKDAYS_ONLY},
            "sat": [["09:00", "18:00"]],
            "sun": [["09:00", "13:00"]],
        },
        "public_holidays": "closed",
    }
)

TOWN_HALL = hours(
    {
        "weekly": {
            "mon": [["08:30", "17:00"]],
            "tue": [["08:30", "17:00"]],
            "wed": [["08:30", "17:00"]],
            "thu": [["08:30", "19:30"]],
            "fri": [["08:30", "17:00"]],
            "sat": [["09:00", "12:30"]],
            "sun": [],
        }
    }
)

LIBRARY = hours(
    {
        "weekly": {day: [["10:00", "19:00"]] for day in (*WEEKDAYS_ONLY, "sat")},
        "seasons": [
            {
                "name": "summer",
                "label": {"fr": "Horaires d'été", "en": "Summer hours"},
                "from": "07-01",
                "to": "08-31",
                "weekly": {day: [["13:00", "18:00"]] for day in ("tue", "wed", "thu", "fri")},
            },
            {
                "name": "winter-break",
                "label": {"fr": "Vacances de fin d'année"},
                "from": "12-24",
                "to": "01-02",
                "weekly": {"sat": [["10:00", "13:00"]], "sun": [["14:00", "17:00"]]},
            },
        ],
        "special": [
            {
                "date": "2026-12-24",
                "periods": [["09:00", "16:00"]],
                "label": {"fr": "Veille de Noël", "en": "Christmas Eve"},
            },
            {"date": "2026-06-15", "periods": [], "label": {"fr": "Inventaire"}},
            {"date": "2026-04-06", "periods": [["10:00", "12:00"]]},
        ],
        "public_holidays": "sunday",
    }
)

DST_DAY_HOURS = hours({"weekly": {"sun": [["01:00", "04:00"], ["09:00", "18:00"]]}})


# --- models ----------------------------------------------------------------------------------


def test_catalogue_json_round_trips() -> None:
    """The catalogue's exact JSON parses and serialises back unchanged (``from`` included)."""
    data = {
        "weekly": {
            "mon": [["09:00", "12:00"], ["13:30", "17:00"]],
            "tue": [],
            "wed": [],
            "thu": [],
            "fri": [],
            "sat": [],
            "sun": [],
        },
        "seasons": [
            {
                "name": "summer",
                "label": {"fr": "Horaires d'été", "en": "Summer hours"},
                "from": "07-01",
                "to": "08-31",
                "weekly": {
                    "mon": [["10:00", "24:00"]],
                    "tue": [],
                    "wed": [],
                    "thu": [],
                    "fri": [],
                    "sat": [],
                    "sun": [],
                },
            }
        ],
        "special": [
            {"date": "2026-12-24", "periods": [["09:00", "16:00"]], "label": {"fr": "Veille"}}
        ],
        "public_holidays": "closed",
    }
    parsed = hours(data)
    assert parsed.seasons[0].from_ == "07-01"
    dumped = parsed.model_dump(mode="json", exclude_none=True)
    assert dumped == data


@pytest.mark.parametrize(
    ("mon", "message"),
    [
        ([["12:00", "09:00"]], "closes before it opens"),
        ([["09:00", "09:00"]], "closes before it opens"),
        ([["22:00", "02:00"]], "cannot cross midnight"),
        ([["09:00", "12:00"], ["11:00", "14:00"]], "overlap or are not sorted"),
        ([["13:00", "17:00"], ["09:00", "12:00"]], "overlap or are not sorted"),
        ([["09:00", "12:00"], ["12:00", "14:00"]], "merge them into 09:00–14:00"),
        ([["24:00", "24:00"]], "cannot open at 24:00"),
        ([["9:00", "12:00"]], "String should match pattern"),
        ([["09:00", "24:30"]], "String should match pattern"),
    ],
)
def test_bad_periods_are_rejected_clearly(mon: list[list[str]], message: str) -> None:
    """Malformed periods are refused with a message naming the day and the problem."""
    with pytest.raises(ValidationError, match=message):
        hours({"weekly": {"mon": mon}})


def test_period_until_midnight_is_accepted() -> None:
    """A period may close at 24:00 and is reported as such."""
    parsed = hours({"weekly": {"fri": [["18:00", "24:00"]]}})
    assert periods_on(parsed, date(2026, 5, 29)) == [Period(time(18, 0), None)]
    assert periods_on(parsed, date(2026, 5, 29))[0].as_hhmm() == ("18:00", "24:00")


def test_overlapping_seasons_are_rejected() -> None:
    """Two seasons sharing a date are refused, naming the shared day."""
    with pytest.raises(ValidationError, match="overlap \\(both include 01-05\\)"):
        hours(
            {
                "weekly": {},
                "seasons": [
                    {"name": "a", "from": "12-15", "to": "01-05", "weekly": {}},
                    {"name": "b", "from": "01-05", "to": "02-01", "weekly": {}},
                ],
            }
        )


def test_bad_season_bounds_and_duplicate_special_days_are_rejected() -> None:
    """A season bound that is not a calendar day and a special date given twice are refused."""
    with pytest.raises(ValidationError, match="02-30 is not a day of the year"):
        hours(
            {"weekly": {}, "seasons": [{"name": "a", "from": "02-30", "to": "03-01", "weekly": {}}]}
        )
    with pytest.raises(ValidationError, match="2026-12-24 is listed twice"):
        hours({"weekly": {}, "special": [{"date": "2026-12-24"}, {"date": "2026-12-24"}]})
    with pytest.raises(ValidationError, match="Extra inputs are not permitted"):
        hours({"weekly": {"thur": [["09:00", "10:00"]]}})


# --- regular hours ---------------------------------------------------------------------------


def test_pool_lunch_gap() -> None:
    """During the lunch gap the pool is closed and reopens at 13:30."""
    state = schedule_state(POOL, paris(2026, 6, 10, 12, 15))
    assert state.open_state == "closed"
    assert state.next_change_at == paris(2026, 6, 10, 13, 30)
    assert state.today_hours == [("07:00", "12:00"), ("13:30", "20:00")]
    assert state.label is None
    assert state.source == "weekly"


def test_open_pool_next_change_is_closing_soon() -> None:
    """An open pool's next change is the switch to closing soon, 30 minutes before closing."""
    state = schedule_state(POOL, paris(2026, 6, 10, 10, 0))
    assert state.open_state == "open"
    assert state.next_change_at == paris(2026, 6, 10, 11, 30)
    assert state.closes_at == paris(2026, 6, 10, 12, 0)


def test_closing_soon_thirty_minutes_before_close() -> None:
    """From 19:30 the pool closing at 20:00 is closing soon, then closed at 20:00."""
    assert schedule_state(POOL, paris(2026, 6, 10, 19, 29)).open_state == "open"
    state = schedule_state(POOL, paris(2026, 6, 10, 19, 30))
    assert state.open_state == "closing_soon"
    assert state.next_change_at == paris(2026, 6, 10, 20, 0)
    assert schedule_state(POOL, paris(2026, 6, 10, 20, 0)).open_state == "closed"


def test_closing_soon_window_is_configurable() -> None:
    """A 10-minute window starts at 19:50; a zero window goes straight from open to closed."""
    assert schedule_state(POOL, paris(2026, 6, 10, 19, 45), closing_soon_minutes=10).open_state == (
        "open"
    )
    state = schedule_state(POOL, paris(2026, 6, 10, 19, 45), closing_soon_minutes=0)
    assert state.open_state == "open"
    assert state.next_change_at == paris(2026, 6, 10, 20, 0)


def test_closed_evening_next_change_is_next_morning() -> None:
    """After closing, the next change is the next day's opening."""
    state = schedule_state(POOL, paris(2026, 6, 12, 21, 0))  # Friday evening
    assert state.open_state == "closed"
    assert state.next_change_at == paris(2026, 6, 13, 9, 0)  # Saturday hours


def test_town_hall_thursday_late_opening() -> None:
    """The town hall is open at 18:00 on Thursday only."""
    thursday = schedule_state(TOWN_HALL, paris(2026, 6, 11, 18, 0))
    assert thursday.open_state == "open"
    assert thursday.next_change_at == paris(2026, 6, 11, 19, 0)
    assert thursday.today_hours == [("08:30", "19:30")]
    wednesday = schedule_state(TOWN_HALL, paris(2026, 6, 10, 18, 0))
    assert wednesday.open_state == "closed"
    assert wednesday.next_change_at == paris(2026, 6, 11, 8, 30)


def test_sunday_closed_town_hall_reopens_monday() -> None:
    """Closed all Sunday, the town hall's next change is Monday morning."""
    state = schedule_state(TOWN_HALL, paris(2026, 6, 14, 11, 0))
    assert (state.open_state, state.today_hours) == ("closed", [])
    assert state.next_change_at == paris(2026, 6, 15, 8, 30)


def test_period_to_midnight_continues_into_next_day() -> None:
    """24:00 followed by 00:00 is one opening: not closing soon at 23:45, closing at 02:00."""
    night = hours({"weekly": {"fri": [["20:00", "24:00"]], "sat": [["00:00", "02:00"]]}})
    state = schedule_state(night, paris(2026, 6, 12, 23, 45))
    assert state.open_state == "open"
    assert state.next_change_at == paris(2026, 6, 13, 1, 30)
    assert state.closes_at == paris(2026, 6, 13, 2, 0)


def test_always_open_has_no_next_change() -> None:
    """A facility open around the clock every day is open with no known change."""
    every_day = {day: [["00:00", "24:00"]] for day in (*WEEKDAYS_ONLY, "sat", "sun")}
    always = hours({"weekly": every_day, "public_holidays": "open"})
    state = schedule_state(always, paris(2026, 3, 29, 2, 30, fold=0))
    assert state.open_state == "open"
    assert state.next_change_at is None


def test_never_open_has_no_next_change() -> None:
    """A facility with no hours at all is closed with no known change."""
    state = schedule_state(hours({"weekly": {}}), paris(2026, 6, 10, 12, 0))
    assert (state.open_state, state.next_change_at) == ("closed", None)


# --- seasons, special days, public holidays --------------------------------------------------


def test_summer_season_hours_and_label() -> None:
    """In July the library follows its summer hours and shows the season's label."""
    state = schedule_state(LIBRARY, paris(2026, 7, 15, 11, 0))  # Wednesday
    assert state.open_state == "closed"
    assert state.today_hours == [("13:00", "18:00")]
    assert state.label == Label(fr="Horaires d'été", en="Summer hours")
    assert state.source == "season"
    assert state.next_change_at == paris(2026, 7, 15, 13, 0)


def test_season_bounds_are_inclusive() -> None:
    """The season applies from its first to its last day, and not around them."""
    assert periods_on(LIBRARY, date(2026, 6, 30)) == [Period(time(10), time(19))]
    assert periods_on(LIBRARY, date(2026, 7, 1)) == [Period(time(13), time(18))]
    assert periods_on(LIBRARY, date(2026, 8, 31)) == []  # a Monday in summer
    assert periods_on(LIBRARY, date(2026, 9, 1)) == [Period(time(10), time(19))]


def test_season_wrapping_the_year_end() -> None:
    """A season from 24 December to 2 January applies on both sides of New Year."""
    assert day_schedule(LIBRARY, date(2026, 12, 26)).source == "season"
    assert periods_on(LIBRARY, date(2026, 12, 26)) == [Period(time(10), time(13))]
    assert periods_on(LIBRARY, date(2027, 1, 2)) == [Period(time(10), time(13))]  # Saturday
    assert day_schedule(LIBRARY, date(2027, 1, 4)).source == "weekly"


def test_special_day_overrides_everything() -> None:
    """Christmas Eve's special hours replace the season's hours, with their label."""
    state = schedule_state(LIBRARY, paris(2026, 12, 24, 15, 40))
    assert state.open_state == "closing_soon"
    assert state.today_hours == [("09:00", "16:00")]
    assert state.label == Label(fr="Veille de Noël", en="Christmas Eve")
    assert state.source == "special"
    assert state.next_change_at == paris(2026, 12, 24, 16, 0)


def test_special_day_with_no_periods_is_closed_all_day() -> None:
    """An inventory day closes an ordinary Monday; the next change is Tuesday's opening."""
    state = schedule_state(LIBRARY, paris(2026, 6, 15, 11, 0))
    assert (state.open_state, state.today_hours) == ("closed", [])
    assert state.label == Label(fr="Inventaire")
    assert state.next_change_at == paris(2026, 6, 16, 10, 0)


def test_easter_monday_closed() -> None:
    """The pool closes on Easter Monday and reopens on Tuesday; the card names the holiday."""
    state = schedule_state(POOL, paris(2026, 4, 6, 10, 0))
    assert (state.open_state, state.today_hours) == ("closed", [])
    assert state.label == Label(fr="Lundi de Pâques", en="Easter Monday")
    assert state.source == "public_holiday"
    assert state.next_change_at == paris(2026, 4, 7, 7, 0)


def test_public_holiday_rules() -> None:
    """On a holiday, "sunday" uses Sunday hours and "open" keeps the weekday's hours."""
    holiday = date(2026, 5, 14)  # Ascension, a Thursday
    as_sunday = POOL.model_copy(update={"public_holidays": "sunday"})
    as_open = POOL.model_copy(update={"public_holidays": "open"})
    assert periods_on(POOL, holiday) == []
    assert periods_on(as_sunday, holiday) == [Period(time(9), time(13))]
    assert periods_on(as_open, holiday) == [
        Period(time(7), time(12)),
        Period(time(13, 30), time(20)),
    ]
    assert schedule_state(as_open, paris(2026, 5, 14, 10, 0)).label is None


def test_special_day_beats_public_holiday() -> None:
    """A special day set on Easter Monday opens the library despite the holiday."""
    state = schedule_state(LIBRARY, paris(2026, 4, 6, 10, 30))
    assert state.open_state == "open"
    assert state.source == "special"


def test_holiday_as_sunday_inside_a_season_uses_the_season_sunday() -> None:
    """On New Year's Day with the "sunday" rule, the winter-break Sunday hours apply."""
    assert periods_on(LIBRARY, date(2027, 1, 1)) == [Period(time(14), time(17))]
    assert day_schedule(LIBRARY, date(2027, 1, 1)).label == Label(
        fr="Jour de l'an", en="New Year's Day"
    )


# --- daylight saving time --------------------------------------------------------------------


def test_spring_forward_night_period_lasts_two_real_hours() -> None:
    """On 29 March 2026, 01:00–04:00 opens at 01:00 CET and closes at 04:00 CEST."""
    before = schedule_state(DST_DAY_HOURS, paris(2026, 3, 29, 0, 59))
    assert before.open_state == "closed"
    assert before.next_change_at == paris(2026, 3, 29, 1, 0)
    opened = schedule_state(DST_DAY_HOURS, paris(2026, 3, 29, 1, 0))
    assert opened.open_state == "open"
    assert opened.next_change_at == paris(2026, 3, 29, 3, 30)
    assert opened.next_change_at is not None
    real_time_open = opened.next_change_at.astimezone(UTC) - paris(2026, 3, 29, 1, 0).astimezone(
        UTC
    )
    assert real_time_open == timedelta(hours=1, minutes=30)
    assert opened.next_change_at.utcoffset() == timedelta(hours=2)
    # 01:59 CET is immediately followed by 03:00 CEST: still open, not yet closing soon.
    just_after_jump = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)
    assert schedule_state(DST_DAY_HOURS, just_after_jump).open_state == "open"
    assert schedule_state(DST_DAY_HOURS, paris(2026, 3, 29, 3, 45)).open_state == "closing_soon"
    after = schedule_state(DST_DAY_HOURS, paris(2026, 3, 29, 4, 0))
    assert after.open_state == "closed"
    assert after.next_change_at == paris(2026, 3, 29, 9, 0)


def test_spring_forward_day_period_follows_summer_time() -> None:
    """On 29 March 2026, 09:00–18:00 is read in summer time: closing soon at 17:30 CEST."""
    state = schedule_state(DST_DAY_HOURS, paris(2026, 3, 29, 12, 0))
    assert state.open_state == "open"
    assert state.next_change_at == paris(2026, 3, 29, 17, 30)
    assert state.next_change_at is not None
    assert state.next_change_at.astimezone(UTC) == datetime(2026, 3, 29, 15, 30, tzinfo=UTC)


def test_period_inside_the_skipped_hour_never_opens() -> None:
    """02:00–03:00 does not exist on the spring-forward day; 02:30–05:00 opens at 03:00 CEST."""
    skipped = hours({"weekly": {"sun": [["02:00", "03:00"]]}})
    state = schedule_state(skipped, paris(2026, 3, 29, 1, 30))
    assert state.open_state == "closed"
    assert state.next_change_at == paris(2026, 4, 5, 2, 0)  # next Sunday, an ordinary day
    late = hours({"weekly": {"sun": [["02:30", "05:00"]]}})
    state = schedule_state(late, paris(2026, 3, 29, 1, 30))
    assert state.next_change_at == paris(2026, 3, 29, 3, 0)
    assert state.next_change_at is not None
    assert state.next_change_at.utcoffset() == timedelta(hours=2)


def test_fall_back_night_period_lasts_four_real_hours() -> None:
    """On 25 October 2026, 01:00–04:00 stays open through both 02:00–03:00 hours."""
    first_half_past_two = paris(2026, 10, 25, 2, 30, fold=0)  # CEST
    second_half_past_two = paris(2026, 10, 25, 2, 30, fold=1)  # CET, one hour later
    assert second_half_past_two.astimezone(UTC) - first_half_past_two.astimezone(UTC) == (
        timedelta(hours=1)
    )
    for instant in (first_half_past_two, second_half_past_two):
        state = schedule_state(DST_DAY_HOURS, instant)
        assert state.open_state == "open"
        assert state.next_change_at == paris(2026, 10, 25, 3, 30)
        assert state.next_change_at is not None
        assert state.next_change_at.utcoffset() == timedelta(hours=1)
    closes_at = schedule_state(DST_DAY_HOURS, first_half_past_two).closes_at
    assert closes_at is not None
    assert closes_at.astimezone(UTC) - paris(2026, 10, 25, 1, 0).astimezone(UTC) == timedelta(
        hours=4
    )


def test_fall_back_day_period_follows_winter_time() -> None:
    """On 25 October 2026, 09:00–18:00 is read in winter time: closing soon at 17:30 CET."""
    state = schedule_state(DST_DAY_HOURS, paris(2026, 10, 25, 12, 0))
    assert state.next_change_at == paris(2026, 10, 25, 17, 30)
    assert state.next_change_at is not None
    assert state.next_change_at.astimezone(UTC) == datetime(2026, 10, 25, 16, 30, tzinfo=UTC)


def test_period_closing_in_the_repeated_hour_closes_at_its_first_occurrence() -> None:
    """A period closing at 02:30 on the fall-back day closes at 02:30 CEST, once."""
    early = hours({"weekly": {"sun": [["01:00", "02:30"]]}})
    assert schedule_state(early, paris(2026, 10, 25, 2, 15, fold=0)).open_state == "closing_soon"
    state = schedule_state(early, paris(2026, 10, 25, 2, 15, fold=1))
    assert state.open_state == "closed"
    assert state.next_change_at == paris(2026, 11, 8, 1, 0)  # 1 November is a holiday


# --- closures --------------------------------------------------------------------------------


def test_facility_closure_while_open_is_exceptionally_closed() -> None:
    """A facility closure during opening hours wins; the next change is the expected reopening."""
    closure = ClosureWindow(paris(2026, 6, 10, 9, 0), paris(2026, 6, 10, 15, 0), "facility")
    state = schedule_state(POOL, paris(2026, 6, 10, 10, 0), closures=[closure])
    assert state.open_state == "exceptionally_closed"
    assert state.next_change_at == paris(2026, 6, 10, 15, 0)
    assert state.today_hours == [("07:00", "12:00"), ("13:30", "20:00")]
    assert schedule_state(POOL, paris(2026, 6, 10, 15, 0), closures=[closure]).open_state == "open"


def test_facility_closure_at_night_is_exceptionally_closed() -> None:
    """An ongoing facility closure shows as exceptional even outside opening hours."""
    closure = ClosureWindow(paris(2026, 6, 10, 9, 0), None, "facility")
    state = schedule_state(POOL, paris(2026, 6, 10, 23, 0), closures=[closure])
    assert state.open_state == "exceptionally_closed"
    assert state.next_change_at is None


def test_long_facility_closure_reports_its_end_beyond_two_weeks() -> None:
    """A three-month works closure gives its expected reopening as the next change."""
    closure = ClosureWindow(paris(2026, 6, 1), paris(2026, 9, 1, 7, 0), "facility")
    state = schedule_state(POOL, paris(2026, 6, 10, 10, 0), closures=[closure])
    assert state.next_change_at == paris(2026, 9, 1, 7, 0)


def test_facility_closure_ending_while_closed_changes_to_closed() -> None:
    """A closure ending at night changes the state to closed at its end."""
    closure = ClosureWindow(paris(2026, 6, 10, 9, 0), paris(2026, 6, 10, 22, 0), "facility")
    state = schedule_state(POOL, paris(2026, 6, 10, 21, 0), closures=[closure])
    assert state.next_change_at == paris(2026, 6, 10, 22, 0)
    assert schedule_state(POOL, paris(2026, 6, 10, 22, 0), closures=[closure]).open_state == (
        "closed"
    )


def test_chained_facility_closures_end_at_the_last_one() -> None:
    """Back-to-back facility closures are one exceptional closure until the later end."""
    closures = [
        ClosureWindow(paris(2026, 6, 10, 8, 0), paris(2026, 6, 10, 11, 0), "facility"),
        ClosureWindow(paris(2026, 6, 10, 10, 0), paris(2026, 6, 10, 16, 0), "facility"),
    ]
    state = schedule_state(POOL, paris(2026, 6, 10, 9, 0), closures=closures)
    assert state.next_change_at == paris(2026, 6, 10, 16, 0)


@pytest.mark.parametrize("scope_kind", ["area", "service"])
def test_partial_closure_while_open(scope_kind: str) -> None:
    """An area or service closure while open is partially closed, until it ends."""
    closure = ClosureWindow(paris(2026, 6, 10, 9, 0), paris(2026, 6, 10, 11, 0), scope_kind)  # type: ignore[arg-type]
    state = schedule_state(POOL, paris(2026, 6, 10, 10, 0), closures=[closure])
    assert state.open_state == "partially_closed"
    assert state.next_change_at == paris(2026, 6, 10, 11, 0)
    after = schedule_state(POOL, paris(2026, 6, 10, 11, 0), closures=[closure])
    assert after.open_state == "open"
    assert after.next_change_at == paris(2026, 6, 10, 11, 30)


def test_partial_closure_while_closed_is_closed() -> None:
    """An area closure outside opening hours leaves the facility simply closed."""
    closure = ClosureWindow(paris(2026, 6, 10, 0, 0), None, "area")
    state = schedule_state(POOL, paris(2026, 6, 10, 12, 30), closures=[closure])
    assert state.open_state == "closed"
    assert state.next_change_at == paris(2026, 6, 10, 13, 30)
    reopening = schedule_state(POOL, paris(2026, 6, 10, 13, 30), closures=[closure])
    assert reopening.open_state == "partially_closed"


def test_future_closure_brings_next_change_forward() -> None:
    """A facility closure declared for 10:00 makes 10:00 the next change of an open pool."""
    closure = ClosureWindow(paris(2026, 6, 10, 10, 0), paris(2026, 6, 10, 14, 0), "facility")
    state = schedule_state(POOL, paris(2026, 6, 10, 8, 0), closures=[closure])
    assert state.open_state == "open"
    assert state.next_change_at == paris(2026, 6, 10, 10, 0)


def test_future_closure_that_changes_nothing_is_skipped() -> None:
    """An area closure starting while the pool is closed does not count as a change."""
    closure = ClosureWindow(paris(2026, 6, 10, 21, 0), paris(2026, 6, 10, 23, 0), "area")
    state = schedule_state(POOL, paris(2026, 6, 10, 20, 30), closures=[closure])
    assert state.next_change_at == paris(2026, 6, 11, 7, 0)


def test_past_expected_reopening_restores_regular_hours() -> None:
    """A closure whose expected reopening has passed no longer closes the facility."""
    closure = ClosureWindow(paris(2026, 6, 10, 8, 0), paris(2026, 6, 10, 9, 0), "facility")
    assert schedule_state(POOL, paris(2026, 6, 10, 10, 0), closures=[closure]).open_state == "open"


# --- inputs and results ----------------------------------------------------------------------


def test_naive_instants_are_refused() -> None:
    """A naive instant or closure bound raises ValueError instead of guessing a zone."""
    with pytest.raises(ValueError, match="at must be timezone-aware"):
        schedule_state(POOL, datetime(2026, 6, 10, 10, 0))
    with pytest.raises(ValueError, match="starts_at must be timezone-aware"):
        ClosureWindow(datetime(2026, 6, 10, 10, 0), None, "facility")
    with pytest.raises(ValueError, match="scope_kind must be one of"):
        ClosureWindow(paris(2026, 6, 10), None, "building")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="closing_soon_minutes"):
        schedule_state(POOL, paris(2026, 6, 10), closing_soon_minutes=-1)


def test_same_instant_in_any_zone_gives_the_same_answer() -> None:
    """The instant's own offset does not matter, only the Paris date and time it denotes."""
    instant = paris(2026, 6, 10, 19, 40)
    in_utc = schedule_state(POOL, instant.astimezone(UTC))
    in_tokyo = schedule_state(POOL, instant.astimezone(timezone(timedelta(hours=9))))
    assert in_utc == in_tokyo == schedule_state(POOL, instant)
    assert in_utc.next_change_at is not None
    assert in_utc.next_change_at.tzinfo is PARIS


def test_today_is_the_paris_date() -> None:
    """At 23:30 UTC on a Saturday it is already Sunday in Paris: Sunday's hours are shown."""
    state = schedule_state(POOL, datetime(2026, 6, 13, 23, 30, tzinfo=UTC))
    assert state.today_hours == [("09:00", "13:00")]


def test_copied_hours_do_not_reuse_cached_days() -> None:
    """A modified copy of cached hours answers from its own data."""
    monday = paris(2026, 4, 6, 10, 0)
    assert schedule_state(POOL, monday).open_state == "closed"
    reopened = POOL.model_copy(update={"public_holidays": "open"})
    assert schedule_state(reopened, monday).open_state == "open"
    assert schedule_state(POOL, monday).open_state == "closed"
