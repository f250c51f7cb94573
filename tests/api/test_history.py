"""REST history, typical affluence and closures.ics, on a real PostgreSQL schema."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import icalendar
import orjson
import pytest

from paris_live.db import connect
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import facilities_of

pytestmark = pytest.mark.integration


async def _insert_minutes(
    settings: Settings, facility_id: str, start: datetime, minutes: int
) -> None:
    async with await connect(settings, autocommit=True) as conn:
        for i in range(minutes):
            await conn.execute(
                "INSERT INTO occupancy_1m (facility_id, bucket, count_avg, count_min, count_max, "
                "count_last, capacity, passages_in, passages_out, samples) "
                "VALUES (%s, %s, %s, %s, %s, %s, 100, 1, 0, 2)",
                (facility_id, start + timedelta(minutes=i), float(i), i, i, i),
            )
        await conn.execute(
            "SELECT refresh_rollups(%s, %s)", (start, start + timedelta(minutes=minutes))
        )


async def test_history_steps(http: httpx.AsyncClient, db: Settings) -> None:
    """1m, 15m, 1h and 1d buckets are aggregated from the minutes, labelled in Paris time."""
    pool = facilities_of("pool", 1)[0]
    start = datetime(2025, 3, 10, 8, 0, tzinfo=UTC)  # 09:00 in Paris
    await _insert_minutes(db, pool.id, start, 120)
    params = {"from": start.isoformat(), "to": (start + timedelta(hours=2)).isoformat()}
    minute = (
        await http.get(f"/v1/facilities/{pool.id}/history", params={**params, "step": "1m"})
    ).json()
    assert len(minute["items"]) == 120 and minute["items"][0]["at"] == "2025-03-10T09:00:00+01:00"
    quarter = (
        await http.get(f"/v1/facilities/{pool.id}/history", params={**params, "step": "15m"})
    ).json()
    assert len(quarter["items"]) == 8
    assert quarter["items"][0]["count_avg"] == 7.0 and quarter["items"][0]["count_max"] == 14
    hour = (
        await http.get(f"/v1/facilities/{pool.id}/history", params={**params, "step": "1h"})
    ).json()
    assert [b["count_last"] for b in hour["items"]] == [59, 119]
    assert hour["items"][1]["ratio"] == pytest.approx(0.895)
    day = (
        await http.get(f"/v1/facilities/{pool.id}/history", params={**params, "step": "1d"})
    ).json()
    assert [b["at"] for b in day["items"]] == ["2025-03-10T00:00:00+01:00"]
    assert day["items"][0]["samples"] == 240 and day["next"] is None


async def test_history_status_changes_and_pagination(http: httpx.AsyncClient, db: Settings) -> None:
    """Status changes in the window are listed; a long range is paged with next."""
    pool = facilities_of("pool", 1)[0]
    at = datetime(2025, 7, 1, 12, 0, tzinfo=UTC)
    async with await connect(db, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO status_changes VALUES (%s, 7, %s, 'open', 10, 0.1, false, '{}')",
            (pool.id, at),
        )
    params = {
        "from": (at - timedelta(hours=1)).isoformat(),
        "to": (at + timedelta(hours=1)).isoformat(),
    }
    body = (await http.get(f"/v1/facilities/{pool.id}/history", params=params)).json()
    assert body["status_changes"] == [
        {
            "at": "2025-07-01T14:00:00+02:00",
            "seq": 7,
            "open_state": "open",
            "occupancy_count": 10,
            "occupancy_ratio": 0.1,
            "stale": False,
        }
    ]
    long = {"from": "2025-01-01T00:00:00+01:00", "to": "2025-01-10T00:00:00+01:00", "step": "1m"}
    first = (await http.get(f"/v1/facilities/{pool.id}/history", params=long)).json()
    assert first["next"] is not None and first["to"] == "2025-01-02T01:00:00+01:00"
    second = (
        await http.get(
            f"/v1/facilities/{pool.id}/history", params={**long, "cursor": first["next"]}
        )
    ).json()
    assert second["from"] == first["to"]


async def test_history_refuses_naive_and_reversed_ranges(http: httpx.AsyncClient) -> None:
    """A datetime without offset or from after to answers 422 in the error shape."""
    pool = facilities_of("pool", 1)[0]
    naive = await http.get(
        f"/v1/facilities/{pool.id}/history", params={"from": "2025-01-01T00:00:00"}
    )
    assert naive.status_code == 422 and naive.json()["error"]["code"] == "invalid_parameter"
    reverse = await http.get(
        f"/v1/facilities/{pool.id}/history",
        params={"from": "2025-01-02T00:00:00Z", "to": "2025-01-01T00:00:00Z"},
    )
    assert reverse.status_code == 422 and reverse.json()["error"]["code"] == "invalid_range"
    missing = await http.get("/v1/facilities/xyz/history")
    assert missing.status_code == 404


async def test_history_refuses_dates_outside_2000_to_2100(http: httpx.AsyncClient) -> None:
    """``from``, ``to`` or a cursor in year 149 (Paris then at +00:09:21, no RFC 3339 offset) or
    in 2101 answer 422 ``invalid_range``/``invalid_cursor`` in the error shape; the bounds
    themselves are accepted."""
    pool = facilities_of("pool", 1)[0]
    url = f"/v1/facilities/{pool.id}/history"
    for params in [
        {"from": "0149-03-01T00:00:00+05:17", "to": "2025-01-01T00:00:00Z"},
        {"to": "0149-03-02T00:00:00-03:00"},
        {"from": "2025-01-01T00:00:00Z", "to": "2101-01-01T00:00:00Z"},
    ]:
        refused = await http.get(url, params=params)
        assert refused.status_code == 422, (params, refused.text)
        assert refused.json()["error"]["code"] == "invalid_range"
        assert "2000" in refused.json()["error"]["message"]
    old_cursor = base64.urlsafe_b64encode(b"0149-03-01T00:00:00+00:00").decode().rstrip("=")
    cursor = await http.get(url, params={"cursor": old_cursor, "to": "2025-01-01T00:00:00Z"})
    assert cursor.status_code == 422 and cursor.json()["error"]["code"] == "invalid_cursor"
    edges = await http.get(
        url, params={"from": "2000-01-01T00:00:00+01:00", "to": "2000-01-02T00:00:00+01:00"}
    )
    assert edges.status_code == 200, edges.text
    assert edges.json()["from"] == "2000-01-01T00:00:00+01:00"


async def test_typical_is_in_paris_time(http: httpx.AsyncClient, db: Settings) -> None:
    """Typical affluence groups hours by Paris weekday and hour, whatever the UTC offset of the
    day (buckets 3 weeks apart, so summer and winter time mix around the changes)."""
    pool = facilities_of("pool", 1)[0]
    now = datetime.now(PARIS)
    monday = (now - timedelta(days=now.weekday() + 7)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    async with await connect(db, autocommit=True) as conn:
        for week in range(3):
            day = (monday - timedelta(weeks=3 * week)).date()
            bucket = datetime(day.year, day.month, day.day, 10, tzinfo=PARIS)  # 10:00 Paris
            await conn.execute(
                "INSERT INTO occupancy_1h (facility_id, bucket, count_avg, capacity, samples) "
                "VALUES (%s, %s, %s, 100, 60)",
                (pool.id, bucket, 40.0 + week * 10),
            )
    body = (await http.get(f"/v1/facilities/{pool.id}/typical", params={"weeks": 8})).json()
    assert len(body["items"]) == 7 * 24
    cell = next(c for c in body["items"] if c["weekday"] == 1 and c["hour"] == 10)
    assert cell["count_avg"] == 50.0 and cell["samples"] == 3 and cell["level"] == "moderate"
    assert all(c["samples"] == 0 for c in body["items"] if (c["weekday"], c["hour"]) != (1, 10))


async def _put_closure(
    settings: Settings, facility_id: str, sequence: int, ended: datetime | None
) -> None:
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO closures VALUES ('clo-1', %s, %s, 'works', %s, %s, %s, %s, 'agent-7', %s, %s, %s) "
            "ON CONFLICT (closure_id) DO UPDATE SET ended_at = EXCLUDED.ended_at, "
            "updated_at = EXCLUDED.updated_at, sequence = EXCLUDED.sequence, "
            "expected_reopening_at = EXCLUDED.expected_reopening_at",
            (
                facility_id,
                orjson.dumps({"kind": "facility"}).decode(),
                orjson.dumps({"fr": "Travaux de peinture.", "en": "Painting works."}).decode(),
                datetime(2025, 6, 1, 8, tzinfo=UTC),
                datetime(2025, 6, 3 + sequence, 8, tzinfo=UTC),
                ended,
                datetime(2025, 5, 30, tzinfo=UTC),
                datetime(2025, 5, 30, tzinfo=UTC) + timedelta(hours=sequence),
                sequence,
            ),
        )


def _events(body: bytes) -> list[Any]:
    return list(icalendar.Calendar.from_ical(body).walk("VEVENT"))


async def test_closures_ics(http: httpx.AsyncClient, db: Settings) -> None:
    """The closure keeps its UID across updates, SEQUENCE increases, CANCELLED once ended."""
    pool = facilities_of("pool", 1)[0]
    url = f"/v1/facilities/{pool.id}/closures.ics"
    await _put_closure(db, pool.id, 0, None)
    first = await http.get(url)
    assert first.headers["content-type"].startswith("text/calendar")
    [event] = _events(first.content)
    uid = str(event["UID"])
    assert int(event["SEQUENCE"]) == 0 and str(event["STATUS"]) == "CONFIRMED"
    assert "Travaux de peinture." in str(event["DESCRIPTION"])
    await _put_closure(db, pool.id, 1, None)
    [updated] = _events((await http.get(url)).content)
    assert str(updated["UID"]) == uid and int(updated["SEQUENCE"]) == 1
    await _put_closure(db, pool.id, 2, datetime.now(UTC) - timedelta(days=1))
    [ended] = _events((await http.get(url)).content)
    assert str(ended["UID"]) == uid and int(ended["SEQUENCE"]) > 1
    assert str(ended["STATUS"]) == "CANCELLED"
