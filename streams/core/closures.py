"""Exceptional closures of one facility: declared, updated, ended — several at once, any scope.

A closure is listed from its declaration (even when ``starts_at`` is still ahead: announced)
until ``.ended``. It weighs on the open state only between ``starts_at`` and its expected
reopening; once the expected reopening has passed without an end it stays in force, with
``overdue`` set, until ``.ended`` arrives. Ordering rules (event ``time`` per ``closure_id``,
``.ended`` final) are in :mod:`streams.core.policy`. Ended ids are remembered (bounded,
``closure_memory``) so that a late or replayed declaration does not bring a closure back.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.clock import PARIS
from schemas.events import ClosureData
from schemas.hours import ClosureWindow
from schemas.status import ClosureStatus
from streams.core.snapshot import req_time


@dataclass(slots=True)
class _Closure:
    data: ClosureData
    declared_at: datetime
    changed_at: datetime
    overdue: bool = False


class ClosureBook:
    """The closures of one facility that have not ended."""

    __slots__ = ("_active", "_ended", "_limit", "_windows")

    def __init__(self, *, memory: int) -> None:
        self._limit = memory
        self._active: dict[str, _Closure] = {}
        self._ended: OrderedDict[str, datetime] = OrderedDict()
        self._windows: tuple[ClosureWindow, ...] | None = ()

    def declare(self, data: ClosureData, at: datetime, now: datetime) -> bool:
        """Apply ``.declared`` or ``.updated`` (the full new state); True when the list changed."""
        closure_id = data.closure_id
        if closure_id in self._ended:
            return False
        current = self._active.get(closure_id)
        if current is None:
            closure = _Closure(data, at, at)
        else:
            if at < current.changed_at or (data == current.data and at == current.changed_at):
                return False
            closure = _Closure(data, min(current.declared_at, at), at)
        closure.overdue = self._is_overdue(data, now)
        self._active[closure_id] = closure
        self._windows = None
        return current is None or (current.data, current.overdue, current.declared_at) != (
            closure.data,
            closure.overdue,
            closure.declared_at,
        )

    def end(self, closure_id: str, at: datetime) -> bool:
        """Apply ``.ended``: final. True when an active closure went away."""
        if closure_id in self._ended:
            return False
        self._ended[closure_id] = at
        if len(self._ended) > self._limit:
            self._ended.popitem(last=False)
        if self._active.pop(closure_id, None) is None:
            return False
        self._windows = None
        return True

    @staticmethod
    def _is_overdue(data: ClosureData, now: datetime) -> bool:
        reopening = data.expected_reopening_at
        return reopening is not None and reopening <= now

    def mark_overdue(self, now: datetime) -> bool:
        """Set ``overdue`` on closures whose expected reopening passed; True when one changed."""
        changed = False
        for closure in self._active.values():
            overdue = self._is_overdue(closure.data, now)
            if overdue != closure.overdue:
                closure.overdue = overdue
                changed = True
        if changed:
            self._windows = None
        return changed

    def next_timer(self) -> datetime | None:
        """The next expected reopening that would make a closure overdue."""
        due = [
            c.data.expected_reopening_at
            for c in self._active.values()
            if not c.overdue and c.data.expected_reopening_at is not None
        ]
        return min(due, default=None)

    def windows(self) -> tuple[ClosureWindow, ...]:
        """The closures as the schedule engine sees them (an overdue one has no end)."""
        if self._windows is None:
            self._windows = tuple(
                ClosureWindow(
                    starts_at=c.data.starts_at,
                    ends_at=None if c.overdue else c.data.expected_reopening_at,
                    scope_kind=c.data.scope.kind,
                )
                for c in self._sorted()
            )
        return self._windows

    def _sorted(self) -> list[_Closure]:
        return sorted(self._active.values(), key=lambda c: (c.data.starts_at, c.data.closure_id))

    def views(self) -> list[ClosureStatus]:
        """The public ``closures`` part, by start time."""
        return [
            ClosureStatus(
                closure_id=c.data.closure_id,
                scope=c.data.scope,
                reason=c.data.reason,
                message=c.data.message,
                starts_at=c.data.starts_at,
                expected_reopening_at=c.data.expected_reopening_at,
                declared_by=c.data.declared_by,
                declared_at=c.declared_at.astimezone(PARIS),
                overdue=c.overdue,
            )
            for c in self._sorted()
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "active": [
                {
                    "data": c.data.model_dump(mode="json"),
                    "declared_at": c.declared_at.isoformat(),
                    "changed_at": c.changed_at.isoformat(),
                    "overdue": c.overdue,
                }
                for c in self._active.values()
            ],
            "ended": [[closure_id, at.isoformat()] for closure_id, at in self._ended.items()],
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self._active = {}
        for item in data["active"]:
            # ClosureData is strict: JSON mode parses RFC 3339 text as the codec does for events.
            closure_data = ClosureData.model_validate_json(json.dumps(item["data"]))
            self._active[closure_data.closure_id] = _Closure(
                closure_data,
                req_time(item["declared_at"]),
                req_time(item["changed_at"]),
                bool(item["overdue"]),
            )
        self._ended = OrderedDict((cid, req_time(at)) for cid, at in data["ended"])
        self._windows = None
