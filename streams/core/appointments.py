"""Next appointment per service, from ``slots.published``: when, and how many days from now.

The latest publication by event ``time`` wins per service (ties: the larger event id), so any
arrival order gives the same answer. ``delay_days`` is ``next_available_at − now`` in days,
rounded half up to 0.1 day (never below 0; None when the booking system has no free slot). It
shrinks as time passes: :meth:`AppointmentBook.next_timer` says when its rounded value changes
next (every 2.4 hours at most), so the machine refreshes it without any event.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from schemas.status import AppointmentStatus
from streams.core.policy import newer, round1
from streams.core.snapshot import req_time, time_in, time_out

_DAY_SECONDS = 86_400.0
_STEP_MARGIN = timedelta(milliseconds=1)


@dataclass(slots=True)
class _Slots:
    next_available_at: datetime | None
    free_slots_7d: int
    published_at: datetime
    event_id: str
    delay_days: float | None = None


def delay_days(next_available_at: datetime | None, now: datetime) -> float | None:
    """Days from ``now`` to ``next_available_at``, rounded half up to 0.1, never negative."""
    if next_available_at is None:
        return None
    days = (next_available_at - now).total_seconds() / _DAY_SECONDS
    return round1(max(days, 0.0))


def _next_step(next_available_at: datetime | None, now: datetime) -> datetime | None:
    """The first instant after ``now`` at which :func:`delay_days` gives another value."""
    if next_available_at is None:
        return None
    days = (next_available_at - now).total_seconds() / _DAY_SECONDS
    # delay_days changes once days * 10 + 0.5 drops below the integer k; 1 ms after that point
    # the new value is certain (float error at this scale is far below a microsecond).
    k = math.floor(days * 10 + 0.5)
    if k <= 0:
        return None
    return next_available_at - timedelta(days=(k - 0.5) / 10) + _STEP_MARGIN


class AppointmentBook:
    """The latest slot publication of each bookable service."""

    __slots__ = ("_slots",)

    def __init__(self) -> None:
        self._slots: dict[str, _Slots] = {}

    def apply(
        self,
        service_id: str,
        next_available_at: datetime | None,
        free_slots_7d: int,
        at: datetime,
        event_id: str,
        now: datetime,
    ) -> bool:
        """Apply a publication; True when the service's next date or delay changed."""
        current = self._slots.get(service_id)
        if current is not None and not newer(at, event_id, current.published_at, current.event_id):
            return False
        slots = _Slots(next_available_at, free_slots_7d, at, event_id)
        slots.delay_days = delay_days(next_available_at, now)
        self._slots[service_id] = slots
        return current is None or (current.next_available_at, current.delay_days) != (
            slots.next_available_at,
            slots.delay_days,
        )

    def refresh(self, now: datetime) -> bool:
        """Recompute every delay at ``now``; True when one changed."""
        changed = False
        for slots in self._slots.values():
            delay = delay_days(slots.next_available_at, now)
            if delay != slots.delay_days:
                slots.delay_days = delay
                changed = True
        return changed

    def next_timer(self, now: datetime) -> datetime | None:
        """When the next rounded delay changes."""
        steps = [_next_step(s.next_available_at, now) for s in self._slots.values()]
        return min((step for step in steps if step is not None), default=None)

    def views(self) -> list[AppointmentStatus]:
        """The public ``appointments`` part, by service id."""
        return [
            AppointmentStatus(
                service_id=service_id,
                next_available_at=slots.next_available_at,
                delay_days=slots.delay_days,
            )
            for service_id, slots in sorted(self._slots.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            service_id: {
                "next_available_at": time_out(s.next_available_at),
                "free_slots_7d": s.free_slots_7d,
                "published_at": time_out(s.published_at),
                "event_id": s.event_id,
                "delay_days": s.delay_days,
            }
            for service_id, s in self._slots.items()
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self._slots = {
            service_id: _Slots(
                next_available_at=time_in(s["next_available_at"]),
                free_slots_7d=int(s["free_slots_7d"]),
                published_at=req_time(s["published_at"]),
                event_id=str(s["event_id"]),
                delay_days=s["delay_days"],
            )
            for service_id, s in data.items()
        }
