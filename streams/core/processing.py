"""Processing délais per procedure, from ``case.opened`` / ``case.closed``, next to the commitment.

For each procedure, the durations (opened → closed, in days) of the cases closed within the
rolling ``processing_window`` (90 days) before ``now`` give ``median_days`` (the middle value, the
mean of the two middle ones for an even count) and ``p90_days`` (nearest rank: the smallest
duration such that at least 90 % of cases took no longer), rounded half up to 0.1 day.
``committed_days`` is the catalogue's commitment for the procedure (None when none is made).

Bounds (documented, per procedure): at most ``processing_max_open_cases`` open cases are
remembered (the oldest is forgotten first — a case open that long is an outlier anyway) and at
most ``processing_max_samples`` durations (the oldest closure drops out first). A ``closed``
arriving before its ``opened`` waits for it among at most ``processing_max_open_cases`` others.
Durations are kept sorted (``bisect``), so a figure costs O(1) to read and O(n) memmove to update;
case events are rare next to passages.
"""

from __future__ import annotations

import math
from bisect import bisect_left, insort
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.events import EventType
from schemas.status import ProcessingStatus
from streams.core.policy import round1
from streams.core.snapshot import req_time

_DAY_SECONDS = 86_400.0


@dataclass(slots=True)
class _Procedure:
    opened: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    early_closed: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    closed: list[tuple[datetime, float]] = field(default_factory=list)
    """(closed at, duration in days), sorted by closing time."""
    durations: list[float] = field(default_factory=list)
    """The same durations, sorted by value."""
    median: float | None = None
    p90: float | None = None


def median_p90(durations: list[float]) -> tuple[float | None, float | None]:
    """Median and nearest-rank 90th percentile of sorted values, rounded to 0.1."""
    n = len(durations)
    if n == 0:
        return None, None
    middle = n // 2
    median = durations[middle] if n % 2 else (durations[middle - 1] + durations[middle]) / 2
    p90 = durations[math.ceil(0.9 * n) - 1]
    return round1(median), round1(p90)


class ProcessingStats:
    """Délais of the procedures handled at one facility."""

    __slots__ = ("_committed", "_max_open", "_max_samples", "_procedures", "_window")

    def __init__(
        self,
        committed: dict[str, int | None],
        *,
        window: timedelta,
        max_open_cases: int,
        max_samples: int,
    ) -> None:
        self._committed = committed
        self._window = window
        self._max_open = max_open_cases
        self._max_samples = max_samples
        self._procedures: dict[str, _Procedure] = {}

    def apply(
        self, kind: EventType, procedure_id: str, case_id: str, at: datetime, now: datetime
    ) -> bool:
        """Apply a case event; True when the procedure's median or p90 changed (or it is new)."""
        proc = self._procedures.get(procedure_id)
        new = proc is None and procedure_id not in self._committed
        if proc is None:
            proc = self._procedures[procedure_id] = _Procedure()
        if kind is EventType.CASE_OPENED:
            closed_at = proc.early_closed.pop(case_id, None)
            if closed_at is None:
                if case_id not in proc.opened:
                    proc.opened[case_id] = at
                    if len(proc.opened) > self._max_open:
                        proc.opened.popitem(last=False)
                return new
            opened_at = at
        else:
            maybe_opened = proc.opened.pop(case_id, None)
            if maybe_opened is None:
                proc.early_closed[case_id] = at
                if len(proc.early_closed) > self._max_open:
                    proc.early_closed.popitem(last=False)
                return new
            opened_at, closed_at = maybe_opened, at
        if closed_at <= now - self._window or closed_at < opened_at:
            return new
        days = (closed_at - opened_at).total_seconds() / _DAY_SECONDS
        insort(proc.closed, (closed_at, days), key=lambda item: item[0])
        insort(proc.durations, days)
        if len(proc.closed) > self._max_samples:
            self._drop_oldest(proc)
        return self._recompute(proc) or new

    @staticmethod
    def _drop_oldest(proc: _Procedure) -> None:
        _, days = proc.closed.pop(0)
        del proc.durations[bisect_left(proc.durations, days)]

    @staticmethod
    def _recompute(proc: _Procedure) -> bool:
        figures = median_p90(proc.durations)
        if figures == (proc.median, proc.p90):
            return False
        proc.median, proc.p90 = figures
        return True

    def expire(self, now: datetime) -> bool:
        """Drop closures older than the window; True when a figure changed."""
        cut = now - self._window
        changed = False
        for proc in self._procedures.values():
            if proc.closed and proc.closed[0][0] <= cut:
                while proc.closed and proc.closed[0][0] <= cut:
                    self._drop_oldest(proc)
                changed |= self._recompute(proc)
        return changed

    def next_timer(self) -> datetime | None:
        """When the oldest closure in the window leaves it."""
        oldest = [p.closed[0][0] for p in self._procedures.values() if p.closed]
        return None if not oldest else min(oldest) + self._window

    def views(self) -> list[ProcessingStatus]:
        """The public ``processing`` part: every procedure of the catalogue and any seen."""
        ids = sorted(set(self._committed) | set(self._procedures))
        out = []
        for procedure_id in ids:
            proc = self._procedures.get(procedure_id)
            committed = self._committed.get(procedure_id)
            out.append(
                ProcessingStatus(
                    procedure_id=procedure_id,
                    median_days=None if proc is None else proc.median,
                    p90_days=None if proc is None else proc.p90,
                    committed_days=None if committed is None else float(committed),
                )
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state (times as ISO text)."""
        return {
            procedure_id: {
                "opened": [[c, at.isoformat()] for c, at in p.opened.items()],
                "early_closed": [[c, at.isoformat()] for c, at in p.early_closed.items()],
                "closed": [[at.isoformat(), days] for at, days in p.closed],
                "median": p.median,
                "p90": p.p90,
            }
            for procedure_id, p in self._procedures.items()
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self._procedures = {}
        for procedure_id, p in data.items():
            closed = [(req_time(at), float(days)) for at, days in p["closed"]]
            self._procedures[procedure_id] = _Procedure(
                opened=OrderedDict((c, req_time(at)) for c, at in p["opened"]),
                early_closed=OrderedDict((c, req_time(at)) for c, at in p["early_closed"]),
                closed=closed,
                durations=sorted(days for _, days in closed),
                median=p["median"],
                p90=p["p90"],
            )
