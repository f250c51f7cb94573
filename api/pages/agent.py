"""What the agent console needs to offer absolute reopening times: each facility's first opening
and last closing, Paris wall-clock time, for the next days (the schedule engine's days: special
days, public holidays and seasons applied), so the console can propose « ce soir à la
fermeture » and « demain à l'ouverture » without a second copy of the schedule rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from schemas.catalogue import Facility
from schemas.hours import day_schedule

__all__ = ["DAYS", "opening_days"]

DAYS = 8
"""Today and the next seven days: a facility closed on Sunday and Monday still has an opening."""

Day = tuple[str, str] | None
"""(first opening, last closing) as ``"HH:MM"`` (``"24:00"`` for midnight), None when closed."""


def _day(facility: Facility, day: dt.date) -> Day:
    periods = day_schedule(facility.hours, day).periods
    if not periods:
        return None
    first, last = periods[0], periods[-1]
    closes = "24:00" if last.closes is None else last.closes.strftime("%H:%M")
    return first.opens.strftime("%H:%M"), closes


def opening_days(facilities: Iterable[Facility], today: dt.date) -> dict[str, object]:
    """``{"from": "YYYY-MM-DD", "days": {facility id: [day 0 … day 7]}}`` (Paris dates)."""
    days = [today + dt.timedelta(days=i) for i in range(DAYS)]
    return {
        "from": today.isoformat(),
        "days": {f.id: [_day(f, d) for d in days] for f in facilities},
    }
