"""The forecasting job: every 15 minutes, the next 4 hours of every facility with occupancy.

One round (:meth:`ForecastJob.run_once`): the facilities of the catalogue with occupancy or
queue-wait history in the last 35 days, their 15-minute history and today so far from PostgreSQL
(one query for the crowd, one for the waits of every queue service), their
live status from Redis (declared closures), one vectorised fit + forecast
(:func:`streams.forecast.build.build_forecasts`, :func:`streams.forecast.waits.build_wait_forecasts`), then the forecasts stored in PostgreSQL and Redis
and published when they changed (:func:`streams.forecast.store.save`). A facility with too little
history is stored with its reason, so the API explains it instead of guessing.

:meth:`ForecastJob.run` repeats the round on each quarter hour until ``stop`` is set; a failed round
(PostgreSQL or Redis away) is logged and retried at the next quarter hour, never a crash. Run it
with ``paris-live forecast run`` (``up`` and docker-compose do).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
import structlog
from redis.exceptions import RedisError

from paris_live.db import connect
from paris_live.live import facility_key
from paris_live.redis_client import redis_client
from paris_live.settings import Settings
from schemas.catalogue import Catalogue, load_catalogue
from streams.forecast.build import build_forecasts, grid_for
from streams.forecast.store import (
    facilities_with_history,
    facilities_with_waits,
    load_observed,
    load_waits,
    measured_accuracy,
    measured_wait_accuracy,
    save,
)
from streams.forecast.waits import build_wait_forecasts, queue_services

__all__ = ["ForecastJob", "RoundStats"]

log = structlog.get_logger(__name__)
INTERVAL_S = 15 * 60


@dataclass(frozen=True, slots=True)
class RoundStats:
    """What one round did (logs and tests)."""

    at: datetime
    facilities: int
    forecast: int
    without_history: int
    published: int
    seconds: float
    waits: int = 0
    """Queue services given a wait forecast."""


class ForecastJob:
    """Forecasts every facility with occupancy or queue-wait history, every :data:`INTERVAL_S` seconds."""

    def __init__(
        self,
        settings: Settings,
        *,
        catalogue: Catalogue | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        interval_s: float = INTERVAL_S,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or load_catalogue()
        self.clock = clock
        self.interval_s = interval_s

    async def run_once(self) -> RoundStats:
        """One forecasting round (see module doc)."""
        started = time.perf_counter()
        grid = grid_for(self.clock())
        redis = redis_client(self.settings)
        try:
            async with await connect(self.settings) as conn:
                known = await facilities_with_history(conn, grid)
                queued = await facilities_with_waits(conn, grid)
                facilities = [f for f in self.catalogue if f.id in known or f.id in queued]
                ids = [f.id for f in facilities]
                observed = await load_observed(conn, ids, grid)
                services = queue_services(facilities)
                waited = await load_waits(conn, services, grid)
                await conn.commit()
                statuses: dict[str, bytes] = {}
                if ids:
                    async with redis.pipeline(transaction=False) as pipe:
                        for facility_id in ids:
                            pipe.hget(facility_key(self.settings, facility_id), "json")
                        values = await pipe.execute()
                    statuses = {f: v for f, v in zip(ids, values, strict=True) if v}
                waits = build_wait_forecasts(
                    services, waited, statuses, grid, measured_wait_accuracy()
                )
                forecasts = build_forecasts(
                    facilities,
                    observed,
                    statuses,
                    grid,
                    measured_accuracy(),
                    waits=waits,
                    with_occupancy=known,
                )
                published = await save(conn, redis, self.settings, forecasts)
        finally:
            await redis.aclose()
        stats = RoundStats(
            at=grid.now,
            facilities=len(forecasts),
            forecast=sum(1 for f in forecasts if f.forecast),
            without_history=sum(1 for f in forecasts if f.reason == "insufficient_history"),
            published=published,
            seconds=round(time.perf_counter() - started, 2),
            waits=sum(1 for f in forecasts for q in f.queues if q.forecast),
        )
        log.info("forecast round", **{k: getattr(stats, k) for k in RoundStats.__slots__})
        return stats

    async def run(self, stop: asyncio.Event) -> None:
        """Run a round now, then on every quarter hour, until ``stop`` is set."""
        while not stop.is_set():
            try:
                await self.run_once()
            except (psycopg.Error, RedisError, OSError) as exc:
                log.warning("forecast round failed, retried next quarter hour", error=str(exc))
            wait = self.interval_s - time.time() % self.interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=wait)
