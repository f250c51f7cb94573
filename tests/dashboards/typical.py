"""Hourly occupancy history for the "meilleur moment pour venir" chart (``occupancy_1h``)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from paris_live.db import search_path
from paris_live.settings import Settings
from producers.patterns import target_ratio
from schemas.clock import PARIS


async def fill_typical(
    conn: Any, settings: Settings, facility_id: str, *, capacity: int, weeks: int = 3
) -> int:
    """Hourly buckets of the last weeks following the simulator's affluence curve for pools."""
    await conn.execute(search_path(settings.db_schema))
    now = dt.datetime.now(PARIS).replace(minute=0, second=0, microsecond=0)
    rows = []
    for hours_back in range(1, weeks * 7 * 24):
        at = now - dt.timedelta(hours=hours_back)
        count = round(target_ratio("pool", at) * capacity)
        if count:
            rows.append((facility_id, at, count, count, count, count, capacity, 60))
    async with conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO occupancy_1h (facility_id, bucket, count_avg, count_min, count_max, "
            "count_last, capacity, samples) VALUES (%s, %s, %s, %s, %s, %s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            rows,
        )
    return len(rows)
