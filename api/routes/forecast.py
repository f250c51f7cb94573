"""``GET /v1/facilities/{id}/forecast``: the next 4 hours of occupancy, p10/p50/p90.

Reads what the forecasting job (:mod:`streams.forecast.job`, every 15 minutes) stored — Redis
first, PostgreSQL ``facility_forecasts`` when Redis has none — flagged ``stale`` when generated
more than 30 minutes ago. When the job has stored nothing for the facility yet (a fresh
deployment, a facility new to the history) the forecast is computed on request by the same code
(:func:`streams.forecast.build.build_forecasts`). A facility with less than 14 days of history,
or without occupancy, gets an empty ``forecast`` and a ``reason`` with its message (200, not an
error). Always ``estimated: true``, with the accuracy its benchmark measured. ``queues[]`` gives
the wait forecast of each queue service (minutes), or its reason and message the same way.

``GET /v1/forecasts?facility=…&facility=…`` answers the stored forecasts of up to
:data:`MAX_BATCH` facilities at once (one Redis ``MGET``, one PostgreSQL query for the rest) — the
directory's cards read « dans 1 h : … » from it; a facility never forecast is simply left out.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, StringConstraints
from redis.exceptions import RedisError

from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, NOT_FOUND
from api.i18n import N_, localized
from api.routes.facilities import FacilityIdParam, require_facility
from api.routes.history import pg
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import FACILITY_ID_PATTERN
from schemas.forecast import FacilityForecast
from streams.forecast.build import METHOD, build_forecasts, grid_for
from streams.forecast.store import (
    load_observed,
    load_waits,
    measured_accuracy,
    measured_wait_accuracy,
    stored_in_postgres,
    stored_in_redis,
    stored_many,
    stored_many_in_postgres,
)
from streams.forecast.waits import build_wait_forecasts, queue_services

__all__ = ["MAX_BATCH", "REASONS", "router"]

MAX_BATCH = 100
"""Facilities one ``GET /v1/forecasts`` may ask for (a directory page shows 24)."""

router = APIRouter(prefix="/v1", tags=["history"])
REASONS: dict[str, str] = {
    "insufficient_history": N_(
        "Pas encore assez d'historique pour une prévision (14 jours requis)"
    ),
    "no_occupancy": N_("Pas de comptage de fréquentation pour cet équipement"),
}


def explained(forecast: FacilityForecast, now: datetime) -> FacilityForecast:
    """The stored forecast as seen now: ``stale`` flag, and the reasons' messages in fr/en
    (the facility's and each queue service's)."""
    aged = forecast.aged(now)
    if aged.reason is not None and aged.message is None:
        aged = aged.model_copy(update={"message": localized(REASONS[aged.reason])})
    if any(q.reason is not None and q.message is None for q in aged.queues):
        queues = [
            q.model_copy(update={"message": localized(REASONS[q.reason])})
            if q.reason is not None and q.message is None
            else q
            for q in aged.queues
        ]
        aged = aged.model_copy(update={"queues": queues})
    return aged


async def _stored(ctx: AppContext, facility_id: str) -> FacilityForecast | None:
    """Redis first (the live read), PostgreSQL when Redis has none or is away."""
    try:
        found = await stored_in_redis(ctx.redis, ctx.settings, facility_id)
    except (RedisError, OSError):
        found = None
    if found is not None:
        return found
    async with pg(ctx) as conn:
        return await stored_in_postgres(conn, facility_id)


async def _on_request(
    ctx: AppContext, facility: Facility | None, facility_id: str, raw: bytes | None, now: datetime
) -> FacilityForecast:
    """No stored forecast: the job's computation for this one facility."""
    if facility is None:
        return FacilityForecast(
            facility_id=facility_id,
            generated_at=now.astimezone(PARIS),
            method=METHOD,
            history_days=0,
            capacity=None,
            forecast=[],
            reason="no_occupancy",
            accuracy=measured_accuracy(),
        )
    grid = grid_for(now)
    services = queue_services([facility])
    async with pg(ctx) as conn:
        observed = await load_observed(conn, [facility_id], grid)
        waited = await load_waits(conn, services, grid)
    statuses = {facility_id: raw} if raw is not None else {}
    waits = build_wait_forecasts(services, waited, statuses, grid, measured_wait_accuracy())
    return build_forecasts([facility], observed, statuses, grid, measured_accuracy(), waits=waits)[
        0
    ]


@router.get(
    "/facilities/{facility_id}/forecast",
    summary="Prévision d'affluence / Crowding forecast",
    response_model=FacilityForecast,
    responses={**NOT_FOUND, **ERROR_RESPONSES},
)
async def forecast(ctx: Ctx, facility_id: FacilityIdParam) -> Response:
    """The next 4 hours in 15-minute steps (p10/p50/p90 of the people inside, with its level),
    the best time to come left today, ``generated_at`` and ``stale``; an empty list with a
    ``reason`` when the facility has too little history."""
    facility, raw = await require_facility(ctx, facility_id)
    now = datetime.now(UTC)
    found = await _stored(ctx, facility_id)
    if found is None:
        found = await _on_request(ctx, facility, facility_id, raw, now)
    body = explained(found, now)
    return Response(
        orjson.dumps(body.model_dump(mode="json")),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=60"},
    )


class ForecastPage(BaseModel):
    """Stored forecasts of several facilities (the list shape; never more than one page)."""

    items: list[FacilityForecast]
    next: None = None


@router.get(
    "/forecasts",
    summary="Prévisions de plusieurs équipements / Forecasts of several facilities",
    response_model=ForecastPage,
    responses={**ERROR_RESPONSES},
)
async def forecasts(
    ctx: Ctx,
    facility: Annotated[
        list[Annotated[str, StringConstraints(pattern=FACILITY_ID_PATTERN, max_length=120)]],
        Query(
            min_length=1,
            max_length=MAX_BATCH,
            description="facility ids (repeat the parameter), at most 100",
        ),
    ],
) -> Response:
    """What the forecasting job stored for each facility asked (``stale`` flagged, reasons in
    words), in the order asked; facilities never forecast (or unknown) are left out."""
    now = datetime.now(UTC)
    ids = list(dict.fromkeys(facility))
    try:
        found = await stored_many(ctx.redis, ctx.settings, ids)
    except (RedisError, OSError):
        found = {}
    missing = [f for f in ids if f not in found]
    if missing:
        async with pg(ctx) as conn:
            found |= await stored_many_in_postgres(conn, missing)
    items = [explained(found[f], now).model_dump(mode="json") for f in ids if f in found]
    return Response(
        orjson.dumps({"items": items, "next": None}),
        media_type="application/json",
        headers={"Cache-Control": "public, max-age=60"},
    )
