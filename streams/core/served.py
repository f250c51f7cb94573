"""Time to be served at a ticket queue: from taking a ticket to being called to a counter.

The figure is for someone who takes a ticket *now*, as a median and a 90th percentile (minutes):

1. **Queue model.** ``ahead`` tickets wait and ``in_service`` are at a counter. Counters open
   = the median of the busy counters seen while people waited (the last :data:`BUSY_SAMPLES`);
   the recent service time = the mean of the last :data:`SERVICE_SAMPLES` services (called →
   served). A newcomer is called once ``ahead + 1 − free counters`` people have left the queue;
   with ``j`` people still ahead, the next one leaves at rate ``counters ÷ service time`` (a
   counter frees up) ``+ j × abandon`` (someone gives up — measured over the last
   :data:`OUTCOME_SAMPLES` tickets as abandons per minute waited). The wait is a sum of those
   steps: its mean and variance (scaled by the observed variability of service times) give a
   gamma law read at its 50th and 90th percentiles (Wilson–Hilferty), plus the call time. A
   newcomer who finds a free counter waits the *call time*: the median and 90th percentile of
   what the last :data:`CALL_SAMPLES` such tickets waited.
2. **Last-to-enter-service correction.** Each ticket's prediction at issue is remembered; when
   it reaches a counter, its actual wait is compared with that prediction and a correction
   factor (log-EWMA of actual ÷ predicted, weight :data:`CORRECTION_WEIGHT`, bounded to
   ``[1/2, 2]``) follows: if the last tickets to enter service waited longer than the model
   said, the next figures grow, and the other way round. This is the "last-to-enter-service"
   predictor (the last observed wait, good when the model's parameters are unsure) used to
   correct the model rather than to replace it: on simulated days a strong weight chased the
   noise of single waits, hence the small weight (``bench/wait_accuracy``).

``method`` says where the figure comes from: ``queue_model`` (observed service times) or
``default_service`` (no ticket served yet: the configured default service time). Everything is
in event time: the figure changes only with ticket events, never with the wall clock, so
replaying a day rebuilds the same figures. No I/O; the state round-trips through
:meth:`ServedTracker.to_dict` / :meth:`ServedTracker.load`.
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any, Final

from schemas.status import ServedMethod, ServedWithin
from streams.core.policy import round1

SERVICE_SAMPLES: Final = 150
"""Service times (called → served) kept: their mean is the recent service time."""
BUSY_SAMPLES: Final = 15
"""Counts of busy counters kept, each seen when a ticket was issued while people waited."""
OUTCOME_SAMPLES: Final = 60
"""Tickets that left the queue (called or abandoned) kept to measure how often people give up."""
CALL_SAMPLES: Final = 30
"""Waits of tickets that found a free counter kept: their median and 90th percentile are the
figure when a counter is free."""
CORRECTION_WEIGHT: Final = 0.05
"""Weight of the newest actual ÷ predicted ratio in the correction."""
CORRECTION_BOUND: Final = math.log(2.0)
"""The correction never multiplies or divides the model by more than 2."""
CORRECTION_CUSHION: Final = 1.0
"""Minutes added to both sides of actual ÷ predicted: short waits do not swing the factor."""
DEFAULT_CALL_MINUTES: Final = (0.5, 1.0)
"""Median and 90th percentile wait of a ticket that finds a free counter, before any was seen."""
CV2_RANGE: Final = (0.3, 1.5)
"""Bounds of the squared coefficient of variation of service times."""
Z50: Final = 0.0
Z90: Final = 1.2815515655446004


@dataclass(frozen=True, slots=True)
class QueueModel:
    """What the queue model needs to know about a queue right now."""

    ahead: int
    """Tickets waiting (issued, neither called nor abandoned)."""
    in_service: int
    """Tickets called and not served yet (counters busy)."""
    counters: float
    """Counters open (≥ 1; may be fractional: service time ÷ measured gap)."""
    service_minutes: float
    """Recent mean service time at one counter."""
    cv2: float = 1.0
    """Squared coefficient of variation of service times (1: exponential)."""
    call_minutes: float = DEFAULT_CALL_MINUTES[0]
    """Median wait of a ticket that finds a free counter (the call time)."""
    call_p90_minutes: float = DEFAULT_CALL_MINUTES[1]
    """90th percentile of that wait."""
    abandon_per_minute: float = 0.0
    """Chance per minute that someone waiting gives up (people ahead who leave shorten the wait)."""

    @property
    def departures(self) -> int:
        """Counters that must free up before a newcomer is called (0: one is free for them)."""
        open_counters = max(1, round(self.counters))
        free = open_counters - min(self.in_service, open_counters)
        return max(0, self.ahead + 1 - free)

    @property
    def counter_free(self) -> bool:
        """A counter is free for a newcomer: called at once."""
        return self.departures == 0


def gamma_quantile(shape: float, scale: float, z: float) -> float:
    """The quantile of a gamma law at standard normal score ``z`` (Wilson–Hilferty)."""
    if shape <= 0 or scale <= 0:
        return 0.0
    c = 1.0 / (9.0 * shape)
    cube = max(0.0, 1.0 - c + z * math.sqrt(c))
    return shape * scale * cube**3


def model_quantiles(model: QueueModel) -> tuple[float, float]:
    """Median and 90th percentile (minutes) of the wait of a newcomer, before correction."""
    counters = max(1.0, model.counters)
    if model.counter_free:
        call = max(0.0, model.call_minutes)
        return call, max(call, model.call_p90_minutes)
    rate = counters / max(1e-6, model.service_minutes)  # counters freed per minute
    cv2 = min(max(model.cv2, CV2_RANGE[0]), CV2_RANGE[1])
    # With j people still ahead, the next one leaves at rate counters ÷ service + j × abandon.
    mean = var = 0.0
    for ahead in range(model.departures - 1, -1, -1):
        step = 1.0 / (rate + max(0.0, model.abandon_per_minute) * ahead)
        mean += step
        var += step * step * cv2
    shape, scale = mean * mean / var, var / mean
    return (
        model.call_minutes + gamma_quantile(shape, scale, Z50),
        model.call_minutes + gamma_quantile(shape, scale, Z90),
    )


def estimate(model: QueueModel, correction: float = 1.0) -> tuple[float, float]:
    """Median and 90th percentile (minutes, 0.1 precision) once corrected; median ≤ p90.

    The correction applies to waiting for a counter, not to the call time of a free one."""
    p50, p90 = model_quantiles(model)
    factor = 1.0 if model.counter_free else min(max(correction, 0.5), 2.0)
    return round1(p50 * factor), round1(max(p50, p90) * factor)


def corrected(log_factor: float, predicted: float, actual: float) -> float:
    """The correction after a ticket predicted ``predicted`` minutes waited ``actual``."""
    ratio = (actual + CORRECTION_CUSHION) / (max(0.0, predicted) + CORRECTION_CUSHION)
    moved = (1 - CORRECTION_WEIGHT) * log_factor + CORRECTION_WEIGHT * math.log(ratio)
    return min(max(moved, -CORRECTION_BOUND), CORRECTION_BOUND)


def _mean(values: deque[float]) -> float | None:
    return sum(values) / len(values) if values else None


class ServedTracker:
    """The observations of one queue that its time-to-be-served figure is made of."""

    __slots__ = (
        "_busy",
        "_calls",
        "_default_service",
        "_limit",
        "_log_factor",
        "_outcomes",
        "_predicted",
        "_service",
        "last_wait",
    )

    def __init__(self, *, default_service_minutes: float, ticket_memory: int) -> None:
        self._default_service = default_service_minutes
        self._limit = ticket_memory
        self._service: deque[float] = deque(maxlen=SERVICE_SAMPLES)
        self._busy: deque[int] = deque(maxlen=BUSY_SAMPLES)
        self._outcomes: deque[tuple[float, bool]] = deque(maxlen=OUTCOME_SAMPLES)
        """(minutes waited, abandoned) of the last tickets that left the queue."""
        self._calls: deque[float] = deque(maxlen=CALL_SAMPLES)
        self._log_factor = 0.0
        self._predicted: OrderedDict[str, tuple[float, bool]] = OrderedDict()
        """ticket → (model median at issue, whether a counter was free)."""
        self.last_wait: float | None = None
        """Actual wait (minutes) of the last ticket to enter service."""

    # -- observations -----------------------------------------------------------------------

    def issued(self, ticket_id: str, ahead: int, in_service: int) -> None:
        """A ticket was issued with ``ahead`` waiting: remember what the model predicted."""
        if ahead > 0 and in_service > 0:  # people wait: every open counter is busy
            self._busy.append(in_service)
        model = self.model(ahead, in_service)
        self._predicted[ticket_id] = (model_quantiles(model)[0], model.counter_free)
        if len(self._predicted) > self._limit:
            self._predicted.popitem(last=False)

    def called(self, ticket_id: str, waited_minutes: float) -> None:
        """A ticket entered service after ``waited_minutes``: correct the model with it."""
        prediction = self._predicted.pop(ticket_id, None)
        if waited_minutes < 0:
            return
        self.last_wait = waited_minutes
        self._outcomes.append((waited_minutes, False))
        if prediction is None:
            return
        predicted, counter_free = prediction
        if counter_free:  # it tells the call time, not whether the model is right
            self._calls.append(waited_minutes)
        else:
            self._log_factor = corrected(self._log_factor, predicted, waited_minutes)

    def abandoned(self, ticket_id: str, waited_minutes: float | None) -> None:
        """A ticket left without being called after ``waited_minutes`` (None: not known)."""
        self._predicted.pop(ticket_id, None)
        if waited_minutes is not None and waited_minutes >= 0:
            self._outcomes.append((waited_minutes, True))

    @property
    def abandon_per_minute(self) -> float:
        """Tickets abandoned per minute spent waiting, over the last tickets that left."""
        exposure = sum(minutes for minutes, _ in self._outcomes)
        gone = sum(1 for _, abandoned in self._outcomes if abandoned)
        return gone / exposure if gone and exposure > 0 else 0.0

    def served(self, service_minutes: float) -> None:
        """A ticket left its counter after ``service_minutes``."""
        if service_minutes >= 0:
            self._service.append(service_minutes)

    def reset(self) -> None:
        """Daily reset: no ticket waits any more; service times, counters and correction stay."""
        self._predicted.clear()

    # -- figures ----------------------------------------------------------------------------

    @property
    def correction(self) -> float:
        """The factor the model is multiplied by (1: the last waits matched it)."""
        return math.exp(self._log_factor)

    @property
    def method(self) -> ServedMethod:
        """Whether observed service times give the figure or the default service time."""
        return ServedMethod.QUEUE_MODEL if self._service else ServedMethod.DEFAULT

    def counters(self, in_service: int) -> int:
        """Counters open: the median of the counters seen busy while people waited (before any
        was seen: the counters busy now, and one more free)."""
        if not self._busy:
            return in_service + 1
        ordered = sorted(self._busy)
        return max(1, ordered[len(ordered) // 2])

    def model(self, ahead: int, in_service: int) -> QueueModel:
        """The queue model for ``ahead`` waiting and ``in_service`` busy counters."""
        call_p50, call_p90 = DEFAULT_CALL_MINUTES
        if self._calls:
            calls = sorted(self._calls)
            call_p50 = calls[len(calls) // 2]
            call_p90 = calls[min(len(calls) - 1, int(0.9 * len(calls)))]
        return QueueModel(
            ahead=ahead,
            in_service=in_service,
            counters=self.counters(in_service),
            service_minutes=_mean(self._service) or self._default_service,
            cv2=self._cv2(),
            call_minutes=call_p50,
            call_p90_minutes=call_p90,
            abandon_per_minute=self.abandon_per_minute,
        )

    def _cv2(self) -> float:
        """Squared coefficient of variation of the recent service times (1 before 5 of them)."""
        n = len(self._service)
        mean = _mean(self._service)
        if n < 5 or not mean:
            return 1.0
        var = sum((s - mean) ** 2 for s in self._service) / (n - 1)
        return var / mean**2

    def view(self, ahead: int, in_service: int) -> ServedWithin:
        """The public figure for a newcomer with ``ahead`` waiting."""
        p50, p90 = estimate(self.model(ahead, in_service), self.correction)
        return ServedWithin(p50_minutes=p50, p90_minutes=p90, method=self.method)

    # -- snapshots --------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready state."""
        return {
            "service": list(self._service),
            "busy": list(self._busy),
            "outcomes": [[m, a] for m, a in self._outcomes],
            "calls": list(self._calls),
            "log_factor": self._log_factor,
            "predicted": [[t, p, free] for t, (p, free) in self._predicted.items()],
            "last_wait": self.last_wait,
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self._service = deque((float(s) for s in data["service"]), maxlen=SERVICE_SAMPLES)
        self._busy = deque((int(b) for b in data["busy"]), maxlen=BUSY_SAMPLES)
        self._outcomes = deque(
            ((float(m), bool(a)) for m, a in data["outcomes"]), maxlen=OUTCOME_SAMPLES
        )
        self._calls = deque((float(c) for c in data["calls"]), maxlen=CALL_SAMPLES)
        self._log_factor = float(data["log_factor"])
        self._predicted = OrderedDict(
            (str(t), (float(p), bool(free))) for t, p, free in data["predicted"]
        )
        self.last_wait = None if data["last_wait"] is None else float(data["last_wait"])
