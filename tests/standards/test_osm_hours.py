"""OSM ``opening_hours``: every facility's hours written for OpenStreetMap, read back by a
maintained parser (``opening-hours-py``), say open/closed exactly when the engine does."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
from opening_hours import OpeningHours as OsmParser

from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.holidays import public_holidays
from schemas.hours import ClosureWindow, OpeningHours, schedule_state
from schemas.hours.osm import osm_opening_hours
from schemas.hours.periods import hhmm_to_minutes

OPEN = frozenset({"open", "closing_soon", "partially_closed"})
START = date(2026, 1, 1)
DAYS = 2 * 366


def _hours(doc: dict[str, object]) -> OpeningHours:
    return OpeningHours.model_validate(doc)


def _engine_open(
    hours: OpeningHours, at: datetime, closures: tuple[ClosureWindow, ...] = ()
) -> bool:
    return schedule_state(hours, at, closures=closures).open_state in OPEN


def _parser_open(parser: OsmParser, at: datetime) -> bool:
    return bool(parser.is_open(at.astimezone(PARIS).replace(tzinfo=None)))


def _edges(hours: OpeningHours) -> set[int]:
    """Minutes of the day around every opening and closing the hours name."""
    minutes = {0, 12 * 60, 23 * 60 + 59}
    weeks = [hours.weekly, *(s.weekly for s in hours.seasons)]
    days = [getattr(w, k) for w in weeks for k in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")]
    days += [s.periods for s in hours.special]
    for periods in days:
        for opens, closes in periods:
            for value in (hhmm_to_minutes(opens), hhmm_to_minutes(closes)):
                minutes.update({value - 1, value, (value + 1)})
    return {m for m in minutes if 0 <= m < 24 * 60}


def _interesting_days(hours: OpeningHours) -> set[date]:
    """Every public holiday, special day and season bound over two years, plus one day a week."""
    days = {START + timedelta(days=offset) for offset in range(0, DAYS, 5)}
    for year in (START.year, START.year + 1):
        days.update(public_holidays(year))
        for season in hours.seasons:
            for bound in (season.from_, season.to):
                month, day = (int(part) for part in bound.split("-"))
                if (month, day) == (2, 29) and year % 4:
                    continue
                edge = date(year, month, day)
                days.update({edge - timedelta(days=1), edge, edge + timedelta(days=1)})
    days.update(s.date for s in hours.special)
    return days


def _instants(hours: OpeningHours) -> Iterator[datetime]:
    minutes = sorted(_edges(hours))
    for day in sorted(_interesting_days(hours)):
        for minute in minutes:
            local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=PARIS)
            if local.astimezone(UTC).astimezone(PARIS).replace(tzinfo=None) != local.replace(
                tzinfo=None
            ):
                continue  # inside the skipped hour of the spring DST change: no such wall time
            yield local


def _disagreements(
    hours: OpeningHours, closures: tuple[ClosureWindow, ...] = ()
) -> tuple[str, list[str], int]:
    text = osm_opening_hours(hours, closures)
    parser = OsmParser(text, country="FR")
    wrong: list[str] = []
    count = 0
    for at in _instants(hours):
        count += 1
        if _engine_open(hours, at, closures) != _parser_open(parser, at):
            wrong.append(at.isoformat())
    return text, wrong, count


def test_every_facility_round_trips_through_the_osm_parser() -> None:
    """For every facility of the catalogue, the OSM string parses without warning and the
    parser's open/closed agrees with the engine at every sampled instant (period edges on
    holidays, season bounds, special days and a day in five over two years)."""
    catalogue = load_catalogue()
    checked = 0
    checked_hours: set[str] = set()
    for facility in catalogue:
        key = facility.hours.model_dump_json()
        if key in checked_hours:  # the same hours as a facility already checked
            continue
        checked_hours.add(key)
        text = osm_opening_hours(facility.hours)
        parser = OsmParser(text, country="FR")
        assert parser.warnings == [], (facility.id, text, parser.warnings)
        text, wrong, count = _disagreements(facility.hours)
        assert not wrong, f"{facility.id}: {text!r} disagrees at {wrong[:5]}"
        checked += count
    assert len(catalogue) > 1000
    assert checked > 100_000


def test_public_holiday_rules_map_as_the_engine_reads_them() -> None:
    """closed → ``PH off``; sunday → ``PH`` with the Sunday hours (season ones within the
    season); open → no PH rule, the weekday's hours hold."""
    weekly = {"mon": [["09:00", "17:00"]], "sun": [["10:00", "12:00"]]}
    closed = _hours({"weekly": weekly, "public_holidays": "closed"})
    assert osm_opening_hours(closed) == "Mo 09:00-17:00; Su 10:00-12:00; PH off"
    sunday = _hours(
        {
            "weekly": weekly,
            "public_holidays": "sunday",
            "seasons": [
                {
                    "name": "ete",
                    "from": "07-01",
                    "to": "08-31",
                    "weekly": {"sun": [["08:00", "20:00"]]},
                }
            ],
        }
    )
    assert "PH 10:00-12:00" in osm_opening_hours(sunday)
    assert "Jul 01-Aug 31 PH 08:00-20:00" in osm_opening_hours(sunday)
    opened = _hours({"weekly": weekly, "public_holidays": "open"})
    assert "PH" not in osm_opening_hours(opened)
    for hours in (closed, sunday, opened):
        text, wrong, _ = _disagreements(hours)
        assert not wrong, (text, wrong[:5])


def test_seasons_wrapping_the_year_end_and_special_days_round_trip() -> None:
    """A season from 15 December to 5 January replaces every weekday, closed ones included,
    and a special day (open or closed) beats the holiday rule."""
    hours = _hours(
        {
            "weekly": {
                "mon": [["09:00", "12:00"], ["13:30", "17:00"]],
                "sat": [["09:00", "24:00"]],
            },
            "seasons": [
                {
                    "name": "hiver",
                    "from": "12-15",
                    "to": "01-05",
                    "weekly": {"tue": [["10:00", "11:00"]]},
                }
            ],
            "special": [
                {"date": "2026-12-25", "periods": [["10:00", "12:00"]]},
                {"date": "2026-03-02", "periods": []},
            ],
        }
    )
    text = osm_opening_hours(hours)
    assert text.startswith("Mo 09:00-12:00,13:30-17:00; Sa 09:00-24:00; Dec 15-Jan 05 Mo off")
    assert text.endswith("PH off; 2026 Dec 25 10:00-12:00; 2026 Mar 02 off")
    _, wrong, count = _disagreements(hours)
    assert not wrong and count > 1000, wrong[:5]


def test_closures_with_a_known_end_become_dated_off_rules() -> None:
    """A facility closure over three days is written day by day and read back closed; an area
    closure and a closure without an expected reopening are left out."""
    hours = _hours(
        {"weekly": {day: [["08:00", "20:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}}
    )
    starts = datetime(2026, 3, 3, 14, 0, tzinfo=PARIS)
    closures = (
        ClosureWindow(starts, starts + timedelta(days=2, hours=-4), "facility"),
        ClosureWindow(starts, None, "area"),
        ClosureWindow(starts + timedelta(days=20), None, "facility"),
    )
    text = osm_opening_hours(hours, closures)
    assert text.endswith(
        "2026 Mar 03 14:00-24:00 off; 2026 Mar 04 00:00-24:00 off; 2026 Mar 05 00:00-10:00 off"
    )
    parser = OsmParser(text, country="FR")
    for at, expected in (
        (starts - timedelta(minutes=1), True),
        (starts, False),
        (starts + timedelta(days=1), False),
        (starts + timedelta(days=2, hours=-4, minutes=-1), False),
        (starts + timedelta(days=2, hours=-4), True),
    ):
        assert _parser_open(parser, at) is expected, at
        assert _engine_open(hours, at, closures[:1]) is expected, at


@pytest.mark.parametrize("public_holidays", ["closed", "open", "sunday"])
def test_a_facility_closed_all_week_is_off(public_holidays: str) -> None:
    """Hours with no period at all read ``off`` (closed), never an empty string."""
    hours = _hours({"weekly": {}, "public_holidays": public_holidays})
    text = osm_opening_hours(hours)
    assert text.split("; ")[0] in {"off", "PH off"}
    assert not OsmParser(text, country="FR").is_open(datetime(2026, 5, 1, 11, 0))
