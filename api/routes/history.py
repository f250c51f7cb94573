"""``GET /v1/facilities/{id}/history`` and ``GET /v1/facilities/{id}/typical`` (PostgreSQL).

History buckets come from ``occupancy_1m`` (``1m``, and ``15m`` binned from it), ``occupancy_1h``
and ``occupancy_1d`` (Paris-local days); status changes from ``status_changes``. Typical affluence
averages ``occupancy_1h`` per ISO weekday × hour, both taken in Paris time (DST-correct).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import orjson
import psycopg
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from psycopg import sql
from psycopg.rows import TupleRow
from psycopg_pool import PoolTimeout
from pydantic import AwareDatetime, BaseModel, Field

from api.caching import cached
from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, NOT_FOUND, InvalidParameter, ServiceUnavailable
from api.i18n import N_, bilingual
from api.inputs import in_years
from api.routes.facilities import FacilityIdParam, require_facility
from schemas.catalogue import LEVEL_THRESHOLDS, WEEKDAYS, occupancy_level
from schemas.clock import PARIS

__all__ = ["pg", "router"]

router = APIRouter(prefix="/v1", tags=["history"])
Step = Literal["1m", "15m", "1h", "1d"]
STEPS: dict[str, timedelta] = {
    "1m": timedelta(minutes=1),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "1d": timedelta(days=1),
}
MAX_POINTS = 1500
_ROLLUP_COLUMNS = (
    "count_avg, count_min, count_max, count_last, capacity, passages_in, passages_out, samples"
)


HISTORY_UNAVAILABLE = N_("Historique momentanément indisponible")
FEEDBACK_UNAVAILABLE = N_(
    "Avis et réclamations momentanément indisponibles : réessayez dans quelques minutes"
)


@contextlib.asynccontextmanager
async def pg(
    ctx: AppContext, unavailable: str = HISTORY_UNAVAILABLE
) -> AsyncIterator[psycopg.AsyncConnection[TupleRow]]:
    """A pooled connection; 503 with the error shape when PostgreSQL cannot be reached, saying
    what is unavailable (``unavailable``: a message marked with :func:`N_`)."""
    try:
        async with ctx.pool.connection(timeout=5.0) as conn:
            yield conn
    except (psycopg.OperationalError, PoolTimeout) as exc:
        raise ServiceUnavailable(bilingual(unavailable)) from exc


class Bucket(BaseModel):
    at: datetime = Field(description="start of the bucket, Paris time")
    count_avg: float | None
    count_min: int | None
    count_max: int | None
    count_last: int | None
    capacity: int | None
    ratio: float | None = Field(description="count_avg / capacity")
    passages_in: int | None
    passages_out: int | None
    samples: int | None


class StatusChange(BaseModel):
    at: datetime
    seq: int
    open_state: str
    occupancy_count: int | None
    occupancy_ratio: float | None
    stale: bool


class History(BaseModel):
    facility_id: str
    step: Step
    timezone: Literal["Europe/Paris"] = "Europe/Paris"
    from_: datetime = Field(alias="from")
    to: datetime
    items: list[Bucket]
    status_changes: list[StatusChange]
    next: str | None = Field(description="cursor of the next window (`cursor`), null at the end")


class TypicalCell(BaseModel):
    weekday: int = Field(ge=1, le=7, description="ISO weekday, 1 = Monday")
    day: str = Field(examples=["mon"])
    hour: int = Field(ge=0, le=23, description="hour of the day, Paris time")
    count_avg: float | None
    ratio_avg: float | None
    level: Literal["low", "moderate", "high", "full"] | None
    samples: int


class Typical(BaseModel):
    facility_id: str
    timezone: Literal["Europe/Paris"] = "Europe/Paris"
    weeks: int
    items: list[TypicalCell]
    next: None = None


def _align(at: datetime, step: str) -> datetime:
    local = at.astimezone(PARIS)
    if step == "1d":
        return datetime(local.year, local.month, local.day, tzinfo=PARIS)
    utc = at.astimezone(UTC)
    if step == "1h":
        return utc.replace(minute=0, second=0, microsecond=0)
    if step == "15m":
        return utc.replace(minute=utc.minute - utc.minute % 15, second=0, microsecond=0)
    return utc.replace(second=0, microsecond=0)


def _window_end(start: datetime, step: str, points: int) -> datetime:
    if step == "1d":  # Paris days are 23, 24 or 25 hours long
        local = start.astimezone(PARIS)
        day = local.date() + timedelta(days=points)
        return datetime(day.year, day.month, day.day, tzinfo=PARIS)
    return start + STEPS[step] * points


def _cursor(at: datetime) -> str:
    return base64.urlsafe_b64encode(at.astimezone(UTC).isoformat().encode()).decode().rstrip("=")


def _from_cursor(cursor: str) -> datetime:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value = datetime.fromisoformat(text)
        if value.tzinfo is None:
            raise ValueError(text)
        in_years(value, "cursor")
    except (binascii.Error, UnicodeDecodeError, ValueError, InvalidParameter):
        raise InvalidParameter(
            bilingual("Curseur invalide : utilisez la valeur « next »"),
            code="invalid_cursor",
        ) from None
    return value


def _paris(value: datetime) -> str:
    return value.astimezone(PARIS).isoformat()


@router.get(
    "/facilities/{facility_id}/history",
    summary="Historique de fréquentation / Occupancy history",
    response_model=History,
    responses={**NOT_FOUND, **ERROR_RESPONSES},
)
async def history(
    request: Request,
    ctx: Ctx,
    facility_id: FacilityIdParam,
    from_: Annotated[
        AwareDatetime | None,
        Query(
            alias="from",
            description="RFC 3339 with offset, years 2000–2100; default: `to` − 24 h",
        ),
    ] = None,
    to: Annotated[
        AwareDatetime | None,
        Query(description="RFC 3339 with offset, years 2000–2100; default: now"),
    ] = None,
    step: Annotated[Step, Query(description="bucket size, Paris time")] = "1h",
    cursor: Annotated[str | None, Query(max_length=80)] = None,
) -> Response:
    """Occupancy buckets and status changes between ``from`` and ``to`` (at most 1,500 buckets
    per answer; follow ``next`` for the rest). ``from`` and ``to`` lie in the years 2000–2100
    and ``from`` precedes ``to`` (else 422 ``invalid_range``)."""
    in_years(from_, "from")
    in_years(to, "to")
    await require_facility(ctx, facility_id)
    end = to or datetime.now(UTC)
    start = from_ or end - timedelta(hours=24)
    if cursor is not None:
        start = _from_cursor(cursor)
    if start >= end:
        raise InvalidParameter(bilingual("« from » doit précéder « to »"), code="invalid_range")
    if end - start > timedelta(days=3660):
        raise InvalidParameter(
            bilingual("Intervalle trop long (10 ans au plus)"),
            code="invalid_range",
        )
    start = _align(start, step)
    window_end = min(end, _window_end(start, step, MAX_POINTS))
    async with pg(ctx) as conn:
        rows = await _buckets(conn, facility_id, step, start, window_end)
        cur = await conn.execute(
            "SELECT at, seq, open_state, occupancy_count, occupancy_ratio, stale "
            "FROM status_changes WHERE facility_id = %s AND at >= %s AND at < %s "
            "ORDER BY at, seq LIMIT 5000",
            (facility_id, start, window_end),
        )
        changes = await cur.fetchall()
    items = []
    for row in rows:
        at, avg, cmin, cmax, last, capacity, pin, pout, samples = row
        items.append(
            {
                "at": _paris(at),
                "count_avg": None if avg is None else round(float(avg), 2),
                "count_min": cmin,
                "count_max": cmax,
                "count_last": last,
                "capacity": capacity,
                "ratio": round(float(avg) / capacity, 4) if avg is not None and capacity else None,
                "passages_in": pin,
                "passages_out": pout,
                "samples": samples,
            }
        )
    document = {
        "facility_id": facility_id,
        "step": step,
        "timezone": "Europe/Paris",
        "from": _paris(start),
        "to": _paris(window_end),
        "items": items,
        "status_changes": [
            {
                "at": _paris(at),
                "seq": seq,
                "open_state": state,
                "occupancy_count": count,
                "occupancy_ratio": None if ratio is None else round(float(ratio), 4),
                "stale": bool(stale),
            }
            for at, seq, state, count, ratio, stale in changes
        ],
        "next": _cursor(window_end) if window_end < end else None,
    }
    return cached(request, orjson.dumps(document), "application/json", max_age=60)


async def _buckets(
    conn: psycopg.AsyncConnection[TupleRow],
    facility_id: str,
    step: str,
    start: datetime,
    end: datetime,
) -> list[tuple[Any, ...]]:
    query: sql.Composable
    if step == "15m":
        query = sql.SQL(
            "SELECT date_bin('15 minutes', bucket, TIMESTAMPTZ '2000-01-01T00:00:00Z') AS b, "
            "(sum(count_avg * samples) / nullif(sum(samples), 0))::real, min(count_min), "
            "max(count_max), (array_agg(count_last ORDER BY bucket DESC))[1], max(capacity), "
            "sum(passages_in)::int, sum(passages_out)::int, sum(samples)::int "
            "FROM occupancy_1m WHERE facility_id = %s AND bucket >= %s AND bucket < %s "
            "GROUP BY b ORDER BY b"
        )
    else:
        table = {"1m": "occupancy_1m", "1h": "occupancy_1h", "1d": "occupancy_1d"}[step]
        query = sql.SQL(
            "SELECT bucket, " + _ROLLUP_COLUMNS + " FROM {} "
            "WHERE facility_id = %s AND bucket >= %s AND bucket < %s ORDER BY bucket"
        ).format(sql.Identifier(table))
    cur = await conn.execute(query, (facility_id, start, end))
    return list(await cur.fetchall())


@router.get(
    "/facilities/{facility_id}/typical",
    summary="Affluence habituelle / Typical affluence",
    response_model=Typical,
    responses={**NOT_FOUND, **ERROR_RESPONSES},
)
async def typical(
    request: Request,
    ctx: Ctx,
    facility_id: FacilityIdParam,
    weeks: Annotated[int, Query(ge=1, le=52, description="weeks of history averaged")] = 8,
) -> Response:
    """Average affluence for each weekday × hour (Paris time) over the last ``weeks`` weeks:
    168 cells, Monday 00h first; a cell without data has null figures."""
    facility, raw = await require_facility(ctx, facility_id)
    facility_type = facility.type if facility else orjson.loads(raw or b"{}").get("type")
    since = datetime.now(UTC) - timedelta(weeks=weeks)
    async with pg(ctx) as conn:
        cur = await conn.execute(
            "SELECT extract(isodow FROM bucket AT TIME ZONE 'Europe/Paris')::int AS d, "
            "extract(hour FROM bucket AT TIME ZONE 'Europe/Paris')::int AS h, "
            "avg(count_avg), avg(count_avg / nullif(capacity, 0)), count(*) "
            "FROM occupancy_1h WHERE facility_id = %s AND bucket >= %s GROUP BY d, h",
            (facility_id, since),
        )
        rows = {(d, h): (avg, ratio, n) for d, h, avg, ratio, n in await cur.fetchall()}
    items = []
    for weekday in range(1, 8):
        for hour in range(24):
            avg, ratio, samples = rows.get((weekday, hour), (None, None, 0))
            level = None
            if ratio is not None and facility_type in LEVEL_THRESHOLDS:
                level = occupancy_level(float(ratio), facility_type)
            items.append(
                {
                    "weekday": weekday,
                    "day": WEEKDAYS[weekday - 1],
                    "hour": hour,
                    "count_avg": None if avg is None else round(float(avg), 2),
                    "ratio_avg": None if ratio is None else round(float(ratio), 4),
                    "level": level,
                    "samples": samples,
                }
            )
    document = {
        "facility_id": facility_id,
        "timezone": "Europe/Paris",
        "weeks": weeks,
        "items": items,
        "next": None,
    }
    return cached(request, orjson.dumps(document), "application/json", max_age=3600)
