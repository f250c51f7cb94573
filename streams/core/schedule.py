"""The facility's schedule as the machine needs it: open state ⊕ closures, cached, and daily resets.

:func:`schemas.hours.schedule_state` is pure but not free, so its answer is kept until the first
of: the next change it announces, the next Paris midnight (today's hours change), or a change of
the closures. ``open_since`` remembers when the facility last became open (staleness counts
from there, not from yesterday's last passage).

Daily reset instants (:func:`reset_on`): the end of the last opening period of a Paris date, or
midnight after a date without opening; none for a date whose 24:00 closing runs into a 00:00
opening of the next date (continuous opening — resetting would erase people still inside).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Final

from schemas.clock import PARIS
from schemas.hours import ClosureWindow, OpeningHours, ScheduleState, day_schedule, schedule_state
from schemas.status import OpenState, TimeRange
from streams.core.snapshot import time_in, time_out

OPEN_STATES: Final = frozenset({OpenState.OPEN, OpenState.CLOSING_SOON, OpenState.PARTIALLY_CLOSED})
"""States in which people can come in (and data is expected)."""

_DAY: Final = timedelta(days=1)
_SEARCH_DAYS: Final = 14


def _at(day: date, clock: time | None) -> datetime:
    """Aware Paris instant of a wall-clock time on ``day`` (None = 24:00)."""
    if clock is None:
        return datetime.combine(day + _DAY, time(0), tzinfo=PARIS)
    return datetime.combine(day, clock, tzinfo=PARIS)


def reset_on(hours: OpeningHours, day: date) -> datetime | None:
    """The daily reset instant of a Paris date (see the module docstring)."""
    periods = day_schedule(hours, day).periods
    if not periods:
        return _at(day, None)
    last = periods[-1]
    if last.closes is None:
        following = day_schedule(hours, day + _DAY).periods
        if following and following[0].opens_minutes == 0:
            return None
    return _at(day, last.closes)


def next_reset_after(hours: OpeningHours, after: datetime) -> datetime | None:
    """The first daily reset strictly after ``after`` (within two weeks)."""
    day = after.astimezone(PARIS).date() - _DAY
    for offset in range(_SEARCH_DAYS + 2):
        at = reset_on(hours, day + offset * _DAY)
        if at is not None and at > after:
            return at
    return None


def last_reset_at_or_before(hours: OpeningHours, at: datetime) -> datetime | None:
    """The latest daily reset not after ``at`` (within two weeks)."""
    day = at.astimezone(PARIS).date() + _DAY
    for offset in range(_SEARCH_DAYS + 2):
        reset = reset_on(hours, day - offset * _DAY)
        if reset is not None and reset <= at:
            return reset
    return None


class ScheduleTracker:
    """Cached schedule state, the moment the facility opened, and the daily reset timer."""

    __slots__ = (
        "_closing_soon",
        "_hours",
        "_windows",
        "next_reset_at",
        "open_since",
        "state",
        "today_hours",
        "valid_until",
    )

    def __init__(self, hours: OpeningHours, closing_soon_minutes: int) -> None:
        self._hours = hours
        self._closing_soon = closing_soon_minutes
        self._windows: Sequence[ClosureWindow] = ()
        self.state: ScheduleState | None = None
        self.today_hours: list[TimeRange] = []
        self.valid_until: datetime | None = None
        self.open_since: datetime | None = None
        self.next_reset_at: datetime | None = None

    @property
    def open_state(self) -> OpenState:
        """The current open state (``unknown`` before the first refresh)."""
        return OpenState.UNKNOWN if self.state is None else OpenState(self.state.open_state)

    @property
    def is_open(self) -> bool:
        """Whether people can come in now."""
        return self.open_state in OPEN_STATES

    def needs_refresh(self, now: datetime, windows: Sequence[ClosureWindow]) -> bool:
        """Whether the cached state is out of date at ``now`` or for these closures."""
        return (
            self.state is None
            or windows is not self._windows
            or (self.valid_until is not None and now >= self.valid_until)
        )

    def refresh(self, now: datetime, windows: Sequence[ClosureWindow]) -> bool:
        """Ask the hours engine again; True when open state, today's hours or next change moved."""
        previous = self.state
        was_open = self.is_open
        state = schedule_state(
            self._hours, now, closing_soon_minutes=self._closing_soon, closures=windows
        )
        self.state = state
        self._windows = windows
        midnight = _at(now.astimezone(PARIS).date(), None)
        change = state.next_change_at
        self.valid_until = midnight if change is None or change > midnight else change
        if self.is_open and not was_open:
            # Became open: at the change announced before if it is past, else now.
            announced = None if previous is None else previous.next_change_at
            since = announced if announced is not None and announced <= now else now
            self.open_since = since.astimezone(UTC)
        if previous is None or previous.today_hours != state.today_hours:
            self.today_hours = [TimeRange(opens=o, closes=c) for o, c in state.today_hours]
        return previous is None or (
            previous.open_state,
            previous.today_hours,
            previous.next_change_at,
        ) != (state.open_state, state.today_hours, state.next_change_at)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (the schedule itself is recomputed after a restore)."""
        return {
            "open_since": time_out(self.open_since),
            "next_reset_at": time_out(self.next_reset_at),
            "state": None
            if self.state is None
            else {
                "open_state": self.state.open_state,
                "today_hours": [list(p) for p in self.state.today_hours],
                "next_change_at": time_out(self.state.next_change_at),
                "closes_at": time_out(self.state.closes_at),
            },
            "valid_until": time_out(self.valid_until),
        }

    def load(self, data: dict[str, Any], windows: Sequence[ClosureWindow]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self.open_since = time_in(data["open_since"])
        self.next_reset_at = time_in(data["next_reset_at"])
        self.valid_until = time_in(data["valid_until"])
        saved = data["state"]
        if saved is None:
            self.state = None
            self.today_hours = []
            return
        self.state = ScheduleState(
            open_state=saved["open_state"],
            today_hours=[(o, c) for o, c in saved["today_hours"]],
            next_change_at=time_in(saved["next_change_at"]),
            closes_at=time_in(saved["closes_at"]),
        )
        self.today_hours = [TimeRange(opens=o, closes=c) for o, c in self.state.today_hours]
        self._windows = windows
