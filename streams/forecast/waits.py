"""The wait of each queue service for the next 4 hours — pure, no I/O, like :mod:`.build`.

The same grid (:class:`~streams.forecast.build.Grid`: 35 days of history, today, tomorrow
morning), the same model and the same rules as the crowd forecast, one row per *service* instead
of per facility:

* the observed row is the mean wait (minutes) of the ``queue_wait_1m`` minutes in each 15-minute
  slot (:func:`streams.forecast.store.load_waits`); outside the facility's hours without a reading
  the queue is empty (0); inside the hours without a reading it stays NaN — a gap (machine down,
  nothing recorded), never a zero wait;
* no forecast while closed: the hours engine minus the declared closures of the whole facility
  **and of that service** (``scope.kind == "service"``);
* a service with fewer than :data:`~streams.forecast.build.MIN_HISTORY_DAYS` days seen gets an
  empty forecast and ``reason: insufficient_history`` (the API adds why, in words);
* the model (:func:`streams.forecast.core.fit` / :func:`~streams.forecast.core.forecast`) is the
  crowd's, fitted on all the services of the round at once; its "capacity" — the ceiling a
  forecast is clipped to and the scale of the day-ratio's prior — is 1.5 × the longest wait the
  service showed in its history (at least 10 minutes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
import orjson

from schemas.catalogue import Facility
from schemas.forecast import ForecastAccuracy, ServiceWaitForecast, WaitForecastStep
from schemas.hours import OpeningHours
from streams.forecast import core
from streams.forecast.build import (
    HISTORY_DAYS,
    MIN_HISTORY_DAYS,
    Grid,
    closure_windows,
    open_row,
)

__all__ = ["build_wait_forecasts", "queue_services", "service_closure_windows"]

MIN_CEILING_MINUTES = 10.0


def queue_services(facilities: Sequence[Facility]) -> list[tuple[Facility, str]]:
    """Every (facility, service id) with a ticket queue, in catalogue order: the rows of a round."""
    return [(f, s.service_id) for f in facilities for s in f.services if s.queue]


def service_closure_windows(
    raw: bytes | None, now: datetime
) -> dict[str, list[tuple[datetime, datetime]]]:
    """Closures of one service the live status shows, per service id, as ``[starts, ends)``
    (open-ended or overdue: beyond the horizon, as :func:`.build.closure_windows` reads them)."""
    if raw is None:
        return {}
    found: dict[str, list[tuple[datetime, datetime]]] = {}
    for closure in orjson.loads(raw).get("closures") or []:
        scope = closure.get("scope") or {}
        if scope.get("kind") != "service" or not scope.get("service_id"):
            continue
        end = closure.get("expected_reopening_at")
        overdue = closure.get("overdue") or end is None
        ends = now + timedelta(days=1) if overdue else datetime.fromisoformat(end)
        starts = datetime.fromisoformat(closure["starts_at"])
        found.setdefault(scope["service_id"], []).append((starts, ends))
    return found


def _name(facility: Facility, service_id: str) -> dict[str, str] | None:
    for service in facility.services:
        if service.service_id == service_id:
            return service.name.model_dump(exclude_none=True)
    return None


def build_wait_forecasts(
    rows: Sequence[tuple[Facility, str]],
    observed: core.FloatArray,
    statuses: Mapping[str, bytes],
    grid: Grid,
    accuracy: ForecastAccuracy | None,
) -> dict[str, list[ServiceWaitForecast]]:
    """Per facility id, the wait forecast of each of its queue services in ``rows`` (the rows of
    ``observed``, ``(S, GRID_DAYS × 96)``, minutes; see the module doc)."""
    if not rows:
        return {}
    past = HISTORY_DAYS * core.SLOTS_PER_DAY
    days = grid.slots // core.SLOTS_PER_DAY
    by_facility: dict[str, core.BoolArray] = {}
    for facility, _ in rows:
        if facility.id not in by_facility:
            hours = OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))
            by_facility[facility.id] = open_row(hours, grid.first, days)
    opens = np.array([by_facility[f.id] for f, _ in rows], dtype=np.bool_).reshape(
        len(rows), grid.slots
    )
    observed = np.where(opens | ~np.isnan(observed), observed, 0.0)
    seen = ~np.isnan(np.where(opens, observed, np.nan)[:, :past])
    seen_days = seen.reshape(len(rows), HISTORY_DAYS, -1).any(axis=2).sum(axis=1)
    ats = [grid.time_of(grid.origin + 1 + h) for h in range(core.HORIZON)]
    for r, (facility, service_id) in enumerate(rows):
        raw = statuses.get(facility.id)
        windows = closure_windows(raw, grid.now) + service_closure_windows(raw, grid.now).get(
            service_id, []
        )
        for h, at in enumerate(ats):
            if any(starts <= at < ends for starts, ends in windows):
                opens[r, grid.origin + 1 + h] = False
    chosen = [int(r) for r in np.flatnonzero(seen_days >= MIN_HISTORY_DAYS)]
    steps_of: dict[int, list[WaitForecastStep]] = {}
    if chosen:
        history = observed[chosen][:, :past]
        ceiling = np.maximum(MIN_CEILING_MINUTES, 1.5 * np.nanmax(history, axis=1, initial=0.0))
        fitted = core.fit(observed[chosen], ceiling, grid.first, HISTORY_DAYS, opens[chosen])
        result = core.forecast(fitted, observed[chosen], grid.origin, opens[chosen])
        for row, r in enumerate(chosen):
            steps = []
            for h, at in enumerate(ats):
                p50 = float(result.p50[row, h])
                known = not np.isnan(p50)
                steps.append(
                    WaitForecastStep(
                        at=at,
                        open=bool(opens[r, grid.origin + 1 + h]),
                        p10=round(float(result.p10[row, h]), 1) if known else None,
                        p50=round(p50, 1) if known else None,
                        p90=round(float(result.p90[row, h]), 1) if known else None,
                    )
                )
            steps_of[r] = steps
    out: dict[str, list[ServiceWaitForecast]] = {}
    for r, (facility, service_id) in enumerate(rows):
        forecast = steps_of.get(r)
        out.setdefault(facility.id, []).append(
            ServiceWaitForecast(
                service_id=service_id,
                name=_name(facility, service_id),
                history_days=int(seen_days[r]),
                forecast=forecast or [],
                reason=None if forecast is not None else "insufficient_history",
                accuracy=accuracy,
            )
        )
    return out
