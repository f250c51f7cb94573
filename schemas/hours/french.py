"""The City's opening-hours text, read into the hours model — or refused with a reason.

The open datasets of the Ville de Paris write one weekday per field and one period per line::

    parse_day("06h30 - 07h45 / 11h45 - 19h45")   # [("06:30", "07:45"), ("11:45", "19:45")]
    parse_day("-")                                # []  (closed that day)
    parse_period("du 01/09/25 au 05/07/26")       # (date(2025, 9, 1), date(2026, 7, 5))

Nothing is guessed: a text that does not read cleanly raises :class:`HoursTextError`, whose
``reason`` the catalogue build counts in its report (``missing``, ``truncated``, ``unparsable``,
``overnight``, ``overlapping``).
"""

from __future__ import annotations

import re
from datetime import date

from schemas.hours.periods import check_day

__all__ = ["HoursTextError", "complete_periods", "parse_day", "parse_period"]

_CLOSED = {"-", "fermé", "ferme", "fermée", "closed"}
_TIME = r"(\d{1,2})\s*[h:]\s*(\d{2})?"
_SPAN = re.compile(rf"^{_TIME}\s*[-–—]\s*{_TIME}$", re.IGNORECASE)
_TRUNCATED = re.compile(r"(?:/|-|–)\s*\d{0,2}\s*h?\s*$")
_DATE = r"(\d{2})/(\d{2})/(\d{2}(?:\d{2})?)"
_BETWEEN = re.compile(rf"^du\s+{_DATE}\s+au\s+{_DATE}$", re.IGNORECASE)
_SINCE = re.compile(rf"^à partir du\s+{_DATE}$", re.IGNORECASE)


class HoursTextError(ValueError):
    """A day's hours text that cannot be read without guessing; ``reason`` is a short slug."""

    def __init__(self, reason: str, text: str | None) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason
        self.text = text


def _hhmm(hours: str, minutes: str | None, text: str) -> str:
    hour, minute = int(hours), int(minutes or 0)
    if hour > 24 or minute > 59 or (hour == 24 and minute):
        raise HoursTextError("unparsable", text)
    return f"{hour:02d}:{minute:02d}"


def parse_day(text: str | None) -> list[tuple[str, str]]:
    """The periods of one weekday, from the datasets' text (``"-"`` or ``"Fermé"``: closed)."""
    if text is None or not text.strip():
        raise HoursTextError("missing", text)
    cleaned = " ".join(text.split())
    if cleaned.casefold() in _CLOSED:
        return []
    periods: list[tuple[str, str]] = []
    parts = [part.strip() for part in cleaned.split("/")]
    for index, part in enumerate(parts):
        match = _SPAN.match(part)
        if match is None:
            last = index == len(parts) - 1
            if last and (not part or _TRUNCATED.search(cleaned) or part.isdigit()):
                raise HoursTextError("truncated", text)
            raise HoursTextError("unparsable", text)
        opens = _hhmm(match.group(1), match.group(2), text)
        closes = _hhmm(match.group(3), match.group(4), text)
        if closes <= opens:
            raise HoursTextError("overnight", text)
        periods.append((opens, closes))
    try:
        check_day(periods, "day")
    except ValueError:
        raise HoursTextError("overlapping", text) from None
    return periods


def _date(day: str, month: str, year: str) -> date:
    full_year = int(year) + (2000 if len(year) == 2 else 0)
    return date(full_year, int(month), int(day))


def parse_period(text: str | None) -> tuple[date | None, date | None] | None:
    """``"du 01/09/25 au 05/07/26"`` → both dates, ``"à partir du 02/09/25"`` → (start, None).

    ``None`` (no period given) → ``(None, None)``; free text → ``None`` (the caller reports it).
    """
    if text is None or not text.strip():
        return (None, None)
    cleaned = " ".join(text.split())
    try:
        if match := _BETWEEN.match(cleaned):
            return _date(*match.group(1, 2, 3)), _date(*match.group(4, 5, 6))
        if match := _SINCE.match(cleaned):
            return _date(*match.group(1, 2, 3)), None
    except ValueError:
        return None
    return None


def complete_periods(text: str) -> list[tuple[str, str]]:
    """The periods of a cut text before its cut part (``"… / 20"``), for a day marked estimated."""
    head, _, _ = text.rpartition("/")
    return parse_day(head) if head.strip() else []
