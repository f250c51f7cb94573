"""Equipment outages on the real API, PostgreSQL and Kafka: agents and devices declare and end
them through the closures' service (authorization, audit, idempotency, outbox), and the bad
inputs of issue 20 answer 422 / 409 / 403."""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer

from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import Facility, load_catalogue
from schemas.equipment import equipment_of
from tests.api.agents_testkit import bearer, forged, in_an_hour, rows, token
from tests.api.api_testkit import InProcessServer

pytestmark = pytest.mark.integration


def lifted() -> tuple[Facility, Facility]:
    """Two facilities with a lift (town halls: their lift is in the typical profile)."""
    found = [f for f in load_catalogue() if any(e.kind == "lift" for e in equipment_of(f))]
    return found[0], found[1]


@pytest.fixture
async def agents(
    kafka_topics: Settings, api_server: InProcessServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an API whose topics exist (equipment events are published)."""
    async with httpx.AsyncClient(base_url=api_server.http, timeout=15.0) as client:
        yield client


async def declare(
    http: httpx.AsyncClient, facility_id: str, auth: str, **body: Any
) -> httpx.Response:
    body.setdefault("equipment_id", "lift")
    body.setdefault("kind", "lift")
    headers = bearer(auth)
    if "key" in body:
        headers["Idempotency-Key"] = body.pop("key")
    return await http.post(
        f"/v1/facilities/{facility_id}/equipment-outages", json=body, headers=headers
    )


async def end(
    http: httpx.AsyncClient, facility_id: str, auth: str, equipment_id: str = "lift"
) -> httpx.Response:
    return await http.post(
        f"/v1/facilities/{facility_id}/equipment-outages/end",
        json={"equipment_id": equipment_id},
        headers=bearer(auth),
    )


async def equipment_events(
    settings: Settings, facility_id: str, *, expect: int, within: float = 15.0
) -> list[tuple[str, dict[str, Any]]]:
    """(key, event) of the records on facility-equipment for this facility."""
    consumer = AIOKafkaConsumer(
        settings.topic(contract.EQUIPMENT),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(found) < expect and loop.time() < deadline:
            for records in (await consumer.getmany(timeout_ms=300)).values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event["subject"] == facility_id:
                        found.append((record.key.decode(), event))
    finally:
        await consumer.stop()
    return found


async def test_declare_update_end_audited_and_published(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Declared (201), declared again (200, the same outage updated), ended (200): one outage row
    kept as history, three audit rows naming the agent, three events keyed by the facility —
    out_of_service, then the update, then in_service."""
    hall, _ = lifted()
    agent = token(settings, "agent", hall.id, subject="c.durand")
    first = await declare(agents, hall.id, agent, expected_back_at=in_an_hour(20))
    assert first.status_code == 201, first.text
    outage = first.json()
    assert (outage["equipment_id"], outage["status"], outage["declared_by"]) == (
        "lift",
        "out_of_service",
        "c.durand",
    )
    assert outage["message"] == {"fr": "Ascenseur hors service.", "en": "Lift out of order."}
    again = await declare(agents, hall.id, agent, status="degraded")
    assert again.status_code == 200, again.text
    assert (again.json()["outage_id"], again.json()["status"]) == (outage["outage_id"], "degraded")
    ended = await end(agents, hall.id, agent)
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"] is not None

    stored = await rows(
        settings,
        "SELECT equipment_id, status, ended_at IS NOT NULL FROM equipment_outages "
        "WHERE facility_id = %s",
        hall.id,
    )
    assert stored == [("lift", "degraded", True)]
    audit = await rows(
        settings,
        "SELECT actor, action, closure_id FROM audit_log WHERE facility_id = %s ORDER BY audit_id",
        hall.id,
    )
    assert audit == [
        ("c.durand", "equipment.declared", outage["outage_id"]),
        ("c.durand", "equipment.updated", outage["outage_id"]),
        ("c.durand", "equipment.ended", outage["outage_id"]),
    ]
    events = await equipment_events(settings, hall.id, expect=3)
    assert [key for key, _ in events] == [hall.id] * 3
    assert [e["data"]["status"] for _, e in events] == ["out_of_service", "degraded", "in_service"]
    assert {e["data"]["declared_by"] for _, e in events} == {"agent"}  # the id stays in the audit
    published = await rows(
        settings, "SELECT count(*) FROM closure_outbox WHERE facility_id = %s", hall.id
    )
    assert published == [(3,)]


async def test_unknown_equipment_or_kind_answers_422_naming_it(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """An equipment the facility does not have, an unknown kind, or the wrong kind: 422 naming
    the value; nothing is stored."""
    hall, _ = lifted()
    agent = token(settings, "agent", hall.id)
    cases = [
        ({"equipment_id": "lift-9"}, "lift-9"),
        ({"kind": "teleporter"}, "teleporter"),
        ({"kind": "escalator"}, "escalator"),
    ]
    for body, named in cases:
        response = await declare(agents, hall.id, agent, **body)
        assert response.status_code == 422, (body, response.text)
        error = response.json()["error"]
        assert error["code"] == "unknown_equipment" and named in error["message"], error
    unknown_end = await end(agents, hall.id, agent, "lift-9")
    assert unknown_end.status_code == 422 and "lift-9" in unknown_end.json()["error"]["message"]
    assert await rows(settings, "SELECT count(*) FROM equipment_outages") == [(0,)]


async def test_ending_without_an_outage_answers_409(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Ending the outage of a lift that works answers 409 no_outage, and audits nothing."""
    hall, _ = lifted()
    agent = token(settings, "agent", hall.id)
    response = await end(agents, hall.id, agent)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "no_outage"
    assert "lift" in response.json()["error"]["message"]
    assert await rows(settings, "SELECT count(*) FROM audit_log") == [(0,)]


async def test_a_double_tap_declares_one_outage(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """The same Idempotency-Key and body replays the first answer (one row, one audit, one
    event); the same key with another body is refused (422 idempotency_key_reused)."""
    hall, _ = lifted()
    agent = token(settings, "agent", hall.id)
    key = uuid.uuid4().hex
    first = await declare(agents, hall.id, agent, key=key)
    second = await declare(agents, hall.id, agent, key=key)
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"
    other = await declare(agents, hall.id, agent, key=key, status="degraded")
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "idempotency_key_reused"
    assert await rows(settings, "SELECT count(*) FROM equipment_outages") == [(1,)]
    assert await rows(settings, "SELECT count(*) FROM audit_log") == [(1,)]


async def test_devices_report_only_their_facility_equipment(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """A lift controller's token reports its facility's lift (the event names the device), and
    gets 403 for another facility's."""
    hall, other = lifted()
    device = token(settings, "device", hall.id, subject="ascenseur-ctrl-1")
    assert (await declare(agents, hall.id, device)).status_code == 201
    refused = await declare(agents, other.id, device)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["code"] == "forbidden"
    assert (await end(agents, other.id, device)).status_code == 403
    assert (await end(agents, hall.id, device)).status_code == 200
    events = await equipment_events(settings, hall.id, expect=2)
    assert {e["data"]["declared_by"] for _, e in events} == {"device:ascenseur-ctrl-1"}
    assert await equipment_events(settings, other.id, expect=1, within=1.0) == []


async def test_other_roles_facilities_and_bad_tokens_are_refused(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Agents of another facility, ops and service staff: 403; no, forged, expired or tampered
    tokens: 401 — on both routes, and nothing is stored."""
    hall, other = lifted()
    forbidden = [
        token(settings, "agent", other.id),
        token(settings, "ops"),
        forged(settings, role="device", facilities=[other.id]),
    ]
    good = token(settings, "agent", hall.id)
    header, payload, signature = good.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    swapped = base64.urlsafe_b64encode(claims.replace(hall.id.encode(), other.id.encode()))
    unauthenticated = [
        forged(settings, exp=1, iat=0),
        forged(settings, aud="someone-else"),
        f"{header}.{swapped.decode().rstrip('=')}.{signature}",
        "not.a.token",
    ]
    for auth in forbidden:
        for response in (await declare(agents, hall.id, auth), await end(agents, hall.id, auth)):
            assert response.status_code == 403, response.text
    for auth in unauthenticated:
        for response in (await declare(agents, hall.id, auth), await end(agents, hall.id, auth)):
            assert response.status_code == 401, response.text
            assert response.headers["www-authenticate"].startswith("Bearer")
    missing = await agents.post(
        f"/v1/facilities/{hall.id}/equipment-outages", json={"equipment_id": "lift"}
    )
    assert missing.status_code == 401
    assert await rows(settings, "SELECT count(*) FROM equipment_outages") == [(0,)]
    assert await rows(settings, "SELECT count(*) FROM audit_log") == [(0,)]
