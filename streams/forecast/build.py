"""From a history grid to :class:`~schemas.forecast.FacilityForecast` records — pure, no I/O.

The job (:mod:`streams.forecast.job`) and the API's on-request fallback hand this module the
observed grid of :data:`HISTORY_DAYS` days plus today and tomorrow (15-minute Paris wall-clock
slots, NaN where no minute was recorded), the live status JSON of each facility (for its declared
closures) and ``now``; it answers one forecast per facility:

* open slots come from the hours engine (:func:`schemas.hours.day_schedule`: weekly hours, seasons,
  public holidays, special days) minus the whole-facility closures declared so far — no crowd
  forecast while closed;
* a slot outside the opening hours without a reading is an empty facility (0); a slot **inside**
  the hours without a reading stays NaN — a gap (sensor down, closure), never read as empty;
* a facility with fewer than :data:`MIN_HISTORY_DAYS` days seen gets no forecast and a reason.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import date, datetime, time, timedelta

import numpy as np
import orjson

from schemas.catalogue import LEVEL_THRESHOLDS, Facility, occupancy_level
from schemas.clock import PARIS
from schemas.forecast import (
    BestTime,
    FacilityForecast,
    ForecastAccuracy,
    ForecastReason,
    ForecastStep,
    ServiceWaitForecast,
)
from schemas.hours import OpeningHours, day_schedule
from schemas.status import OccupancyLevel
from streams.forecast import core

__all__ = [
    "HISTORY_DAYS",
    "METHOD",
    "MIN_HISTORY_DAYS",
    "Grid",
    "build_forecasts",
    "closure_windows",
    "grid_for",
    "slot_index",
]

MIN_HISTORY_DAYS = 14
HISTORY_DAYS = 35
GRID_DAYS = HISTORY_DAYS + 2
"""History, today, and tomorrow morning (a 4-hour horizon may cross midnight)."""
METHOD = "weekday profile × today, calibrated bands (streams.forecast.core)"


class Grid:
    """The slot grid of one forecasting round: day 0 is ``first``, today is day HISTORY_DAYS."""

    def __init__(self, now: datetime) -> None:
        self.now = now
        local = now.astimezone(PARIS)
        self.today = local.date()
        self.first = self.today - timedelta(days=HISTORY_DAYS)
        self.origin = HISTORY_DAYS * core.SLOTS_PER_DAY + local.hour * 4 + local.minute // 15
        self.slots = GRID_DAYS * core.SLOTS_PER_DAY

    def since(self) -> datetime:
        """Paris midnight of the first day (the history query's lower bound)."""
        return datetime.combine(self.first, time(0, 0), tzinfo=PARIS)

    def time_of(self, index: int) -> datetime:
        """Paris wall-clock start of slot ``index``."""
        minute = index % core.SLOTS_PER_DAY * 15
        day = self.first + timedelta(days=index // core.SLOTS_PER_DAY)
        return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=PARIS)


def grid_for(now: datetime) -> Grid:
    """The grid of a round run at ``now``."""
    return Grid(now)


def slot_index(grid: Grid, local_slot: datetime) -> int:
    """Index of a Paris wall-clock 15-minute slot start (naive, as ``date_bin`` returns it)."""
    return (local_slot.date() - grid.first).days * core.SLOTS_PER_DAY + (
        local_slot.hour * 4 + local_slot.minute // 15
    )


def open_row(hours: OpeningHours, first: date, days: int) -> core.BoolArray:
    """Open by the hours engine, per 15-minute wall-clock slot, ``(days × 96,)``."""
    start = np.arange(core.SLOTS_PER_DAY) * 15
    row = np.zeros(days * core.SLOTS_PER_DAY, dtype=np.bool_)
    for d in range(days):
        cut = slice(d * core.SLOTS_PER_DAY, (d + 1) * core.SLOTS_PER_DAY)
        for period in day_schedule(hours, first + timedelta(days=d)).periods:
            row[cut] |= (start >= period.opens_minutes) & (start < period.closes_minutes)
    return row


def closure_windows(raw: bytes | None, now: datetime) -> list[tuple[datetime, datetime]]:
    """Whole-facility closures the live status shows, as ``[starts, ends)``; one without an
    expected reopening, or overdue, is taken to last beyond the forecast's 4 hours."""
    if raw is None:
        return []
    windows = []
    for closure in orjson.loads(raw).get("closures") or []:
        if (closure.get("scope") or {}).get("kind") != "facility":
            continue
        end = closure.get("expected_reopening_at")
        overdue = closure.get("overdue") or end is None
        ends = now + timedelta(days=1) if overdue else datetime.fromisoformat(end)
        windows.append((datetime.fromisoformat(closure["starts_at"]), ends))
    return windows


def _level(facility: Facility, p50: float) -> OccupancyLevel | None:
    if not facility.capacity or facility.type not in LEVEL_THRESHOLDS:
        return None
    return occupancy_level(p50 / facility.capacity, facility.type)


def _best_time(steps: list[ForecastStep], today: date) -> BestTime | None:
    """The least crowded open step left today (the earliest of equals)."""
    best: ForecastStep | None = None
    for step in steps:
        if step.p50 is None or step.at.date() != today:
            continue
        if best is None or best.p50 is None or step.p50 < best.p50:
            best = step
    if best is None or best.p50 is None:
        return None
    return BestTime(at=best.at, p50=best.p50, level=best.level)


def build_forecasts(
    facilities: Sequence[Facility],
    observed: core.FloatArray,
    statuses: Mapping[str, bytes],
    grid: Grid,
    accuracy: ForecastAccuracy | None,
    waits: Mapping[str, list[ServiceWaitForecast]] | None = None,
    with_occupancy: Collection[str] | None = None,
) -> list[FacilityForecast]:
    """One forecast per facility from its observed grid ``(F, GRID_DAYS × 96)`` (see module doc),
    with its queue services' wait forecasts from ``waits`` (:mod:`streams.forecast.waits`). A
    facility not in ``with_occupancy`` (when given: it is in the round for its queues only) gets
    ``reason: no_occupancy`` rather than "too little history"."""
    if not facilities:  # a new platform: no facility has history yet
        return []
    waits = waits or {}
    generated = grid.now.astimezone(PARIS)
    past = HISTORY_DAYS * core.SLOTS_PER_DAY
    opens = np.array(
        [
            open_row(
                OpeningHours.model_validate(f.hours.model_dump(by_alias=True)),
                grid.first,
                GRID_DAYS,
            )
            for f in facilities
        ],
        dtype=np.bool_,
    ).reshape(len(facilities), grid.slots)
    # Closed by the hours without a reading: nobody inside. Open without one: a gap (NaN).
    observed = np.where(opens | ~np.isnan(observed), observed, 0.0)
    seen = ~np.isnan(np.where(opens, observed, np.nan)[:, :past])
    seen_days = seen.reshape(len(facilities), HISTORY_DAYS, -1).any(axis=2).sum(axis=1)
    ats = [grid.time_of(grid.origin + 1 + h) for h in range(core.HORIZON)]
    for f, facility in enumerate(facilities):
        windows = closure_windows(statuses.get(facility.id), grid.now)
        for h, at in enumerate(ats):
            if any(starts <= at < ends for starts, ends in windows):
                opens[f, grid.origin + 1 + h] = False
    chosen = [int(f) for f in np.flatnonzero(seen_days >= MIN_HISTORY_DAYS)]
    results: dict[int, FacilityForecast] = {}
    if len(chosen):
        capacity = np.array(
            [
                float(facilities[f].capacity or max(1.0, float(np.nanmax(observed[f])) * 1.2))
                for f in chosen
            ]
        )
        fitted = core.fit(observed[chosen], capacity, grid.first, HISTORY_DAYS, opens[chosen])
        result = core.forecast(fitted, observed[chosen], grid.origin, opens[chosen])
        for row, f in enumerate(chosen):
            facility = facilities[f]
            steps = []
            for h, at in enumerate(ats):
                p50 = float(result.p50[row, h])
                known = not np.isnan(p50)
                steps.append(
                    ForecastStep(
                        at=at,
                        open=bool(opens[f, grid.origin + 1 + h]),
                        p10=round(float(result.p10[row, h]), 1) if known else None,
                        p50=round(p50, 1) if known else None,
                        p90=round(float(result.p90[row, h]), 1) if known else None,
                        level=_level(facility, p50) if known else None,
                    )
                )
            results[f] = FacilityForecast(
                facility_id=facility.id,
                generated_at=generated,
                method=METHOD,
                history_days=int(seen_days[f]),
                capacity=facility.capacity,
                forecast=steps,
                best_time=_best_time(steps, grid.today),
                accuracy=accuracy,
                queues=waits.get(facility.id, []),
            )

    def reason(facility: Facility) -> ForecastReason:
        if with_occupancy is not None and facility.id not in with_occupancy:
            return "no_occupancy"
        return "insufficient_history"

    return [
        results.get(f)
        or FacilityForecast(
            facility_id=facility.id,
            generated_at=generated,
            method=METHOD,
            history_days=int(seen_days[f]),
            capacity=facility.capacity,
            forecast=[],
            reason=reason(facility),
            accuracy=accuracy,
            queues=waits.get(facility.id, []),
        )
        for f, facility in enumerate(facilities)
    ]
