"""Agents' closure routes on the real API, PostgreSQL, Redis and Kafka: what an agent and the
public see (the security checks are in ``test_agents_security.py``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator

import httpx
import pytest
from psycopg.types.json import Jsonb

from paris_live.db import connect
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.agents_testkit import (
    bearer,
    cast,
    closure_events,
    declare,
    in_an_hour,
    rows,
    token,
)
from tests.api.api_testkit import InProcessServer
from tests.testkit import wait_until

pytestmark = pytest.mark.integration


@pytest.fixture
async def agents(
    kafka_topics: Settings, api_server: InProcessServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an API whose topics exist (closure events are published)."""
    async with httpx.AsyncClient(base_url=api_server.http, timeout=15.0) as client:
        yield client


async def test_declaring_answers_201_records_audits_and_publishes(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """A declared closure answers 201 with its id and Paris times, is stored with one audit
    row naming the agent, and reaches facility-closures keyed by the facility."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id, subject="a.martin")
    reopening = in_an_hour(2)
    response = await declare(
        agents,
        pool.id,
        agent,
        scope={"kind": "area", "name": pool.areas[0]},
        reason="water_quality",
        message={"fr": "Analyses de l'eau en cours.", "en": "Water tests in progress."},
        expected_reopening_at=reopening,
    )
    assert response.status_code == 201, response.text
    body = response.json()
    closure_id = body["closure_id"]
    assert body["facility_id"] == pool.id
    assert body["scope"] == {"kind": "area", "name": pool.areas[0]}
    assert body["message"] == {
        "fr": "Analyses de l'eau en cours.",
        "en": "Water tests in progress.",
    }
    assert body["declared_by"] == "a.martin"
    assert dt.datetime.fromisoformat(body["expected_reopening_at"]) == dt.datetime.fromisoformat(
        reopening
    )
    declared = dt.datetime.fromisoformat(body["declared_at"])
    assert declared.utcoffset() == declared.astimezone(PARIS).utcoffset()
    assert body["declared_label"]["fr"] == f"déclaré par l'équipe à {declared:%H:%M}"
    assert response.headers["cache-control"] == "no-store"

    stored = await rows(
        settings,
        "SELECT facility_id, reason, ended_at FROM closures WHERE closure_id = %s",
        closure_id,
    )
    assert stored == [(pool.id, "water_quality", None)]
    audit = await rows(
        settings,
        "SELECT actor, actor_role, action, facility_id, before, after->>'closure_id', "
        "request_id, client_address FROM audit_log WHERE closure_id = %s",
        closure_id,
    )
    assert len(audit) == 1
    actor, role, action, facility, before, after_id, request_id, address = audit[0]
    assert (actor, role, action, facility, before, after_id) == (
        "a.martin",
        "agent",
        "closure.declared",
        pool.id,
        None,
        closure_id,
    )
    assert request_id == response.headers["x-request-id"]
    assert address == "127.0.0.1"

    events = await closure_events(settings, closure_id, expect=1)
    assert len(events) == 1
    key, event = events[0]
    assert key == pool.id
    assert event["type"] == "fr.paris.facilities.closure.declared"
    assert event["subject"] == pool.id
    assert event["data"]["reason"] == "water_quality"
    assert event["data"]["declared_by"] == "agent"  # the public sees the team, not the person
    published = await rows(
        settings,
        "SELECT published_at IS NOT NULL FROM closure_outbox WHERE closure_id = %s",
        closure_id,
    )
    assert published == [(True,)]


async def test_without_a_message_the_reason_template_is_used(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Declaring with only a reason and a reopening time gives a French and English message
    naming the area and the reopening time in Paris time."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    reopening = (dt.datetime.now(PARIS) + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    response = await declare(
        agents,
        pool.id,
        agent,
        scope={"kind": "area", "name": pool.areas[0]},
        reason="staff_shortage",
        expected_reopening_at=reopening.isoformat(),
    )
    assert response.status_code == 201, response.text
    message = response.json()["message"]
    assert message["fr"].startswith(f"{pool.areas[0]} — fermeture exceptionnelle en raison")
    assert "manque de personnel" in message["fr"]
    when = f"{reopening:%H:%M}"
    assert when in message["fr"] and when in message["en"]
    assert "staff shortage" in message["en"]


async def test_updating_changes_eta_and_message_and_audits_before_after(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """PATCH moves the expected reopening (a templated message follows it), bumps the sequence,
    and the audit row holds the state before and after."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    first = dt.datetime.now(PARIS) + dt.timedelta(hours=1)
    created = (
        await declare(agents, pool.id, agent, expected_reopening_at=first.isoformat())
    ).json()
    later = (first + dt.timedelta(hours=2)).replace(second=0, microsecond=0)
    response = await agents.patch(
        f"/v1/closures/{created['closure_id']}",
        json={"expected_reopening_at": later.isoformat()},
        headers=bearer(agent),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["sequence"] == 1
    assert dt.datetime.fromisoformat(body["expected_reopening_at"]) == later
    assert f"{later.astimezone(PARIS):%H:%M}" in body["message"]["fr"]
    assert body["message"] != created["message"]
    audit = await rows(
        settings,
        "SELECT before->>'sequence', after->>'sequence', before->'message'->>'fr' "
        "FROM audit_log WHERE action = 'closure.updated' AND closure_id = %s",
        created["closure_id"],
    )
    assert audit == [("0", "1", created["message"]["fr"])]

    own = await agents.patch(
        f"/v1/closures/{created['closure_id']}",
        json={"message": {"fr": "Réouverture dès que possible."}, "expected_reopening_at": None},
        headers=bearer(agent),
    )
    assert own.status_code == 200, own.text
    assert own.json()["message"] == {"fr": "Réouverture dès que possible.", "en": None}
    assert own.json()["expected_reopening_at"] is None
    events = await closure_events(settings, created["closure_id"], expect=3)
    assert [e["type"].rsplit(".", 1)[1] for _, e in events] == ["declared", "updated", "updated"]


async def test_ending_reopens_and_an_ended_closure_cannot_change(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Ending sets ended_at and publishes .ended; ending again or updating it answers 409."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    created = (await declare(agents, pool.id, agent)).json()
    url = f"/v1/closures/{created['closure_id']}"
    ended = await agents.post(f"{url}/end", headers=bearer(agent))
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"] is not None
    again = await agents.post(f"{url}/end", headers=bearer(agent))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "closure_ended"
    patch = await agents.patch(url, json={"expected_reopening_at": None}, headers=bearer(agent))
    assert patch.status_code == 409
    events = await closure_events(settings, created["closure_id"], expect=2)
    assert events[-1][1]["type"] == "fr.paris.facilities.closure.ended"
    assert events[-1][1]["data"]["ended_by"] == "agent"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"expected_reopening_at": "PAST"}, "expected_reopening_at"),
        ({"starts_at": "LATER", "expected_reopening_at": "SOON"}, "after the start (starts_at)"),
        ({"scope": {"kind": "area", "name": "Patinoire"}}, "Patinoire"),
        ({"scope": {"kind": "service", "service_id": "no-such-service"}}, "no-such-service"),
        ({"scope": {"kind": "room"}}, "scope"),
        ({"reason": "aliens"}, "reason"),
        ({"message": {"fr": "x" * 501}}, "message"),
        ({"message": {"fr": "   "}}, "message"),
        ({"message": {"en": "English only"}}, "fr"),
        ({"starts_at": "2030-01-01T10:00:00"}, "starts_at"),
        ({"starts_at": "1900-01-01T10:00:00+00:00"}, "starts_at"),
        ({"unexpected": 1}, "unexpected"),
    ],
)
async def test_invalid_declarations_answer_422_in_the_error_shape(
    agents: httpx.AsyncClient, settings: Settings, change: dict[str, object], field: str
) -> None:
    """ETA not after start, unknown area/service, reason outside the list, message too long or
    empty, naive or absurd dates, unknown fields → 422 naming the problem; nothing stored."""
    pool = cast().pool_a
    now = dt.datetime.now(dt.UTC)
    placeholders = {
        "PAST": (now - dt.timedelta(minutes=5)).isoformat(),
        "LATER": (now + dt.timedelta(hours=3)).isoformat(),
        "SOON": (now + dt.timedelta(hours=1)).isoformat(),
    }
    body = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in change.items()}
    response = await declare(agents, pool.id, token(settings, "agent", pool.id), **body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] in {"invalid_parameter", "invalid_closure"}
    assert field in error["message"]
    assert await rows(settings, "SELECT count(*) FROM closures") == [(0,)]


async def test_templates_me_and_audit_for_the_console(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """The console gets the nine reason templates (fr/en), the agent's facilities with their
    areas and services, and a supervisor of pools reads the audit trail newest first, paged."""
    pool = cast().pool_a
    templates = (await agents.get("/v1/closure-templates")).json()["items"]
    assert len(templates) == 9
    assert {t["reason"] for t in templates} >= {"strike", "water_quality", "other"}
    assert all(t["label"]["fr"] and t["template"]["en"] for t in templates)

    agent = token(settings, "agent", pool.id, subject="a.martin")
    me = (await agents.get("/v1/me", headers=bearer(agent))).json()
    assert me["subject"] == "a.martin" and me["role"] == "agent"
    assert [f["id"] for f in me["facilities"]] == [pool.id]
    assert me["facilities"][0]["areas"] == list(pool.areas)
    assert me["may_manage_closures"] and not me["may_read_audit"]

    ids = [(await declare(agents, pool.id, agent)).json()["closure_id"] for _ in range(3)]
    supervisor = token(settings, "supervisor", types=("pool",))
    first = await agents.get(
        "/v1/audit", params={"facility": pool.id, "limit": 2}, headers=bearer(supervisor)
    )
    assert first.status_code == 200, first.text
    page = first.json()
    assert [i["closure_id"] for i in page["items"]] == ids[::-1][:2]
    assert page["items"][0]["actor"] == "a.martin"
    rest = await agents.get(
        "/v1/audit",
        params={"facility": pool.id, "cursor": page["next"]},
        headers=bearer(supervisor),
    )
    assert [i["closure_id"] for i in rest.json()["items"]] == [ids[0]]
    assert rest.json()["next"] is None
    supervisor_me = (await agents.get("/v1/me", headers=bearer(supervisor))).json()
    assert len(supervisor_me["facilities"]) == len([f for f in supervisor_me["facilities"]])
    assert {f["type"] for f in supervisor_me["facilities"]} == {"pool"}
    assert supervisor_me["may_read_audit"]


async def test_closure_shows_in_the_ics_feed(agents: httpx.AsyncClient, settings: Settings) -> None:
    """A declared closure is in the facility's closures.ics, and CANCELLED once ended."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    created = (
        await declare(
            agents,
            pool.id,
            agent,
            message={"fr": "Panne de chaudière."},
            reason="technical_failure",
        )
    ).json()
    ics = (await agents.get(f"/v1/facilities/{pool.id}/closures.ics")).text
    assert f"closure-{created['closure_id']}@" in ics
    assert "Panne de chaudière." in ics and "STATUS:CONFIRMED" in ics
    await agents.post(f"/v1/closures/{created['closure_id']}/end", headers=bearer(agent))
    ics = (await agents.get(f"/v1/facilities/{pool.id}/closures.ics")).text
    assert "STATUS:CANCELLED" in ics


async def test_an_event_a_crash_left_unpublished_is_relayed(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """A closure event committed to the outbox but never acknowledged by Kafka (the API died in
    between) is published by the relay of a running API within seconds."""
    pool = cast().pool_a
    created = (await declare(agents, pool.id, token(settings, "agent", pool.id))).json()
    (event,) = [e for (e,) in await rows(settings, "SELECT event FROM closure_outbox")]
    lost = {**event, "id": "lost-" + event["id"]}
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            "INSERT INTO closure_outbox (event_id, facility_id, closure_id, event, created_at) "
            "VALUES (%s, %s, %s, %s, now() - interval '1 minute')",
            (lost["id"], pool.id, created["closure_id"], Jsonb(lost)),
        )

    async def all_published() -> bool:
        return not await rows(settings, "SELECT 1 FROM closure_outbox WHERE published_at IS NULL")

    await wait_until(
        all_published, within=20, every=0.5, what="the relay to publish the lost event"
    )
    events = await closure_events(settings, created["closure_id"], expect=2)
    assert sorted(e["id"] for _, e in events) == sorted([event["id"], lost["id"]])
