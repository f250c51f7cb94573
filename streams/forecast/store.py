"""The forecast's I/O shell: history in from PostgreSQL, forecasts out to PostgreSQL and Redis.

* :func:`load_observed` — ``occupancy_1m`` binned into 15-minute Paris wall-clock slots (the mean
  of the minutes recorded), one query for every facility of the round; a slot without any minute
  stays NaN (:mod:`streams.forecast.build` decides what it means); :func:`load_waits` does the
  same for the wait of each queue service (``queue_wait_1m``, minutes);
* :func:`save` — upserts ``facility_forecasts`` (the latest per facility), stores the JSON under
  :func:`forecast_key` and publishes it on :func:`forecast_channel` when it changed (the API's
  live feed pushes it to the ``/v1/live`` subscribers of that facility as a ``forecast`` frame);
* :func:`measured_accuracy` / :func:`measured_wait_accuracy` — the figures of the last benchmark
  shipped with the code (crowd, queue waits);
* :func:`stored_many` / :func:`stored_many_in_postgres` — the stored forecasts of many facilities
  in one Redis round trip / one query, for the directory's cards.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import redis.asyncio as aioredis
from psycopg import AsyncConnection

from paris_live.settings import Settings
from schemas.catalogue import Facility
from schemas.forecast import FacilityForecast, ForecastAccuracy
from streams.forecast import core
from streams.forecast.build import Grid, slot_index

__all__ = [
    "BENCH_RESULT",
    "facilities_with_history",
    "facilities_with_waits",
    "forecast_channel",
    "forecast_key",
    "load_observed",
    "load_waits",
    "measured_accuracy",
    "measured_wait_accuracy",
    "save",
    "stored_in_postgres",
    "stored_in_redis",
    "stored_many",
    "stored_many_in_postgres",
]

BENCH_RESULT = Path(__file__).resolve().parents[2] / "bench" / "results" / "forecast.json"
KEEP_S = 6 * 3600
"""Redis keeps a forecast 6 hours (the API flags it stale after 30 minutes)."""


def forecast_key(settings: Settings, facility_id: str) -> str:
    """The Redis string holding one facility's latest forecast JSON."""
    return settings.key("forecast", facility_id)


def forecast_channel(settings: Settings) -> str:
    """The pub/sub channel carrying every forecast that changed (the FacilityForecast JSON)."""
    return settings.key("forecast-changes")


@cache
def measured_accuracy() -> ForecastAccuracy | None:
    """The figures of the last ``python -m bench.forecast`` run (None when not shipped)."""
    try:
        result = orjson.loads(BENCH_RESULT.read_bytes())
        return ForecastAccuracy(
            mase_1h=result["mase_1h"],
            mae_1h_people=result.get("model_mae_1h_people"),
            coverage_pct=result["coverage_1h_pct"],
            backtest=f"{result['facilities']} simulated facilities, {result['weeks']}",
            measured_at=result["at"],
        )
    except (OSError, KeyError, ValueError):
        return None


@cache
def measured_wait_accuracy() -> ForecastAccuracy | None:
    """The queue-wait figures of the last ``python -m bench.forecast`` run (None: not shipped):
    those of the services that do queue — the desks that never queue have zero waits, easy to
    forecast, and would flatter the figure a town hall's visitor reads."""
    try:
        waits = orjson.loads(BENCH_RESULT.read_bytes())["waits"]
        return ForecastAccuracy(
            mase_1h=waits["queueing_mase_1h"],
            mae_1h_minutes=waits["queueing_model_mae_1h_minutes"],
            coverage_pct=waits["queueing_coverage_1h_pct"],
            backtest=(
                f"{waits['queueing_services']} simulated queue services that queue "
                f"({waits['queueing_services_rule']}), {waits['weeks']}"
            ),
            measured_at=waits["at"],
        )
    except (OSError, KeyError, ValueError, TypeError):
        return None


async def facilities_with_history(conn: AsyncConnection[Any], grid: Grid) -> set[str]:
    """Facilities with at least one minute of occupancy in the grid's history window."""
    cur = await conn.execute(
        "SELECT DISTINCT facility_id FROM occupancy_1m WHERE bucket >= %s", (grid.since(),)
    )
    return {row[0] for row in await cur.fetchall()}


async def load_observed(
    conn: AsyncConnection[Any], facility_ids: Sequence[str], grid: Grid
) -> core.FloatArray:
    """Mean people inside per 15-minute Paris slot, ``(F, grid.slots)``; NaN: no minute."""
    observed = np.full((len(facility_ids), grid.slots), np.nan)
    if not facility_ids:
        return observed
    row_of = {facility_id: i for i, facility_id in enumerate(facility_ids)}
    cur = await conn.execute(
        "SELECT facility_id, date_bin('15 minutes', bucket AT TIME ZONE 'Europe/Paris', "
        "timestamp '2000-01-01') AS slot, avg(count_avg) FROM occupancy_1m "
        "WHERE facility_id = ANY(%s) AND bucket >= %s AND bucket < %s "
        "GROUP BY facility_id, slot",
        (list(facility_ids), grid.since(), grid.now),
    )
    for facility_id, slot, avg in await cur.fetchall():
        index = slot_index(grid, slot)
        if avg is not None and 0 <= index < grid.slots:
            observed[row_of[facility_id], index] = float(avg)
    return observed


async def facilities_with_waits(conn: AsyncConnection[Any], grid: Grid) -> set[str]:
    """Facilities with at least one minute of a queue wait in the grid's history window."""
    cur = await conn.execute(
        "SELECT DISTINCT facility_id FROM queue_wait_1m WHERE bucket >= %s", (grid.since(),)
    )
    return {row[0] for row in await cur.fetchall()}


async def load_waits(
    conn: AsyncConnection[Any], rows: Sequence[tuple[Facility, str]], grid: Grid
) -> core.FloatArray:
    """Mean wait (minutes) per 15-minute Paris slot of each (facility, service) row,
    ``(S, grid.slots)``, weighted by the samples of each minute; NaN: no minute recorded."""
    observed = np.full((len(rows), grid.slots), np.nan)
    if not rows:
        return observed
    row_of = {(facility.id, service_id): i for i, (facility, service_id) in enumerate(rows)}
    cur = await conn.execute(
        "SELECT facility_id, service_id, date_bin('15 minutes', bucket AT TIME ZONE "
        "'Europe/Paris', timestamp '2000-01-01') AS slot, "
        "sum(wait_avg * samples) / nullif(sum(samples), 0) FROM queue_wait_1m "
        "WHERE facility_id = ANY(%s) AND bucket >= %s AND bucket < %s "
        "GROUP BY facility_id, service_id, slot",
        (sorted({facility.id for facility, _ in rows}), grid.since(), grid.now),
    )
    for facility_id, service_id, slot, wait in await cur.fetchall():
        row = row_of.get((facility_id, service_id))
        index = slot_index(grid, slot)
        if row is not None and wait is not None and 0 <= index < grid.slots:
            observed[row, index] = float(wait)
    return observed


async def stored_many(
    redis: aioredis.Redis, settings: Settings, facility_ids: Sequence[str]
) -> dict[str, FacilityForecast]:
    """The forecasts Redis holds for ``facility_ids``, in one ``MGET`` (absent: left out)."""
    if not facility_ids:
        return {}
    values = await redis.mget([forecast_key(settings, f) for f in facility_ids])
    return {
        facility_id: FacilityForecast.model_validate_json(raw)
        for facility_id, raw in zip(facility_ids, values, strict=True)
        if raw is not None
    }


async def stored_many_in_postgres(
    conn: AsyncConnection[Any], facility_ids: Sequence[str]
) -> dict[str, FacilityForecast]:
    """The forecasts ``facility_forecasts`` keeps for ``facility_ids``, in one query."""
    if not facility_ids:
        return {}
    cur = await conn.execute(
        "SELECT facility_id, body FROM facility_forecasts WHERE facility_id = ANY(%s)",
        (list(facility_ids),),
    )
    return {row[0]: FacilityForecast.model_validate(row[1]) for row in await cur.fetchall()}


async def stored_in_redis(
    redis: aioredis.Redis, settings: Settings, facility_id: str
) -> FacilityForecast | None:
    """The latest forecast as the job left it in Redis (None: none, or expired)."""
    raw = await redis.get(forecast_key(settings, facility_id))
    return None if raw is None else FacilityForecast.model_validate_json(raw)


async def stored_in_postgres(
    conn: AsyncConnection[Any], facility_id: str
) -> FacilityForecast | None:
    """The latest forecast kept in ``facility_forecasts`` (None: the job never stored one)."""
    cur = await conn.execute(
        "SELECT body FROM facility_forecasts WHERE facility_id = %s", (facility_id,)
    )
    row = await cur.fetchone()
    return None if row is None else FacilityForecast.model_validate(row[0])


async def save(
    conn: AsyncConnection[Any],
    redis: aioredis.Redis,
    settings: Settings,
    forecasts: Sequence[FacilityForecast],
) -> int:
    """Store every forecast (PostgreSQL, then Redis); publish those that changed. Returns how
    many were published."""
    bodies = [f.model_dump_json().encode() for f in forecasts]
    async with conn.transaction(), conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO facility_forecasts (facility_id, generated_at, reason, body) "
            "VALUES (%s, %s, %s, %s::jsonb) ON CONFLICT (facility_id) DO UPDATE SET "
            "generated_at = EXCLUDED.generated_at, reason = EXCLUDED.reason, "
            "body = EXCLUDED.body WHERE facility_forecasts.generated_at <= EXCLUDED.generated_at",
            [
                (f.facility_id, f.generated_at, f.reason, body.decode())
                for f, body in zip(forecasts, bodies, strict=True)
            ],
        )
    keys = [forecast_key(settings, f.facility_id) for f in forecasts]
    previous = await redis.mget(keys) if keys else []
    published = 0
    channel = forecast_channel(settings)
    async with redis.pipeline(transaction=False) as pipe:
        for forecast, key, body, before in zip(forecasts, keys, bodies, previous, strict=True):
            pipe.set(key, body, ex=KEEP_S)
            old = FacilityForecast.model_validate_json(before) if before else None
            if forecast.changed_from(old):
                pipe.publish(channel, body)
                published += 1
        await pipe.execute()
    return published
