"""How the facility state machine treats late, duplicate and out-of-order events — the policy.

Events carry two times: ``time`` (when it happened at the source) and the ``now`` the stream
worker passes to :meth:`~streams.core.machine.FacilityMachine.apply` (when it is processed).
Kafka keeps order per partition, but producers batch, retry and lag, so every rule below is
stated for arrival order ≠ event order, and every rule is tested in ``tests/streams/core``.

Event time window (judged by the worker before the machine sees the event)
    An event whose ``time`` is more than ``max_future`` (1 h) after the *reference instant*, or
    more than ``max_age`` (the topic's retention) before it, goes to ``dead-letters`` with
    ``reason: time_out_of_range`` and never reaches the machine (:class:`TimeWindow`). The
    reference is the worker's clock, bounded by the record's Kafka timestamp when that is earlier
    (:func:`reference_instant`): a record replayed days later (a restart, a new consumer group) is
    judged as it was when it arrived, so replaying old-but-retained history rebuilds the same
    state, and a record timestamp set in the future by a producer cannot widen the window.
    The machine itself never lets an event move a baseline past ``now`` (see Headcounts), so a
    future-dated event that would still get through cannot freeze occupancy.

Duplicates
    An event id already seen among the last ``MachineConfig.dedup_capacity`` ids of the facility
    changes nothing (:mod:`streams.core.dedup`). Beyond that window, the per-concept rules below
    still make most replays harmless (closures, slots and headcounts are idempotent by nature);
    passages are the one stream that relies on the window, which is why it must cover the
    redelivery span of a crash (events processed after the last committed offset).

Passages (``passage.counted``)
    Counted whenever they arrive: the sum of passages is order-independent. A passage is
    ignored when its ``time`` is not after the current *baseline* — the latest applied headcount
    or the latest daily reset — because the baseline already accounts for it.
    The count is clamped after each passage to ``[0, max]`` (``max`` = ``max_occupancy_ratio`` ×
    capacity, or ``max_count_without_capacity``); whatever the clamp absorbs is recorded as
    *drift* (``count = baseline + Σ passages + drift``) and the source becomes ``estimate`` until
    the next baseline. Clamping is per step, in arrival order, so a drifting turnstile never
    shows "−441 swimmers" and counts again from 0 as soon as people come in.

Headcounts (``headcount.measured``)
    A headcount not newer than the current one (or than the last daily reset) is ignored. A
    headcount more than ``headcount_max_lateness`` old on arrival is ignored (it describes a
    past the passages have moved on from). Otherwise it becomes the baseline: the count is the
    headcount plus the passages already applied whose ``time`` is after the headcount's. The
    baseline instant is never later than ``now`` (a headcount from the future is taken as
    measured now), and a passage from the future is remembered as seen now — so neither can
    hide later headcounts nor be added to every one of them.

Daily reset
    At the end of the last opening period of each Paris day (midnight for a day without
    opening; none between a 24:00 closing and a 00:00 opening), occupancy returns to 0 (what is
    left is recorded as drift) and waiting tickets are dropped. Ticket events whose ``time`` is
    before the last reset are ignored. A machine that starts without a snapshot takes the most
    recent past reset as its baseline, so replaying days of history does not add them up.

Tickets (``ticket.*``)
    Each ticket moves forward only: issued → called → served; abandoned ends it. Events for a
    ticket that already ended are ignored (ended tickets are remembered, bounded per service).
    A ``called`` that arrives before its ``issued`` counts the ticket as called; the late
    ``issued`` then still gives the observed wait. Abandoned tickets never enter wait figures.

Slots (``slots.published``)
    The latest by ``time`` wins per service (ties: the larger event id), so any arrival order
    gives the same result.

Cases (``case.opened`` / ``case.closed``)
    A ``closed`` that arrives before its ``opened`` waits (bounded) for it. A case closed more
    than ``processing_window`` before ``now`` is outside the window and ignored.

Closures (``closure.declared`` / ``.updated`` / ``.ended``)
    Ordered by their event ``time`` per ``closure_id``: a declaration or update older than the
    last applied change of that closure is ignored (same time: the later arrival wins), and
    ``.ended`` is final — a declaration or update arriving after the end (late or replayed) does
    not bring the closure back. An expected reopening that passes without ``.ended`` keeps the
    closure in force and marks it ``overdue``.

What counts as a change (``seq``)
    ``seq`` grows by exactly one when something a citizen can see changes: open state, today's
    hours, next change, closures (overdue included), the occupancy count, level, trend or
    source, a queue length or wait, an appointment date or delay, a processing figure, or
    ``stale``. Timestamps alone (``measured_at``, ``last_data_at``, ``updated_at``) are not a
    change: a heartbeat-like event that only refreshes them leaves ``seq`` alone, unless it ends
    staleness. Figures are rounded before comparison (waits and délais to 0.1, ratios to 0.001).

Staleness
    Live data is passages, headcounts and tickets. A facility that has sent live data at least
    once is ``stale`` while its open state is ``open``, ``closing_soon`` or ``partially_closed``
    and nothing newer than ``stale_after`` arrived since the later of its last data and the
    moment it opened. A closed facility is never stale. ``last_data_at`` is the latest event
    ``time`` of live data (capped at ``now``, so a fast producer clock cannot hide silence).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def round1(value: float) -> float:
    """Round half up to one decimal (waits in minutes, délais in days)."""
    return math.floor(value * 10 + 0.5) / 10


def newer(time_a: datetime, id_a: str, time_b: datetime, id_b: str) -> bool:
    """Whether ``(time_a, id_a)`` comes after ``(time_b, id_b)``: time first, id breaks ties."""
    if time_a != time_b:
        return time_a > time_b
    return id_a > id_b


MAX_FUTURE_S: Final = 3600.0
"""Default tolerance for an event ``time`` ahead of the reference instant (clock skew): 1 h."""


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """The event times a topic accepts around a reference instant (seconds since the epoch)."""

    max_future: float = MAX_FUTURE_S
    """How far after the reference an event ``time`` may be (s)."""
    max_age: float | None = None
    """How far before the reference an event ``time`` may be (s); None: no bound."""

    def refusal(self, at: float, reference: float) -> str | None:
        """Why an event at ``at`` is outside the window, or None when it is inside."""
        if at > reference + self.max_future:
            return (
                f"time: {_iso(at)} is more than {self.max_future:g} s after "
                f"{_iso(reference)} (the allowed clock skew)"
            )
        if self.max_age is not None and at < reference - self.max_age:
            return (
                f"time: {_iso(at)} is more than {self.max_age:g} s before "
                f"{_iso(reference)} (older than the topic's retention)"
            )
        return None


def reference_instant(now: float, record_timestamp_ms: int | None) -> float:
    """The instant an event is judged against: the worker's clock ``now`` (s), or the record's
    Kafka timestamp when it is known and earlier (a replayed record is judged as it arrived)."""
    if record_timestamp_ms is None or record_timestamp_ms <= 0:
        return now
    return min(now, record_timestamp_ms / 1000.0)


def _iso(moment: float) -> str:
    try:
        return datetime.fromtimestamp(moment, UTC).isoformat()
    except (OverflowError, OSError, ValueError):
        return f"{moment:.0f} s since 1970"
