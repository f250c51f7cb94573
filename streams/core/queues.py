"""Service-desk queues of one facility: tickets waiting and the wait to expect, per service.

A ticket goes issued → called → served, or is abandoned (policy for late and out-of-order
ticket events: :mod:`streams.core.policy`). ``length`` counts the tickets issued and neither
called nor abandoned. ``wait_minutes`` is, in this order:

1. ``0`` when nobody waits;
2. the EWMA (weight ``ewma_alpha`` on the newest) of the observed waits, issued → called, when
   one was observed within ``queue_fresh_window`` (30 min by default) of ``now``;
3. otherwise ``length`` × the EWMA of the observed service times (called → served), or
   ``default_service_minutes`` (5 min) when none was ever observed.

``wait_minutes`` stays as it was (the baseline ``bench/wait_accuracy`` measures against);
``served_within`` is the time to be served of :mod:`streams.core.served` (people waiting × recent
service time ÷ counters open, corrected by the last tickets' actual waits), as a median and a
90th percentile. Abandoned tickets never enter the averages. Figures are rounded to 0.1 minute. Waiting and called
tickets are dropped at the daily reset; the averages are kept (the fallback uses them the next
morning). Every per-ticket map is bounded (``ticket_memory``, oldest forgotten first).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from schemas.clock import PARIS
from schemas.events import EventType
from schemas.status import QueueStatus, ServedWithin
from streams.core.policy import round1
from streams.core.served import ServedTracker
from streams.core.snapshot import req_time, time_in, time_out


@dataclass(slots=True)
class _Queue:
    """One service's tickets and averages; ``length``/``wait``/``served`` are the public figures."""

    measured_at: datetime
    tracker: ServedTracker
    waiting: OrderedDict[str, datetime] = field(default_factory=OrderedDict)
    called: OrderedDict[str, tuple[datetime, bool]] = field(default_factory=OrderedDict)
    """ticket → (called at, whether its wait was observed)."""
    ended: OrderedDict[str, None] = field(default_factory=OrderedDict)
    wait_ewma: float | None = None
    wait_seen_at: datetime | None = None
    service_ewma: float | None = None
    length: int = 0
    wait: float = 0.0
    served: ServedWithin | None = None


def _remember(mapping: OrderedDict[str, Any], key: str, value: Any, limit: int) -> None:
    mapping[key] = value
    if len(mapping) > limit:
        mapping.popitem(last=False)


class QueueBook:
    """The queues of every service of a facility that sent ticket events."""

    __slots__ = ("_alpha", "_default_service", "_fresh", "_limit", "_queues")

    def __init__(
        self,
        *,
        ewma_alpha: float,
        fresh_window: timedelta,
        default_service_minutes: float,
        ticket_memory: int,
    ) -> None:
        self._alpha = ewma_alpha
        self._fresh = fresh_window
        self._default_service = default_service_minutes
        self._limit = ticket_memory
        self._queues: dict[str, _Queue] = {}

    def apply(
        self, kind: EventType, service_id: str, ticket_id: str, at: datetime, now: datetime
    ) -> bool:
        """Apply one ticket event; True when the service's length or wait changed."""
        queue = self._queues.get(service_id)
        if queue is None:
            queue = self._queues[service_id] = _Queue(min(at, now), self._tracker())
            new = True
        else:
            new = False
            if min(at, now) > queue.measured_at:
                queue.measured_at = min(at, now)
        if ticket_id not in queue.ended:
            if kind is EventType.TICKET_ISSUED:
                self._issued(queue, ticket_id, at)
            elif kind is EventType.TICKET_CALLED:
                self._called(queue, ticket_id, at)
            elif kind is EventType.TICKET_SERVED:
                self._ended(queue, ticket_id, at, served=True)
            else:
                self._ended(queue, ticket_id, at, served=False)
        return self._recompute(queue, now) or new

    def _tracker(self) -> ServedTracker:
        return ServedTracker(
            default_service_minutes=self._default_service, ticket_memory=self._limit
        )

    def _issued(self, queue: _Queue, ticket_id: str, at: datetime) -> None:
        called = queue.called.get(ticket_id)
        if called is not None:
            called_at, observed = called
            if not observed:  # the call arrived first: the late issue still gives the wait
                queue.called[ticket_id] = (called_at, True)
                self._observe_wait(queue, called_at - at, called_at)
            return
        if ticket_id not in queue.waiting:
            queue.tracker.issued(ticket_id, len(queue.waiting), len(queue.called))
            _remember(queue.waiting, ticket_id, at, self._limit)

    def _called(self, queue: _Queue, ticket_id: str, at: datetime) -> None:
        if ticket_id in queue.called:
            return
        issued_at = queue.waiting.pop(ticket_id, None)
        _remember(queue.called, ticket_id, (at, issued_at is not None), self._limit)
        if issued_at is not None:
            self._observe_wait(queue, at - issued_at, at)
            waited = (at - issued_at).total_seconds() / 60
            queue.tracker.called(ticket_id, waited)

    def _ended(self, queue: _Queue, ticket_id: str, at: datetime, *, served: bool) -> None:
        called = queue.called.pop(ticket_id, None)
        issued_at = queue.waiting.pop(ticket_id, None)
        if issued_at is not None and not served:
            queue.tracker.abandoned(ticket_id, (at - issued_at).total_seconds() / 60)
        _remember(queue.ended, ticket_id, None, self._limit)
        if served and called is not None:
            minutes = (at - called[0]).total_seconds() / 60
            if minutes >= 0:
                queue.service_ewma = self._ewma(queue.service_ewma, minutes)
                queue.tracker.served(minutes)

    def _observe_wait(self, queue: _Queue, waited: timedelta, at: datetime) -> None:
        minutes = waited.total_seconds() / 60
        if minutes < 0:
            return
        queue.wait_ewma = self._ewma(queue.wait_ewma, minutes)
        if queue.wait_seen_at is None or at > queue.wait_seen_at:
            queue.wait_seen_at = at

    def _ewma(self, current: float | None, value: float) -> float:
        if current is None:
            return value
        return self._alpha * value + (1 - self._alpha) * current

    def _estimate(self, queue: _Queue, now: datetime) -> float:
        length = len(queue.waiting)
        if length == 0:
            return 0.0
        if (
            queue.wait_ewma is not None
            and queue.wait_seen_at is not None
            and now - queue.wait_seen_at < self._fresh
        ):
            return round1(queue.wait_ewma)
        service = self._default_service if queue.service_ewma is None else queue.service_ewma
        return round1(length * service)

    def _recompute(self, queue: _Queue, now: datetime) -> bool:
        length, wait = len(queue.waiting), self._estimate(queue, now)
        served = queue.tracker.view(length, len(queue.called))
        if length == queue.length and wait == queue.wait and served == queue.served:
            return False
        queue.length, queue.wait, queue.served = length, wait, served
        return True

    def refresh(self, now: datetime) -> bool:
        """Re-estimate every wait at ``now`` (an observation may have gone out of date)."""
        changed = False
        for queue in self._queues.values():
            changed |= self._recompute(queue, now)
        return changed

    def reset(self, now: datetime) -> bool:
        """Daily reset: nobody is waiting any more."""
        for queue in self._queues.values():
            queue.waiting.clear()
            queue.called.clear()
            queue.tracker.reset()
        return self.refresh(now)

    def next_timer(self) -> datetime | None:
        """When an observed wait stops being fresh for a queue that is not empty."""
        due = [
            queue.wait_seen_at + self._fresh
            for queue in self._queues.values()
            if queue.length and queue.wait_seen_at is not None and queue.wait_ewma is not None
        ]
        return min(due, default=None)

    def views(self) -> list[QueueStatus]:
        """The public ``queues`` part, by service id."""
        return [
            QueueStatus(
                service_id=service_id,
                length=queue.length,
                wait_minutes=queue.wait,
                measured_at=queue.measured_at.astimezone(PARIS),
                served_within=queue.served,
            )
            for service_id, queue in sorted(self._queues.items())
        ]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            service_id: {
                "measured_at": time_out(q.measured_at),
                "waiting": [[t, time_out(at)] for t, at in q.waiting.items()],
                "called": [[t, time_out(at), seen] for t, (at, seen) in q.called.items()],
                "ended": list(q.ended),
                "wait_ewma": q.wait_ewma,
                "wait_seen_at": time_out(q.wait_seen_at),
                "service_ewma": q.service_ewma,
                "length": q.length,
                "wait": q.wait,
                "served": None if q.served is None else q.served.model_dump(mode="json"),
                "tracker": q.tracker.to_dict(),
            }
            for service_id, q in self._queues.items()
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self._queues = {
            service_id: _Queue(
                measured_at=req_time(q["measured_at"]),
                tracker=self._loaded_tracker(q.get("tracker")),
                waiting=OrderedDict((t, req_time(at)) for t, at in q["waiting"]),
                called=OrderedDict((t, (req_time(at), bool(seen))) for t, at, seen in q["called"]),
                ended=OrderedDict((t, None) for t in q["ended"]),
                wait_ewma=q["wait_ewma"],
                wait_seen_at=time_in(q["wait_seen_at"]),
                service_ewma=q["service_ewma"],
                length=int(q["length"]),
                wait=float(q["wait"]),
                served=None if q.get("served") is None else ServedWithin(**q["served"]),
            )
            for service_id, q in data.items()
        }

    def _loaded_tracker(self, data: dict[str, Any] | None) -> ServedTracker:
        """A snapshot's tracker (a snapshot written before it existed: a fresh one)."""
        tracker = self._tracker()
        if data is not None:
            tracker.load(data)
        return tracker
