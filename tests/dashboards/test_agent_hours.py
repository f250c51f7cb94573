"""The opening days the agent console offers absolute reopening times from (« ce soir à la
fermeture », « demain à l'ouverture »): the schedule engine's days, holidays included."""

from __future__ import annotations

import datetime as dt

from api.pages.agent import DAYS, opening_days
from schemas.catalogue import load_catalogue
from schemas.hours import day_schedule


def test_each_day_is_the_first_opening_and_the_last_closing_of_the_engine() -> None:
    """Eight days per facility; an open day is (first opening, last closing), a closed one None."""
    catalogue = load_catalogue()
    pool = catalogue.get("piscine-pontoise")
    start = dt.date(2026, 12, 21)  # Christmas week: 25 December is a public holiday
    days = opening_days([pool], start)
    assert days["from"] == "2026-12-21"
    listed = days["days"]["piscine-pontoise"]
    assert len(listed) == DAYS
    for i, entry in enumerate(listed):
        periods = day_schedule(pool.hours, start + dt.timedelta(days=i)).periods
        if not periods:
            assert entry is None
        else:
            assert entry == (
                periods[0].opens.strftime("%H:%M"),
                "24:00" if periods[-1].closes is None else periods[-1].closes.strftime("%H:%M"),
            )
    christmas = day_schedule(pool.hours, dt.date(2026, 12, 25))
    assert christmas.source in {"public_holiday", "special"}
