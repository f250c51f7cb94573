"""Occupancy of one facility: people inside, from passages and headcounts, with drift correction.

The count is a *baseline* (the latest headcount, or 0 at the daily reset) plus the passages
applied since (in − out), clamped after each step to ``[0, max_count]``; what the clamp absorbs
is *drift*, recorded so that ``count == baseline + Σ passages + drift`` always holds. The policy
for late and out-of-order events is in :mod:`streams.core.policy`.

``source`` says where the figure comes from: ``sensor`` (a headcount, possibly adjusted by later
passages), ``turnstile`` (passages since the daily reset) or ``estimate`` (drift had to be
corrected since the baseline: the figure is plausible, not measured).

Trend: the count now against the count ``trend_window`` ago (sampled once a minute, the oldest
sample when the history is shorter); ``rising``/``falling`` when the difference reaches
``max(trend_min_delta, trend_min_ratio × capacity)`` (× the larger count without capacity).

Rollups: one :class:`OccupancyMinute` per minute of the machine's clock in which the count was
touched (a passage, a headcount, a reset); minutes without any are not emitted — the count
carries over (fill forward). ``count_avg`` is the time-weighted mean over the minute.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from schemas.clock import PARIS
from schemas.status import Occupancy, OccupancyLevel, Trend
from streams.core.policy import EPOCH
from streams.core.snapshot import req_time, time_in, time_out, timed_pairs_out

SENSOR: Final = "sensor"
TURNSTILE: Final = "turnstile"
ESTIMATE: Final = "estimate"

_MINUTE: Final = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class OccupancyMinute:
    """The occupancy figures of one minute (``bucket`` = its start, UTC) — an ``occupancy_1m`` row."""

    facility_id: str
    bucket: datetime
    count_avg: float
    count_min: int
    count_max: int
    count_last: int
    capacity: int | None
    passages_in: int
    passages_out: int
    samples: int

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (snapshots)."""
        return {
            "facility_id": self.facility_id,
            "bucket": time_out(self.bucket),
            "count_avg": self.count_avg,
            "count_min": self.count_min,
            "count_max": self.count_max,
            "count_last": self.count_last,
            "capacity": self.capacity,
            "passages_in": self.passages_in,
            "passages_out": self.passages_out,
            "samples": self.samples,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> OccupancyMinute:
        """The figure written by :meth:`to_dict`."""
        return cls(**{**data, "bucket": req_time(data["bucket"])})


def minute_floor(now: datetime) -> datetime:
    """The start of the minute containing ``now``, in UTC."""
    return now.astimezone(UTC).replace(second=0, microsecond=0)


class OccupancyTracker:
    """People inside one facility; see the module docstring for the rules."""

    __slots__ = (
        "_area",
        "_cap",
        "_cut_of",
        "_cutoff",
        "_facility_id",
        "_lateness",
        "_max",
        "_pending",
        "_r_end",
        "_r_in",
        "_r_last_ts",
        "_r_max",
        "_r_min",
        "_r_out",
        "_r_samples",
        "_r_start",
        "_thresholds",
        "_trend_delta",
        "_trend_ratio",
        "_trend_window",
        "base_source",
        "baseline_at",
        "corrected",
        "count",
        "drift",
        "drift_total",
        "known",
        "last_residual",
        "measured_at",
        "next_minute",
        "recent",
        "ref_count",
        "samples",
    )

    def __init__(
        self,
        facility_id: str,
        capacity: int | None,
        *,
        max_count: int,
        thresholds: tuple[float, float, float],
        trend_window: timedelta,
        trend_min_delta: int,
        trend_min_ratio: float,
        headcount_max_lateness: timedelta,
    ) -> None:
        self._facility_id = facility_id
        self._cap = capacity
        self._max = max_count
        self._thresholds = thresholds
        self._trend_window = trend_window
        self._trend_delta = trend_min_delta
        self._trend_ratio = trend_min_ratio
        self._lateness = headcount_max_lateness
        self._cut_of: datetime | None = None
        self._cutoff = EPOCH
        self.known = False
        self.count = 0
        self.measured_at: datetime | None = None
        self.baseline_at: datetime | None = None
        self.base_source = TURNSTILE
        self.corrected = False
        self.drift = 0
        self.drift_total = 0
        self.last_residual = 0
        self.recent: deque[tuple[datetime, int]] = deque()
        self.samples: deque[tuple[datetime, int]] = deque()
        self.ref_count: int | None = None
        self.next_minute: datetime | None = None
        self._pending: list[OccupancyMinute] = []
        self._r_start: datetime | None = None
        self._r_end: datetime | None = None
        self._r_min = self._r_max = self._r_in = self._r_out = self._r_samples = 0
        self._area = 0.0
        self._r_last_ts = 0.0

    # -- reading ----------------------------------------------------------------------------

    @property
    def source(self) -> str:
        """``estimate`` once drift was corrected since the baseline, else the baseline's kind."""
        return ESTIMATE if self.corrected else self.base_source

    @property
    def rollup_end(self) -> datetime | None:
        """End of the minute being accumulated, if any (the machine ticks then)."""
        return self._r_end

    def trend(self) -> Trend:
        """Rising, steady or falling over the trend window."""
        ref = self.ref_count
        if ref is None:
            return Trend.STEADY
        count = self.count
        base = self._cap if self._cap is not None else max(ref, count)
        threshold = max(self._trend_delta, self._trend_ratio * base)
        diff = count - ref
        if diff >= threshold:
            return Trend.RISING
        if -diff >= threshold:
            return Trend.FALLING
        return Trend.STEADY

    def level(self) -> OccupancyLevel | None:
        """The crowd level from the capacity thresholds (None without capacity)."""
        if self._cap is None:
            return None
        ratio = self.count / self._cap
        moderate, high, full = self._thresholds
        if ratio >= full:
            return OccupancyLevel.FULL
        if ratio >= high:
            return OccupancyLevel.HIGH
        if ratio >= moderate:
            return OccupancyLevel.MODERATE
        return OccupancyLevel.LOW

    def view(self) -> Occupancy | None:
        """The public ``occupancy`` part (None until the first passage or headcount)."""
        if not self.known or self.measured_at is None:
            return None
        cap = self._cap
        return Occupancy(
            count=self.count,
            capacity=cap,
            ratio=None if cap is None else round(self.count / cap, 3),
            level=self.level(),
            trend=self.trend(),
            measured_at=self.measured_at.astimezone(PARIS),
            source=self.source,
        )

    def next_timer(self) -> datetime | None:
        """When :meth:`advance` must run next: end of the open minute, or the next minute while
        the trend is not steady (it decays as the window slides)."""
        if self._r_end is not None:
            return self._r_end
        if self.next_minute is not None and self.trend() is not Trend.STEADY:
            return self.next_minute
        return None

    # -- events -----------------------------------------------------------------------------

    def add_passage(self, at: datetime, delta: int, now: datetime, now_ts: float) -> bool:
        """Apply ``delta`` people (+in/−out) seen at ``at``; True when count or source changed."""
        baseline = self.baseline_at
        if baseline is not None and at <= baseline:
            return False  # the headcount or reset already accounts for it
        if at > now:
            at = now  # a passage from the future is remembered as seen now (policy)
        old_count = self.count
        old_source = self.source
        was_known = self.known
        self._accumulate(now, now_ts)
        raw = old_count + delta
        if raw < 0:
            self._correct(-raw)
            raw = 0
        elif raw > self._max:
            self._correct(self._max - raw)
            raw = self._max
        self.count = raw
        if delta > 0:
            self._r_in += delta
        else:
            self._r_out -= delta
        self._touched(raw)
        self.known = True
        recent = self.recent
        recent.append((at, delta))
        if now is not self._cut_of:
            self._cut_of, self._cutoff = now, now - self._lateness
        while recent and recent[0][0] < self._cutoff:
            recent.popleft()
        if self.measured_at is None or at > self.measured_at:
            self.measured_at = at
        return raw != old_count or not was_known or self.source != old_source

    def set_headcount(self, at: datetime, headcount: int, now: datetime, now_ts: float) -> bool:
        """Make a headcount measured at ``at`` the new baseline; True when visible state changed."""
        if at < now - self._lateness:
            return False
        if at > now:
            at = now  # the baseline never moves to a future instant (policy)
        if self.baseline_at is not None and at <= self.baseline_at:
            return False
        old = (self.count, self.source, self.known)
        self._accumulate(now, now_ts)
        raw = headcount + sum(delta for when, delta in self.recent if when > at)
        self.baseline_at = at
        self.base_source = SENSOR
        self.corrected = False
        self.drift = 0
        if raw < 0:
            self._correct(-raw)
            raw = 0
        elif raw > self._max:
            self._correct(self._max - raw)
            raw = self._max
        self.count = raw
        self._touched(raw)
        self.known = True
        if self.measured_at is None or at > self.measured_at:
            self.measured_at = at
        return (self.count, self.source, self.known) != old

    def reset(self, at: datetime, now: datetime) -> bool:
        """Daily reset at ``at`` (closing time): back to 0; True when visible state changed."""
        at = at.astimezone(UTC)
        old = (self.count, self.source)
        self.baseline_at = at
        self.recent.clear()
        if not self.known:
            return False
        self._accumulate(now, now.timestamp())
        self.last_residual = self.count
        self.count = 0
        self.corrected = False
        self.drift = 0
        self._touched(0)
        self.measured_at = at
        self.samples.clear()
        self.samples.append((at, 0))
        self.ref_count = 0
        return (self.count, self.source) != old

    def advance(self, now: datetime) -> bool:
        """Close the finished minute and slide the trend window; True when the trend changed."""
        before = self.trend()
        end = self._r_end
        if end is not None and now >= end:
            self._close_minute(end)
        if self.known:
            minute = minute_floor(now)
            samples = self.samples
            if not samples or samples[-1][0] < minute:
                samples.append((minute, self.count))
            cut = now - self._trend_window
            while len(samples) > 1 and samples[1][0] <= cut:
                samples.popleft()
            self.ref_count = samples[0][1]
            self.next_minute = minute + _MINUTE
        return self.trend() is not before

    # -- rollups ----------------------------------------------------------------------------

    def drain(self) -> list[OccupancyMinute]:
        """The finished minutes not yet handed out, oldest first; forgets them."""
        out, self._pending = self._pending, []
        return out

    def rollup_for(self, minute_start: datetime) -> OccupancyMinute | None:
        """The figures of one minute: a finished one not drained yet, or the open one so far."""
        for figure in self._pending:
            if figure.bucket == minute_start:
                return figure
        if self._r_start is not None and self._r_start == minute_start:
            return self._figure(self._r_start, self._r_last_ts, partial=True)
        return None

    def _accumulate(self, now: datetime, now_ts: float) -> None:
        """Open the minute if needed and integrate the current count up to ``now``."""
        if self._r_start is None:
            start = minute_floor(now)
            self._r_start = start
            self._r_end = start + _MINUTE
            self._r_min = self._r_max = self.count
            self._r_in = self._r_out = self._r_samples = 0
            start_ts = start.timestamp()
            self._area = self.count * max(0.0, now_ts - start_ts)
            self._r_last_ts = max(now_ts, start_ts)
            return
        if now_ts > self._r_last_ts:
            self._area += self.count * (now_ts - self._r_last_ts)
            self._r_last_ts = now_ts

    def _touched(self, count: int) -> None:
        if count < self._r_min:
            self._r_min = count
        if count > self._r_max:
            self._r_max = count
        self._r_samples += 1

    def _correct(self, amount: int) -> None:
        self.drift += amount
        self.drift_total += abs(amount)
        self.corrected = True

    def _figure(self, start: datetime, until_ts: float, *, partial: bool) -> OccupancyMinute:
        start_ts = start.timestamp()
        span = max(until_ts - start_ts, 0.0) if partial else 60.0
        area = self._area
        if not partial:
            area += self.count * max(0.0, start_ts + 60.0 - self._r_last_ts)
        avg = area / span if span > 0 else float(self.count)
        return OccupancyMinute(
            facility_id=self._facility_id,
            bucket=start,
            count_avg=round(avg, 3),
            count_min=self._r_min,
            count_max=self._r_max,
            count_last=self.count,
            capacity=self._cap,
            passages_in=self._r_in,
            passages_out=self._r_out,
            samples=self._r_samples,
        )

    def _close_minute(self, end: datetime) -> None:
        start = self._r_start
        assert start is not None
        self._pending.append(self._figure(start, end.timestamp(), partial=False))
        self._r_start = self._r_end = None

    # -- snapshot ---------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """Everything needed to continue exactly where this tracker is."""
        return {
            "known": self.known,
            "count": self.count,
            "measured_at": time_out(self.measured_at),
            "baseline_at": time_out(self.baseline_at),
            "base_source": self.base_source,
            "corrected": self.corrected,
            "drift": self.drift,
            "drift_total": self.drift_total,
            "last_residual": self.last_residual,
            "recent": timed_pairs_out(self.recent),
            "samples": timed_pairs_out(self.samples),
            "ref_count": self.ref_count,
            "next_minute": time_out(self.next_minute),
            "pending": [figure.to_dict() for figure in self._pending],
            "rollup": None
            if self._r_start is None
            else {
                "start": time_out(self._r_start),
                "min": self._r_min,
                "max": self._r_max,
                "in": self._r_in,
                "out": self._r_out,
                "samples": self._r_samples,
                "area": self._area,
                "last_ts": self._r_last_ts,
            },
        }

    def load(self, data: dict[str, Any]) -> None:
        """Restore the state written by :meth:`to_dict`."""
        self.known = bool(data["known"])
        self.count = int(data["count"])
        self.measured_at = time_in(data["measured_at"])
        self.baseline_at = time_in(data["baseline_at"])
        self.base_source = str(data["base_source"])
        self.corrected = bool(data["corrected"])
        self.drift = int(data["drift"])
        self.drift_total = int(data["drift_total"])
        self.last_residual = int(data["last_residual"])
        self.recent = deque((req_time(at), int(delta)) for at, delta in data["recent"])
        self.samples = deque((req_time(at), int(count)) for at, count in data["samples"])
        ref = data["ref_count"]
        self.ref_count = None if ref is None else int(ref)
        self.next_minute = time_in(data["next_minute"])
        self._pending = [OccupancyMinute.from_dict(item) for item in data["pending"]]
        rollup = data["rollup"]
        if rollup is None:
            self._r_start = self._r_end = None
        else:
            start = req_time(rollup["start"])
            self._r_start, self._r_end = start, start + _MINUTE
            self._r_min, self._r_max = int(rollup["min"]), int(rollup["max"])
            self._r_in, self._r_out = int(rollup["in"]), int(rollup["out"])
            self._r_samples = int(rollup["samples"])
            self._area = float(rollup["area"])
            self._r_last_ts = float(rollup["last_ts"])
