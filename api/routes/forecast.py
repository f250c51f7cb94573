"""``GET /v1/facilities/{id}/forecast``: the next 4 hours of occupancy, p10/p50/p90 (PostgreSQL).

Computed on demand for one facility by :mod:`streams.forecast.core` (a few milliseconds) from the
last five weeks of ``occupancy_1m`` binned into 15-minute Paris wall-clock slots. The hours engine
says which slots are open (no crowd forecast while closed, nor during an exceptional closure the
live status shows); a slot of opening hours without any minute of history is a gap (sensor down),
never read as empty. A facility with less than :data:`MIN_HISTORY_DAYS` days of history, or without
occupancy, gets an empty ``forecast`` and a ``reason`` (200, not an error): the forecast is an
estimate and says so (``estimated: true``), with the accuracy its benchmark measured
(``bench/results/forecast.json``, null when the file is not shipped).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import orjson
from fastapi import APIRouter, Response
from pydantic import BaseModel, Field

from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, NOT_FOUND
from api.i18n import N_, localized
from api.routes.facilities import FacilityIdParam, require_facility
from api.routes.history import pg
from schemas.catalogue import LEVEL_THRESHOLDS, Facility, occupancy_level
from schemas.clock import PARIS
from schemas.hours import OpeningHours, day_schedule
from schemas.status import OccupancyLevel
from streams.forecast import core

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["history"])
MIN_HISTORY_DAYS = 14
HISTORY_DAYS = 35
BENCH_RESULT = Path(__file__).resolve().parents[2] / "bench" / "results" / "forecast.json"
METHOD = "weekday profile × today, calibrated bands (streams.forecast.core)"
Reason = Literal["insufficient_history", "no_occupancy"]
REASONS: dict[str, str] = {
    "insufficient_history": N_(
        "Pas encore assez d'historique pour une prévision (14 jours requis)"
    ),
    "no_occupancy": N_("Pas de comptage de fréquentation pour cet équipement"),
}


class ForecastStep(BaseModel):
    at: datetime = Field(description="start of the 15-minute slot, Paris time")
    open: bool = Field(description="open at that time by the hours and known closures")
    p10: float | None = Field(description="people inside, 10th percentile (null while closed)")
    p50: float | None = Field(description="people inside, median forecast")
    p90: float | None = Field(description="people inside, 90th percentile")
    level: OccupancyLevel | None = Field(description="crowd level of the p50 (needs a capacity)")


class Accuracy(BaseModel):
    """How good the forecast measured itself (``python -m bench.forecast``), to label it."""

    mase_1h: float = Field(description="1 h-ahead MAE ÷ seasonal-naive's (lower is better)")
    coverage_pct: float = Field(description="observed values inside p10–p90, 1 h ahead")
    backtest: str = Field(description="what it was measured on")
    measured_at: str


@cache
def measured_accuracy() -> Accuracy | None:
    """The figures of the last benchmark run shipped with the code (None when absent)."""
    try:
        result = orjson.loads(BENCH_RESULT.read_bytes())
        return Accuracy(
            mase_1h=result["mase_1h"],
            coverage_pct=result["coverage_1h_pct"],
            backtest=f"{result['facilities']} simulated facilities, {result['weeks']}",
            measured_at=result["at"],
        )
    except (OSError, KeyError, ValueError):
        return None


class FacilityForecast(BaseModel):
    facility_id: str
    generated_at: datetime
    estimated: bool = Field(True, description="always true: a forecast is an estimate")
    method: str
    history_days: int = Field(description="days with occupancy history in the last 35")
    capacity: int | None
    forecast: list[ForecastStep] = Field(description="the next 4 hours, 16 steps; empty: reason")
    reason: Reason | None = None
    message: dict[str, str] | None = Field(None, description="why there is no forecast, fr/en")
    accuracy: Accuracy | None = Field(None, description="measured accuracy of the method")


def _open_grid(hours: OpeningHours, first: date, days: int) -> core.BoolArray:
    """Open by the regular hours, per 15-minute wall-clock slot, ``(1, days × 96)``."""
    start = np.arange(core.SLOTS_PER_DAY) * 15
    grid = np.zeros(days * core.SLOTS_PER_DAY, dtype=np.bool_)
    for d in range(days):
        row = slice(d * core.SLOTS_PER_DAY, (d + 1) * core.SLOTS_PER_DAY)
        for period in day_schedule(hours, first + timedelta(days=d)).periods:
            grid[row] |= (start >= period.opens_minutes) & (start < period.closes_minutes)
    return grid[None, :]


def _slot_time(first: date, index: int) -> datetime:
    """Paris wall-clock start of grid slot ``index``."""
    minute = index % core.SLOTS_PER_DAY * 15
    day = first + timedelta(days=index // core.SLOTS_PER_DAY)
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=PARIS)


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


async def _observed(ctx: AppContext, facility_id: str, first: date, days: int) -> core.FloatArray:
    """Mean people inside per 15-minute Paris slot from ``occupancy_1m``; NaN: no minute."""
    since = datetime.combine(first, datetime.min.time(), tzinfo=PARIS)
    async with pg(ctx) as conn:
        cur = await conn.execute(
            "SELECT date_bin('15 minutes', bucket AT TIME ZONE 'Europe/Paris', "
            "timestamp '2000-01-01') AS slot, avg(count_avg) FROM occupancy_1m "
            "WHERE facility_id = %s AND bucket >= %s GROUP BY slot",
            (facility_id, since),
        )
        rows = await cur.fetchall()
    observed = np.full((1, days * core.SLOTS_PER_DAY), np.nan)
    for slot, avg in rows:
        if avg is None:
            continue
        index = (slot.date() - first).days * core.SLOTS_PER_DAY + (
            slot.hour * 4 + slot.minute // 15
        )
        if 0 <= index < observed.shape[1]:
            observed[0, index] = float(avg)
    return observed


@router.get(
    "/facilities/{facility_id}/forecast",
    summary="Prévision d'affluence / Crowding forecast",
    response_model=FacilityForecast,
    responses={**NOT_FOUND, **ERROR_RESPONSES},
)
async def forecast(ctx: Ctx, facility_id: FacilityIdParam) -> Response:
    """The next 4 hours in 15-minute steps (p10/p50/p90 of the people inside, with its level),
    from the facility's history; an empty list with a ``reason`` when it has too little."""
    facility, raw = await require_facility(ctx, facility_id)
    now = datetime.now(UTC)
    local = now.astimezone(PARIS)
    today = local.date()
    first = today - timedelta(days=HISTORY_DAYS)
    days = HISTORY_DAYS + 2  # today and tomorrow morning (a 4-hour horizon crosses midnight)
    body = await _forecast_body(ctx, facility, facility_id, raw, now, first, days)
    return Response(
        orjson.dumps(body.model_dump(mode="json")),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=60"},
    )


async def _forecast_body(
    ctx: AppContext,
    facility: Facility | None,
    facility_id: str,
    raw: bytes | None,
    now: datetime,
    first: date,
    days: int,
) -> FacilityForecast:
    local = now.astimezone(PARIS)
    capacity = facility.capacity if facility is not None else None

    def empty(history_days: int, reason: Reason) -> FacilityForecast:
        return FacilityForecast(
            facility_id=facility_id,
            generated_at=local,
            method=METHOD,
            history_days=history_days,
            capacity=capacity,
            forecast=[],
            reason=reason,
            message=localized(REASONS[reason]),
            accuracy=measured_accuracy(),
        )

    if facility is None:
        return empty(0, "no_occupancy")
    observed = await _observed(ctx, facility_id, first, days)
    past = HISTORY_DAYS * core.SLOTS_PER_DAY
    seen_days = int((~np.isnan(observed[0, :past])).reshape(HISTORY_DAYS, -1).any(axis=1).sum())
    if seen_days < MIN_HISTORY_DAYS:
        return empty(seen_days, "insufficient_history")
    hours = OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))
    open_ = _open_grid(hours, first, days)
    observed = np.where(open_ | ~np.isnan(observed), observed, 0.0)  # closed hours: nobody
    origin = past + local.hour * 4 + local.minute // 15
    closures = closure_windows(raw, now)
    ats = [_slot_time(first, origin + 1 + h) for h in range(core.HORIZON)]
    for h, at in enumerate(ats):
        if any(starts <= at < ends for starts, ends in closures):
            open_[0, origin + 1 + h] = False
    scale = float(capacity) if capacity else max(1.0, float(np.nanmax(observed)) * 1.2)
    fitted = core.fit(observed, np.array([scale]), first, HISTORY_DAYS, open_)
    result = core.forecast(fitted, observed, origin, open_)
    steps = []
    for h, at in enumerate(ats):
        p50 = result.p50[0, h]
        known = not np.isnan(p50)
        level = None
        if known and capacity and facility.type in LEVEL_THRESHOLDS:
            level = occupancy_level(float(p50) / capacity, facility.type)
        steps.append(
            ForecastStep(
                at=at,
                open=bool(open_[0, origin + 1 + h]),
                p10=round(float(result.p10[0, h]), 1) if known else None,
                p50=round(float(p50), 1) if known else None,
                p90=round(float(result.p90[0, h]), 1) if known else None,
                level=level,
            )
        )
    return FacilityForecast(
        facility_id=facility_id,
        generated_at=local,
        method=METHOD,
        history_days=seen_days,
        capacity=capacity,
        forecast=steps,
        accuracy=measured_accuracy(),
    )
