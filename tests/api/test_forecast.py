"""``GET /v1/facilities/{id}/forecast``: the next 4 hours from the history store, or why not."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import httpx
import numpy as np
import orjson
import pytest

from api.routes.forecast import closure_windows
from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import SLOTS_PER_DAY, occupancy_history
from schemas.clock import PARIS
from tests.api.api_testkit import facilities_of

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
