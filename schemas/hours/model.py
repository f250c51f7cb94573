"""The catalogue's ``hours`` models: weekly hours, seasons, special days, the public-holiday rule.

Validation refuses what would make a date ambiguous (a special day listed twice, overlapping
seasons) or a day's periods malformed (:func:`schemas.hours.periods.check_day`).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from schemas.hours.periods import DayPeriods, check_day

__all__ = [
    "WEEKDAYS",
    "Label",
    "OpeningHours",
    "PublicHolidayRule",
    "Season",
    "SpecialDay",
    "WeeklyHours",
]

WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
"""Weekday keys of :class:`WeeklyHours`, indexed like :meth:`datetime.date.weekday`."""

MMDD = Annotated[str, StringConstraints(pattern=r"^(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])$")]

PublicHolidayRule = Literal["closed", "open", "sunday"]

_DAYS_IN_MONTH = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
_MODEL_CONFIG = ConfigDict(
    frozen=True, extra="forbid", populate_by_name=True, serialize_by_alias=True
)


class Label(BaseModel):
    """Text a citizen reads: French first, English optional."""

    model_config = _MODEL_CONFIG

    fr: str = Field(min_length=1)
    en: str | None = None


class WeeklyHours(BaseModel):
    """Regular periods per weekday; a missing or empty day is closed."""

    model_config = _MODEL_CONFIG

    mon: DayPeriods = []
    tue: DayPeriods = []
    wed: DayPeriods = []
    thu: DayPeriods = []
    fri: DayPeriods = []
    sat: DayPeriods = []
    sun: DayPeriods = []

    @model_validator(mode="after")
    def _periods_are_well_formed(self) -> WeeklyHours:
        for key in WEEKDAYS:
            check_day(getattr(self, key), key)
        return self

    def on_weekday(self, weekday: int) -> DayPeriods:
        """Periods of a weekday, 0 = Monday as in :meth:`datetime.date.weekday`."""
        periods: DayPeriods = getattr(self, WEEKDAYS[weekday])
        return periods


class Season(BaseModel):
    """Weekly hours applying every year between two month-day bounds, both included.

    ``from`` later than ``to`` wraps the year end (``"12-15"`` → ``"01-05"``).
    """

    model_config = _MODEL_CONFIG

    name: str = Field(min_length=1)
    label: Label | None = None
    from_: MMDD = Field(alias="from")
    to: MMDD
    weekly: WeeklyHours

    @field_validator("from_", "to")
    @classmethod
    def _day_exists(cls, value: str) -> str:
        month, day = (int(part) for part in value.split("-"))
        if day > _DAYS_IN_MONTH[month - 1]:
            raise ValueError(f"{value} is not a day of the year")
        return value

    def contains(self, day: date) -> bool:
        """Whether the season applies on ``day``."""
        key = (day.month, day.day)
        start = _month_day(self.from_)
        end = _month_day(self.to)
        if start <= end:
            return start <= key <= end
        return key >= start or key <= end


def _month_day(value: str) -> tuple[int, int]:
    month, day = value.split("-")
    return int(month), int(day)


class SpecialDay(BaseModel):
    """One date whose periods replace everything else; empty periods = closed all day."""

    model_config = _MODEL_CONFIG

    date: date
    periods: DayPeriods = []
    label: Label | None = None

    @model_validator(mode="after")
    def _periods_are_well_formed(self) -> SpecialDay:
        check_day(self.periods, f"special {self.date.isoformat()}")
        return self


class OpeningHours(BaseModel):
    """A facility's opening hours (the catalogue's ``hours`` object)."""

    model_config = _MODEL_CONFIG

    weekly: WeeklyHours
    seasons: list[Season] = []
    special: list[SpecialDay] = []
    public_holidays: PublicHolidayRule = "closed"

    @model_validator(mode="after")
    def _no_ambiguity(self) -> OpeningHours:
        seen: set[date] = set()
        for special in self.special:
            if special.date in seen:
                raise ValueError(f"special day {special.date.isoformat()} is listed twice")
            seen.add(special.date)
        names: set[str] = set()
        for season in self.seasons:
            if season.name in names:
                raise ValueError(f"season {season.name!r} is listed twice")
            names.add(season.name)
        for index, first in enumerate(self.seasons):
            for second in self.seasons[index + 1 :]:
                overlap = _first_common_day(first, second)
                if overlap is not None:
                    raise ValueError(
                        f"seasons {first.name!r} and {second.name!r} overlap (both include "
                        f"{overlap}); a date may belong to one season only"
                    )
        return self

    def season_on(self, day: date) -> Season | None:
        """The season applying on ``day``, if any."""
        for season in self.seasons:
            if season.contains(day):
                return season
        return None

    def special_on(self, day: date) -> SpecialDay | None:
        """The special day for ``day``, if any."""
        for special in self.special:
            if special.date == day:
                return special
        return None


def _first_common_day(first: Season, second: Season) -> str | None:
    """A month-day both seasons include (checked over a leap year), or None."""
    for ordinal in range(date(2024, 1, 1).toordinal(), date(2024, 12, 31).toordinal() + 1):
        day = date.fromordinal(ordinal)
        if first.contains(day) and second.contains(day):
            return f"{day.month:02d}-{day.day:02d}"
    return None
