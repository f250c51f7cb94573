"""The wait forecast of each queue service through the API: the route, the ``forecast`` frame on
``/v1/live``, the reason of a service without history, and the directory's batch read."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect as ws_connect

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import write_history, write_queue_history
from producers.queue_history import queue_history
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.holidays import is_public_holiday
from streams.forecast.job import ForecastJob
from tests.api.api_testkit import InProcessServer, facilities_of, recv, subscribe

pytestmark = pytest.mark.integration


def _weekday_morning() -> datetime:
    """10:00 (Paris) of the latest working day up to today: town halls are open until 17:00."""
    day = datetime.now(UTC).astimezone(PARIS).date()
    while day.weekday() >= 5 or is_public_holiday(day):
        day -= timedelta(days=1)
    return datetime.combine(day, time(10, 0), tzinfo=PARIS)


async def _seed(settings: Settings, town_hall: Facility, at: datetime, days: int = 21) -> None:
    """``days`` days of crowd and queue history up to ``at``, as ``simulate --history`` writes
    them — except the elections desk, whose ticket machine never reported."""
    first = at.date() - timedelta(days=days)
    await write_history(settings, occupancy_history([town_hall], first, days + 1, seed=2), at)
    await write_queue_history(settings, queue_history([town_hall], first, days + 1, seed=2), at)
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            "DELETE FROM queue_wait_1m WHERE facility_id = %s AND service_id = 'elections'",
            (town_hall.id,),
        )


async def test_the_route_and_the_live_frame_carry_each_service_wait(
    api_server: InProcessServer, http: httpx.AsyncClient, db: Settings
) -> None:
    """One job round: the route answers 16 steps of wait per service with history, in minutes
    and ordered, labelled estimated with the waits' measured accuracy; the service without
    history says why in French and English (200, not an error); a subscriber of the town hall
    hears the same queues in its ``forecast`` frame."""
    town_hall = facilities_of("town_hall", 1)[0]
    at = _weekday_morning()
    await _seed(db, town_hall, at)
    async with ws_connect(api_server.ws) as ws:
        await subscribe(ws, facilities=[town_hall.id])
        stats = await ForecastJob(db, clock=lambda: at).run_once()
        frame = await recv(ws, within=10.0)
        while frame["op"] != "forecast":
            frame = await recv(ws, within=10.0)
    assert stats.waits == 2
    answer = await http.get(f"/v1/facilities/{town_hall.id}/forecast")
    assert answer.status_code == 200
    body = answer.json()
    assert body["estimated"] is True
    by_id = {q["service_id"]: q for q in body["queues"]}
    assert list(by_id) == ["reception", "civil-status", "elections"]
    for service_id in ("reception", "civil-status"):
        service = by_id[service_id]
        assert service["reason"] is None and service["history_days"] >= 14
        assert service["name"]["fr"] and service["name"]["en"]
        assert len(service["forecast"]) == 16
        for step in service["forecast"]:
            assert step["open"] is True  # 10:15 → 14:00, inside 8:30–17:00
            assert 0 <= step["p10"] <= step["p50"] <= step["p90"]
        accuracy = service["accuracy"]
        assert accuracy["mae_1h_minutes"] > 0 and 0 < accuracy["coverage_pct"] < 100
    elections = by_id["elections"]
    assert elections["forecast"] == [] and elections["reason"] == "insufficient_history"
    assert elections["history_days"] == 0
    assert elections["message"]["fr"].startswith("Pas encore assez d'historique")
    assert elections["message"]["en"].startswith("Not enough history yet")
    pushed = {q["service_id"]: q for q in frame["forecast"]["queues"]}
    assert pushed["civil-status"]["forecast"] == by_id["civil-status"]["forecast"]
    assert pushed["elections"]["reason"] == "insufficient_history"


async def test_a_town_hall_never_forecast_is_computed_on_request_with_its_waits(
    http: httpx.AsyncClient, db: Settings
) -> None:
    """No job round yet: the route computes the forecast on request, queues included; a town
    hall with no history at all gets every service's reason, never a 5xx."""
    young, fresh = facilities_of("town_hall", 3)[1:3]
    await _seed(db, young, datetime.now(UTC), days=16)
    body = (await http.get(f"/v1/facilities/{young.id}/forecast")).json()
    assert {q["service_id"]: q["reason"] for q in body["queues"]}.get("civil-status") is None
    answer = await http.get(f"/v1/facilities/{fresh.id}/forecast")
    assert answer.status_code == 200
    queues = answer.json()["queues"]
    assert queues and all(q["reason"] == "insufficient_history" for q in queues)
    assert all(q["forecast"] == [] and q["message"]["en"] for q in queues)


async def test_many_stored_forecasts_in_one_read(http: httpx.AsyncClient, db: Settings) -> None:
    """``GET /v1/forecasts``: the stored forecasts of the facilities asked, in the order asked,
    those never forecast left out; more than 100 ids is a 4xx in the error shape."""
    town_hall, other = facilities_of("town_hall", 2)
    at = _weekday_morning()
    await _seed(db, town_hall, at)
    await ForecastJob(db, clock=lambda: at).run_once()
    answer = await http.get(
        "/v1/forecasts", params=[("facility", "nowhere"), ("facility", town_hall.id)]
    )
    assert answer.status_code == 200
    body = answer.json()
    assert [f["facility_id"] for f in body["items"]] == [town_hall.id] and body["next"] is None
    assert len(body["items"][0]["forecast"]) == 16
    too_many = [("facility", f"{other.id}-{n}") for n in range(101)]
    refused = await http.get("/v1/forecasts", params=too_many)
    assert refused.status_code in {400, 422} and "error" in refused.json()
