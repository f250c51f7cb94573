"""The periods of one day: their catalogue text form, its checks, and the parsed :class:`Period`.

A period is ``[opens, closes]`` in Paris wall-clock time, ``"HH:MM"``; ``"24:00"`` closes at the
end of the day. The periods of a day are sorted, each closes after it opens, and two periods never
touch or overlap (periods cannot cross midnight: close at 24:00 and open at 00:00 the next day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from functools import lru_cache
from typing import Annotated

from pydantic import StringConstraints

__all__ = [
    "HHMM",
    "DayPeriods",
    "Period",
    "PeriodJSON",
    "check_day",
    "hhmm_to_minutes",
    "minutes_to_time",
    "parsed_periods",
]

HHMM = Annotated[str, StringConstraints(pattern=r"^(?:[01]\d|2[0-3]):[0-5]\d$|^24:00$")]
"""Paris wall-clock time ``"HH:MM"``; ``"24:00"`` is allowed as a closing time (end of day)."""

PeriodJSON = tuple[HHMM, HHMM]
DayPeriods = list[PeriodJSON]


def hhmm_to_minutes(value: str) -> int:
    """Minutes since midnight of an ``"HH:MM"`` string (``"24:00"`` → 1440)."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)


def check_day(periods: DayPeriods, where: str) -> DayPeriods:
    """Periods of one day: each closes after it opens, sorted, separated by a gap."""
    previous_close: int | None = None
    previous: PeriodJSON | None = None
    for opens, closes in periods:
        start, end = hhmm_to_minutes(opens), hhmm_to_minutes(closes)
        if opens == "24:00":
            raise ValueError(f"{where}: a period cannot open at 24:00 ({opens}–{closes})")
        if end <= start:
            raise ValueError(
                f"{where}: period {opens}–{closes} closes before it opens "
                "(periods cannot cross midnight; close at 24:00 and open at 00:00 next day)"
            )
        if previous_close is not None and previous is not None:
            if start < previous_close:
                raise ValueError(
                    f"{where}: periods {previous[0]}–{previous[1]} and {opens}–{closes} "
                    "overlap or are not sorted by opening time"
                )
            if start == previous_close:
                raise ValueError(
                    f"{where}: periods {previous[0]}–{previous[1]} and {opens}–{closes} "
                    f"touch; merge them into {previous[0]}–{closes}"
                )
        previous_close, previous = end, (opens, closes)
    return periods


@dataclass(frozen=True, slots=True)
class Period:
    """One opening period of a day, in Paris wall-clock time; ``closes`` None means 24:00."""

    opens: time
    closes: time | None

    @classmethod
    def from_hhmm(cls, opens: str, closes: str) -> Period:
        """Period from its catalogue form ``("09:00", "24:00")``."""
        return cls(minutes_to_time(hhmm_to_minutes(opens)), _hhmm_time_or_none(closes))

    @property
    def opens_minutes(self) -> int:
        """Minutes since midnight at which the period opens."""
        return self.opens.hour * 60 + self.opens.minute

    @property
    def closes_minutes(self) -> int:
        """Minutes since midnight at which the period closes (1440 for 24:00)."""
        if self.closes is None:
            return 1440
        return self.closes.hour * 60 + self.closes.minute

    def as_hhmm(self) -> tuple[str, str]:
        """The period as ``("HH:MM", "HH:MM")``, 24:00 included."""
        return _minutes_to_hhmm(self.opens_minutes), _minutes_to_hhmm(self.closes_minutes)


def minutes_to_time(minutes: int) -> time:
    """The wall-clock time ``minutes`` after midnight (below 1440)."""
    return time(minutes // 60, minutes % 60)


def _hhmm_time_or_none(value: str) -> time | None:
    minutes = hhmm_to_minutes(value)
    return None if minutes == 1440 else minutes_to_time(minutes)


def _minutes_to_hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parsed_periods(periods: DayPeriods) -> tuple[Period, ...]:
    """The parsed periods of a day in their catalogue form."""
    return tuple(_parsed_period(opens, closes) for opens, closes in periods)


@lru_cache(maxsize=4096)
def _parsed_period(opens: str, closes: str) -> Period:
    return Period.from_hhmm(opens, closes)
