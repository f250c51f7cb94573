"""What the simulator remembers of each facility from one minute to the next."""

from __future__ import annotations

import datetime as dt
from collections import deque
from dataclasses import dataclass, field

from schemas.catalogue import Facility
from schemas.hours import OpeningHours, day_schedule


@dataclass(slots=True)
class Closure:
    """The exceptional closure an agent declared (announced, running or extended)."""

    closure_id: str
    scope: dict[str, str]
    reason: str
    message: dict[str, str]
    starts_at: dt.datetime
    expected_end: dt.datetime | None
    actual_end: dt.datetime
    updated: bool = False

    @property
    def whole_facility(self) -> bool:
        return self.scope["kind"] == "facility"


@dataclass(slots=True)
class TicketQueue:
    """The ticket queue of one service: tickets waiting, tickets at a desk."""

    service_id: str
    letter: str
    desks: int
    counter: int = 0
    day: dt.date | None = None
    waiting: deque[tuple[str, dt.datetime]] = field(default_factory=deque)
    serving: list[tuple[str, dt.datetime]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TicketWait:
    """The truth about one ticket, known to the simulator only: when it was issued and when it was
    called to a desk (None: abandoned). ``waited`` is what a time-to-be-served figure predicts."""

    facility_id: str
    service_id: str
    ticket_id: str
    issued_at: dt.datetime
    called_at: dt.datetime | None

    @property
    def waited(self) -> dt.timedelta | None:
        """Arrival → counter, None for an abandoned ticket."""
        return None if self.called_at is None else self.called_at - self.issued_at


@dataclass(slots=True)
class Slots:
    """The availability a booking system last computed (and last published) for one service."""

    service_id: str
    delay_days: float
    low: float
    high: float
    free_7d: int
    published: tuple[str | None, int] | None = None


@dataclass(slots=True)
class Case:
    """An open case of a procedure and when it will be closed."""

    procedure_id: str
    case_id: str
    due: dt.datetime


@dataclass(slots=True)
class FacilityState:
    """One simulated facility: its devices' state and the people inside."""

    facility: Facility
    hours: OpeningHours
    capacity: int
    has_sensor: bool
    gates: tuple[str, ...]
    queues: list[TicketQueue]
    slots: list[Slots]
    procedures: list[tuple[str, float]]  # (procedure_id, mean processing days)
    inside: int = 0
    sensor_down_until: dt.datetime | None = None
    closure: Closure | None = None
    closures_declared: int = 0
    cases: list[Case] = field(default_factory=list)
    cases_opened: int = 0
    periods: dict[dt.date, tuple[tuple[int, int], ...]] = field(default_factory=dict)
    ticket_waits: list[TicketWait] = field(default_factory=list)
    """Filled only when the config says ``record_ticket_waits``."""

    def minutes_left(self, local: dt.datetime) -> int | None:
        """Minutes until the current regular opening period ends, None when closed."""
        day = local.date()
        periods = self.periods.get(day)
        if periods is None:
            if len(self.periods) > 4:
                self.periods.clear()
            schedule = day_schedule(self.hours, day)
            periods = tuple((p.opens_minutes, p.closes_minutes) for p in schedule.periods)
            self.periods[day] = periods
        minute = local.hour * 60 + local.minute
        for opens, closes in periods:
            if opens <= minute < closes:
                return closes - minute
        return None


def opening_hours(facility: Facility) -> OpeningHours:
    """The schedule engine's model of a catalogue facility's hours."""
    return OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))
