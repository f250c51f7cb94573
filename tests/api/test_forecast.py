"""``GET /v1/facilities/{id}/forecast``: the next 4 hours from the history store, or why not."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
import pytest
import redis.asyncio as aioredis
from websockets.asyncio.client import connect as ws_connect

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import SLOTS_PER_DAY, occupancy_history
from producers.history_store import write_history
from schemas.catalogue import Facility
from schemas.clock import PARIS
from streams.forecast.build import closure_windows
from streams.forecast.job import ForecastJob
from streams.forecast.store import forecast_key
from tests.api.api_testkit import InProcessServer, facilities_of, recv, subscribe

pytestmark = pytest.mark.integration


async def test_a_facility_without_history_gets_no_forecast_and_the_reason(
    http: httpx.AsyncClient,
) -> None:
    pool = facilities_of("pool", 3)[2]
    answer = await http.get(f"/v1/facilities/{pool.id}/forecast")
    assert answer.status_code == 200
    body = answer.json()
    assert body["forecast"] == [] and body["reason"] == "insufficient_history"
    assert body["history_days"] == 0 and body["estimated"] is True
    assert body["message"]["fr"].startswith("Pas encore assez d'historique")
    assert body["message"]["en"].startswith("Not enough history yet")


async def test_three_weeks_of_history_give_four_hours_of_bands(
    http: httpx.AsyncClient, db: Settings
) -> None:
    """Simulated history written as 1-minute rollups (one per 15 minutes): 16 steps, ordered
    bands when open, no figure while closed."""
    pool = facilities_of("pool", 2)[1]
    today = datetime.now(UTC).astimezone(PARIS).date()
    first = today - timedelta(days=21)
    history = occupancy_history([pool], first, 22, seed=3)
    now = datetime.now(UTC)
    rows = []
    for index in range(history.slots):
        value = history.observed[0, index]
        day = first + timedelta(days=index // SLOTS_PER_DAY)
        minute = index % SLOTS_PER_DAY * 15
        at = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=PARIS)
        if at < now and not np.isnan(value):
            count = round(float(value))
            rows.append((pool.id, at, float(count), count, count, count, pool.capacity))
    async with await connect(db, autocommit=True) as conn, conn.cursor() as cur:
        await cur.executemany(
            "INSERT INTO occupancy_1m (facility_id, bucket, count_avg, count_min, count_max, "
            "count_last, capacity, passages_in, passages_out, samples) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, 0, 0, 1)",
            rows,
        )
    body = (await http.get(f"/v1/facilities/{pool.id}/forecast")).json()
    assert body["reason"] is None and body["history_days"] >= 14
    assert 0 < body["accuracy"]["mase_1h"] < 1 and 0 < body["accuracy"]["coverage_pct"] < 100
    steps = body["forecast"]
    assert len(steps) == 16
    for step in steps:
        if not step["open"]:
            assert step["p10"] is step["p50"] is step["p90"] is step["level"] is None
        elif step["p50"] is not None:
            assert 0 <= step["p10"] <= step["p50"] <= step["p90"] <= pool.capacity
            assert step["level"] in {"low", "moderate", "high", "full"}
    starts = [datetime.fromisoformat(s["at"]) for s in steps]
    assert all(b - a == timedelta(minutes=15) for a, b in itertools.pairwise(starts))


def test_declared_closures_close_their_own_window_only() -> None:
    """An announced closure closes from its start; an overdue or open-ended one stays closed;
    an area closure does not close the facility."""
    now = datetime(2026, 6, 2, 10, 0, tzinfo=PARIS)
    later = now + timedelta(hours=2)

    def closure(kind: str, starts: datetime, ends: datetime | None, overdue: bool = False) -> dict:
        return {
            "scope": {"kind": kind},
            "starts_at": starts.isoformat(),
            "expected_reopening_at": ends.isoformat() if ends else None,
            "overdue": overdue,
        }

    raw = orjson.dumps(
        {
            "closures": [
                closure("facility", later, later + timedelta(hours=1)),
                closure("facility", now - timedelta(hours=3), now - timedelta(hours=1), True),
                closure("area", now, later),
            ]
        }
    )
    windows = closure_windows(raw, now)
    assert windows[0] == (later, later + timedelta(hours=1))
    assert windows[1][0] < now and windows[1][1] > now + timedelta(hours=4)
    assert len(windows) == 2
    assert closure_windows(None, now) == []


async def _seed(settings: Settings, facility: Facility, days: int, now: datetime) -> int:
    """``days`` days of simulated history up to ``now``, written as ``simulate --history`` does."""
    today = now.astimezone(PARIS).date()
    history = occupancy_history([facility], today - timedelta(days=days), days + 1, seed=5)
    return await write_history(settings, history, now)


async def test_one_job_round_is_stored_served_and_pushed_on_the_live_socket(
    api_server: InProcessServer,
    http: httpx.AsyncClient,
    db: Settings,
    redis_client: aioredis.Redis,
) -> None:
    """The forecasting job reads the history store, stores each forecast in PostgreSQL and Redis,
    the route serves it with its generated_at, and a subscriber hears a ``forecast`` frame."""
    pool, young = facilities_of("pool", 4)[2:4]
    now = datetime.now(UTC)
    assert await _seed(db, pool, 21, now) > 0
    assert await _seed(db, young, 7, now) > 0
    async with ws_connect(api_server.ws) as ws:
        await subscribe(ws, facilities=[pool.id, young.id])
        stats = await ForecastJob(db, clock=lambda: now).run_once()
        pushed = {}
        while len(pushed) < 2:
            frame = await recv(ws, within=10.0)
            if frame["op"] == "forecast":
                pushed[frame["forecast"]["facility_id"]] = frame["forecast"]
    assert stats.forecast == 1 and stats.without_history == 1 and stats.published == 2
    async with await connect(db) as conn:
        cur = await conn.execute("SELECT facility_id, reason FROM facility_forecasts ORDER BY 1")
        stored = dict(await cur.fetchall())
    assert stored == {pool.id: None, young.id: "insufficient_history"}
    assert await redis_client.get(forecast_key(db, pool.id)) is not None
    body = (await http.get(f"/v1/facilities/{pool.id}/forecast")).json()
    assert datetime.fromisoformat(body["generated_at"]) == now
    assert body["stale"] is False and body["reason"] is None and len(body["forecast"]) == 16
    assert pushed[pool.id]["forecast"] == body["forecast"]
    assert pushed[young.id]["reason"] == "insufficient_history"
    assert body["accuracy"]["mase_1h"] < 1


async def test_a_second_round_without_change_pushes_nothing(db: Settings) -> None:
    """The same inputs give the same forecast: stored again, not published again."""
    pool = facilities_of("pool", 5)[4]
    now = datetime.now(UTC)
    await _seed(db, pool, 16, now)
    job = ForecastJob(db, clock=lambda: now)
    assert (await job.run_once()).published == 1
    assert (await job.run_once()).published == 0


async def test_a_facility_with_a_week_of_history_is_told_why_it_has_no_forecast(
    http: httpx.AsyncClient, db: Settings
) -> None:
    """Less than 14 days: no forecast, the reason and its message in French and English (200)."""
    pool = facilities_of("pool", 4)[3]
    now = datetime.now(UTC)
    await _seed(db, pool, 7, now)
    await ForecastJob(db, clock=lambda: now).run_once()
    answer = await http.get(f"/v1/facilities/{pool.id}/forecast")
    assert answer.status_code == 200
    body = answer.json()
    assert body["forecast"] == [] and body["best_time"] is None
    assert body["reason"] == "insufficient_history" and 1 <= body["history_days"] < 14
    assert body["message"]["fr"].startswith("Pas encore assez d'historique")
    assert body["message"]["en"].startswith("Not enough history yet")


async def test_a_forecast_older_than_30_minutes_is_flagged_stale(
    http: httpx.AsyncClient, db: Settings
) -> None:
    """A round run (by its clock) 45 minutes ago is served ``stale``; a fresh round is not."""
    pool = facilities_of("pool", 3)[2]
    now = datetime.now(UTC)
    await _seed(db, pool, 16, now)
    await ForecastJob(db, clock=lambda: now - timedelta(minutes=45)).run_once()
    body = (await http.get(f"/v1/facilities/{pool.id}/forecast")).json()
    assert body["stale"] is True
    await ForecastJob(db, clock=lambda: now).run_once()
    body = (await http.get(f"/v1/facilities/{pool.id}/forecast")).json()
    assert body["stale"] is False
