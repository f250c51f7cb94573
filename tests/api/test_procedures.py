"""``/v1/procedures``: the démarches, searched in everyday words, with live figures and délais."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.db import connect
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import make_status, put_status

pytestmark = pytest.mark.integration


def _town_halls() -> list[str]:
    return [f.id for f in load_catalogue().by_type("town_hall")]


async def _insert_case(
    settings: Settings, facility_id: str, procedure_id: str, opened: datetime, days: float
) -> None:
    case_id = uuid.uuid4().hex
    async with await connect(settings, autocommit=True) as conn:
        for kind, at in (("opened", opened), ("closed", opened + timedelta(days=days))):
            await conn.execute(
                "INSERT INTO events (event_id, time, facility_id, type, source, topic, "
                "kafka_partition, kafka_offset, data) VALUES (%s, %s, %s, %s, %s, %s, 0, 0, %s)",
                (
                    uuid.uuid4().hex,
                    at,
                    facility_id,
                    f"fr.paris.facilities.case.{kind}",
                    f"/cases/{facility_id}",
                    "facility-cases",
                    orjson.dumps({"procedure_id": procedure_id, "case_id": case_id}).decode(),
                ),
            )


async def test_all_procedures_are_listed_in_one_page(http: httpx.AsyncClient) -> None:
    """Without a search, the sixteen démarches, each with its délais and where it is served."""
    response = await http.get("/v1/procedures")
    assert response.status_code == 200
    body = response.json()
    assert body["next"] is None and body["not_covered"] == []
    assert len(body["items"]) == 16
    identity = next(i for i in body["items"] if i["procedure_id"] == "identity-document")
    assert identity["facility_count"] == len(_town_halls())
    assert identity["total_delay"]["days"] > 0
    assert identity["page"] == "/demarches/identity-document"
    again = await http.get("/v1/procedures", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304


async def test_a_passport_is_found_by_everyday_words(http: httpx.AsyncClient) -> None:
    """« passeport », « CNI » and a typo all lead to the identity-document démarche first."""
    for q in ("passeport", "CNI", "pasport", "carte d'identité", "Passeport perdu"):
        items = (await http.get("/v1/procedures", params={"q": q})).json()["items"]
        assert items and items[0]["procedure_id"] == "identity-document", q


async def test_creche_is_answered_as_not_covered_yet(http: httpx.AsyncClient) -> None:
    """A search for a crèche finds no démarche but says where the City covers it."""
    body = (await http.get("/v1/procedures", params={"q": "crèche"})).json()
    assert body["items"] == []
    [topic] = body["not_covered"]
    assert topic["topic_id"] == "creche"
    assert topic["url"].startswith("https://www.paris.fr/")


@pytest.mark.parametrize("q", ["", "   ", "x" * 500, "é" * 500, "%00", "le la les"])
async def test_odd_queries_get_an_answer(http: httpx.AsyncClient, q: str) -> None:
    """Empty, blank, 500-character and odd queries are answered 200, never 5xx."""
    response = await http.get("/v1/procedures", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list)


async def test_a_too_long_query_is_refused_in_the_error_shape(http: httpx.AsyncClient) -> None:
    """A query past 1,000 characters is a 422 in the one error shape."""
    response = await http.get("/v1/procedures", params={"q": "a" * 1001})
    assert response.status_code == 422
    assert set(response.json()["error"]) == {"code", "message"}


async def test_unknown_procedure_is_a_404_in_the_error_shape(http: httpx.AsyncClient) -> None:
    """An unknown id answers 404 ``unknown_procedure``, in both languages."""
    response = await http.get("/v1/procedures/passeport-lunaire")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "unknown_procedure"
    assert "passeport-lunaire" in error["message"] and "Unknown procedure" in error["message"]


async def test_detail_shows_live_figures_and_the_soonest_appointment(
    http: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Each town hall serving identity documents shows its live state, its queue for the
    identity desk and its next slot; the soonest slot across them is named."""
    halls = load_catalogue().by_type("town_hall")
    now = datetime.now(UTC)
    later, sooner = halls[0], halls[1]
    slots = {later.id: now + timedelta(days=9), sooner.id: now + timedelta(days=2)}
    for seq, hall in enumerate((later, sooner), start=1):
        raw = make_status(
            hall,
            seq,
            open_state="open",
            queues=[
                {
                    "service_id": "identity-documents",
                    "length": 6,
                    "wait_minutes": 25.0,
                    "measured_at": now.isoformat(),
                },
                {
                    "service_id": "civil-status",
                    "length": 1,
                    "wait_minutes": 2.0,
                    "measured_at": now.isoformat(),
                },
            ],
            processing=[
                {
                    "procedure_id": "identity-card",
                    "median_days": 20.0,
                    "p90_days": 31.0,
                    "committed_days": 30.0,
                },
                {
                    "procedure_id": "marriage-file",
                    "median_days": 5.0,
                    "p90_days": 9.0,
                    "committed_days": None,
                },
            ],
            appointments=[
                {
                    "service_id": "identity-documents",
                    "next_available_at": slots[hall.id].isoformat(),
                    "delay_days": 2.0,
                },
            ],
        )
        await put_status(redis_client, settings, raw)
    body = (await http.get("/v1/procedures/identity-document")).json()
    assert [s["step_id"] for s in body["steps"]] == ["pre-application", "filing", "collection"]
    assert {c["need"] for c in body["competent_services"]} >= {"complaint", "information"}
    facilities = {f["facility_id"]: f for f in body["facilities"]}
    assert set(facilities) == set(_town_halls())
    assert body["facilities"][0]["facility_id"] == sooner.id
    assert facilities[sooner.id]["open_state"] == "open" and facilities[sooner.id]["live"]
    assert facilities[sooner.id]["queue"]["service_id"] == "identity-documents"
    assert facilities[sooner.id]["queue"]["wait_minutes"] == 25.0
    assert [p["procedure_id"] for p in facilities[sooner.id]["processing"]] == ["identity-card"]
    assert facilities[halls[2].id]["live"] is False
    assert facilities[halls[2].id]["next_appointment"] is None
    soonest: dict[str, Any] = body["soonest_appointment"]
    assert soonest["facility_id"] == sooner.id and soonest["name"] == sooner.name
    assert datetime.fromisoformat(soonest["next_available_at"]) == slots[sooner.id]


async def test_measured_delays_come_from_closed_cases(
    http: httpx.AsyncClient, db: Settings
) -> None:
    """Cases closed within 90 days give the median and p90; older ones do not count."""
    hall = _town_halls()[0]
    now = datetime.now(UTC)
    for days in (10, 12, 14, 20, 30):
        await _insert_case(db, hall, "identity-card", now - timedelta(days=40), days)
    await _insert_case(db, hall, "identity-card", now - timedelta(days=200), 90)
    measured = (await http.get("/v1/procedures/identity-document")).json()["total_delay"][
        "measured"
    ]
    assert measured == {
        "median_days": 14.0,
        "p90_days": 30.0,
        "cases": 5,
        "window_days": 90,
        "reason": None,
    }


async def test_no_measured_delay_is_invented(http: httpx.AsyncClient) -> None:
    """Without closed cases the measured délai is null with the reason, never a guess."""
    body = (await http.get("/v1/procedures/getting-married")).json()
    assert body["total_delay"]["measured"]["median_days"] is None
    assert body["total_delay"]["measured"]["reason"] == "no_closed_cases"
    bulky = (await http.get("/v1/procedures/bulky-items")).json()
    assert bulky["total_delay"]["measured"]["reason"] == "no_procedure_tracked"
    assert bulky["soonest_appointment"] is None


def test_the_expected_total_adds_what_a_citizen_waits_for() -> None:
    """Wait at the quickest counter (median) + the soonest slot (or the usual délai, estimated)
    + processing from the appointment on (measured median first, else committed); a démarche
    with nothing to wait for has no figure."""
    from api.procedures import Measured, expected_total
    from schemas.parcours import load_parcours

    by_id = {p.parcours_id: p for p in load_parcours()}
    identity = by_id["identity-document"]
    none = expected_total(identity, [], {"soonest_appointment": None}, Measured(reason="x"))
    assert none is not None
    assert (none["appointment_days"], none["appointment_estimated"]) == (30, True)
    assert (none["processing_days"], none["processing_from"]) == (21, "committed")
    assert none["wait_minutes"] is None
    queues = [
        {"queue": {"served_within": {"p50_minutes": 18.4}}},
        {"queue": {"served_within": {"p50_minutes": 7.6}}},
        {"queue": None},
    ]
    live = expected_total(
        identity, queues, {"soonest_appointment": {"delay_days": 2.2}}, Measured(median_days=16.6)
    )
    assert live is not None
    assert (live["wait_minutes"], live["appointment_days"]) == (8, 2)
    assert not live["appointment_estimated"]
    assert (live["processing_days"], live["processing_from"]) == (17, "measured")
    pool = by_id["pool-visit"]
    assert expected_total(pool, [], {"soonest_appointment": None}, Measured()) is None
