"""The City's French opening-hours text, read into periods — or refused with a reason."""

from __future__ import annotations

from datetime import date

import pytest

from schemas.hours.french import HoursTextError, complete_periods, parse_day, parse_period


@pytest.mark.parametrize(
    ("text", "periods"),
    [
        # Piscine Pontoise (îlots PI13), Monday.
        (
            "06h30 - 07h45 / 11h45 - 19h45 / 20h00 - 22h45",
            [("06:30", "07:45"), ("11:45", "19:45"), ("20:00", "22:45")],
        ),
        # Bibliothèque Benjamin Rabier (BI18), Wednesday.
        ("10h00 - 13h00 / 14h00 - 18h00", [("10:00", "13:00"), ("14:00", "18:00")]),
        # Museums and mairies write hours without minutes, or with a colon.
        ("14h - 17h", [("14:00", "17:00")]),
        ("09:00 - 18:00", [("09:00", "18:00")]),
        ("10h – 18h", [("10:00", "18:00")]),
        ("11h-19h", [("11:00", "19:00")]),
        ("10h30 - 22h", [("10:30", "22:00")]),
        ("9H30 - 17H", [("09:30", "17:00")]),
        ("-", []),
        ("Fermé", []),
    ],
)
def test_real_rows_are_read(text: str, periods: list[tuple[str, str]]) -> None:
    """Texts found in the îlots dataset become the periods they state."""
    assert parse_day(text) == periods


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        # Piscine Pontoise, Tuesday: the export cut the text after "/ 20".
        ("06h30 - 07h45 / 11h45 - 13h45 / 16h30 - 19h45 / 20", "truncated"),
        (None, "missing"),
        ("", "missing"),
        ("Les horaires étant susceptibles d'évoluer, merci d", "unparsable"),
        ("20h00 - 02h00", "overnight"),
        ("10h00 - 13h00 / 12h00 - 18h00", "overlapping"),
        ("25h00 - 26h00", "unparsable"),
    ],
)
def test_unreadable_texts_are_refused_with_a_reason(text: str | None, reason: str) -> None:
    """A text that cannot be read without guessing is refused, with the reason the build counts."""
    with pytest.raises(HoursTextError) as caught:
        parse_day(text)
    assert caught.value.reason == reason


def test_a_cut_text_keeps_only_its_complete_periods() -> None:
    """The periods before the cut are kept for a day that stays marked estimated."""
    cut = "06h30 - 07h45 / 11h45 - 13h45 / 16h30 - 19h45 / 20"
    assert complete_periods(cut) == [("06:30", "07:45"), ("11:45", "13:45"), ("16:30", "19:45")]


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("du 01/09/25 au 05/07/26", (date(2025, 9, 1), date(2026, 7, 5))),
        ("à partir du 02/09/25", (date(2025, 9, 2), None)),
        ("du 01/01/20 au 02/01/63", (date(2020, 1, 1), date(2063, 1, 2))),
        (None, (None, None)),
        ("Fermeture du 09 au 23 août inclus", None),
        ("Pas d'horaires réguliers", None),
    ],
)
def test_periods(text: str | None, bounds: tuple[date | None, date | None] | None) -> None:
    """Periods give their dates; free text is not read as a period (the build reports it)."""
    assert parse_period(text) == bounds
