"""Security of the agents' routes on the real API, PostgreSQL, Redis and Kafka (issue 7's list):
wrong facility → 403 on every route taking an id; bad tokens → 401; device keys → 403; the
audit trail cannot be altered; a double tap creates one closure; rate limits answer 429;
schemathesis with valid credentials finds no 5xx."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import itertools
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import jwt
import psycopg
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import ignored_auth, positive_data_acceptance

from paris_live.db import connect
from paris_live.settings import Settings
from tests.api.agents_testkit import (
    bearer,
    cast,
    closure_events,
    declare,
    forged,
    in_an_hour,
    rows,
    token,
)
from tests.api.api_testkit import InProcessServer, ProcessServer
from tests.testkit import wait_for

pytestmark = pytest.mark.integration


@pytest.fixture
async def agents(
    kafka_topics: Settings, api_server: InProcessServer
) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of an API whose topics exist (closure events are published)."""
    async with httpx.AsyncClient(base_url=api_server.http, timeout=15.0) as client:
        yield client


def _routes(closure_id: str, facility_id: str) -> list[tuple[str, str, dict[str, Any] | None]]:
    """(method, url, json) of every agent route that takes an id."""
    return [
        ("POST", f"/v1/facilities/{facility_id}/closures", {"reason": "works"}),
        ("PATCH", f"/v1/closures/{closure_id}", {"expected_reopening_at": None}),
        ("POST", f"/v1/closures/{closure_id}/end", None),
        ("GET", f"/v1/audit?facility={facility_id}", None),
    ]


async def _state(settings: Settings) -> list[tuple[Any, ...]]:
    return await rows(
        settings,
        "SELECT (SELECT count(*) FROM closures), (SELECT count(*) FROM audit_log), "
        "(SELECT string_agg(closure_id || ':' || sequence || ':' || (ended_at IS NULL)::text, ',') "
        "FROM closures)",
    )


async def test_acting_on_another_facility_is_forbidden_on_every_route(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """An agent of pool A, a supervisor of pool A and a supervisor of all libraries get 403 on
    every route taking pool B's id or one of its closures; nothing changes."""
    team = cast()
    a, b = team.pool_a, team.pool_b
    created = await declare(agents, b.id, token(settings, "agent", b.id))
    assert created.status_code == 201
    closure_b = created.json()["closure_id"]
    before = await _state(settings)
    intruders = {
        "agent of A": token(settings, "agent", a.id),
        "supervisor of A": token(settings, "supervisor", a.id),
        "supervisor of libraries": token(settings, "supervisor", types=("library",)),
    }
    results = {}
    for who, auth in intruders.items():
        for method, url, body in _routes(closure_b, b.id):
            if who == "agent of A" and url.startswith("/v1/audit"):
                url = f"/v1/audit?facility={a.id}"  # agents never read the audit trail
            response = await agents.request(method, url, json=body, headers=bearer(auth))
            results[(who, method, url)] = response.status_code
            assert response.json()["error"]["code"] == "forbidden"
    assert set(results.values()) == {403}, results
    assert len(results) == 12
    assert await _state(settings) == before


@pytest.mark.parametrize(
    "case",
    [
        "missing",
        "expired",
        "wrong audience",
        "wrong issuer",
        "alg none",
        "tampered payload",
        "tampered signature",
        "other secret",
        "no exp",
        "not yet valid",
        "garbage",
        "basic scheme",
    ],
)
async def test_bad_tokens_answer_401_on_every_route(
    agents: httpx.AsyncClient, settings: Settings, case: str
) -> None:
    """Missing, expired, wrong-audience/issuer, unsigned (alg none), tampered or foreign tokens
    get 401 with WWW-Authenticate on every agent route, and change nothing."""
    pool = cast().pool_a
    good = token(settings, "agent", pool.id)
    created = (await declare(agents, pool.id, good)).json()
    before = await _state(settings)
    now = int(dt.datetime.now(dt.UTC).timestamp())
    header, payload, signature = good.split(".")
    claims = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    other = claims.replace(pool.id.encode(), cast().pool_b.id.encode())
    other_payload = base64.urlsafe_b64encode(other).decode().rstrip("=")
    tokens: dict[str, dict[str, str]] = {
        "missing": {},
        "expired": bearer(forged(settings, iat=now - 7200, exp=now - 3600)),
        "wrong audience": bearer(forged(settings, aud="someone-else")),
        "wrong issuer": bearer(forged(settings, iss="https://evil.example")),
        "alg none": bearer(
            jwt.encode(
                {
                    "sub": "x",
                    "role": "supervisor",
                    "facility_types": ["pool"],
                    "iss": settings.jwt_issuer,
                    "aud": settings.jwt_audience,
                    "iat": now,
                    "exp": now + 600,
                },
                None,
                algorithm="none",
            )
        ),
        "tampered payload": bearer(f"{header}.{other_payload}.{signature}"),
        "tampered signature": bearer(f"{header}.{payload}.{signature[:-4]}AAAA"),
        "other secret": bearer(
            jwt.encode(
                jwt.decode(good, options={"verify_signature": False}),
                "another-secret-of-at-least-thirty-two-bytes!",
                algorithm="HS256",
            )
        ),
        "no exp": bearer(
            jwt.encode(
                {
                    k: v
                    for k, v in jwt.decode(good, options={"verify_signature": False}).items()
                    if k != "exp"
                },
                settings.jwt_secret,
                algorithm="HS256",
            )
        ),
        "not yet valid": bearer(forged(settings, nbf=now + 3600)),
        "garbage": bearer("not.a.token"),
        "basic scheme": {"Authorization": "Basic YWdlbnQ6cGFzc3dvcmQ="},
    }
    routes = [*_routes(created["closure_id"], pool.id), ("GET", "/v1/me", None)]
    for method, url, body in routes:
        response = await agents.request(method, url, json=body, headers=tokens[case])
        assert response.status_code == 401, (case, method, url, response.text)
        assert response.json()["error"]["code"] == "unauthenticated"
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert await _state(settings) == before


async def test_device_keys_and_ops_cannot_touch_closures(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """A device key of the facility (producers) and an ops token get 403 on the three closure
    write routes; ops reads the audit trail, a device does not."""
    pool = cast().pool_a
    created = (await declare(agents, pool.id, token(settings, "agent", pool.id))).json()
    before = await _state(settings)
    device = token(settings, "device", pool.id)
    ops = token(settings, "ops")
    for auth in (device, ops):
        for method, url, body in _routes(created["closure_id"], pool.id)[:3]:
            response = await agents.request(method, url, json=body, headers=bearer(auth))
            assert response.status_code == 403, (method, url, response.text)
    audit = f"/v1/audit?facility={pool.id}"
    assert (await agents.get(audit, headers=bearer(device))).status_code == 403
    ops_audit = await agents.get(audit, headers=bearer(ops))
    assert ops_audit.status_code == 200
    assert [i["closure_id"] for i in ops_audit.json()["items"]] == [created["closure_id"]]
    assert await _state(settings) == before


async def test_the_application_role_cannot_alter_audit_rows(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """UPDATE, DELETE and TRUNCATE of audit_log fail for the role the API connects with (even
    though, locally, it owns the table); the row is still there, unchanged."""
    pool = cast().pool_a
    await declare(agents, pool.id, token(settings, "agent", pool.id, subject="a.martin"))
    before = await rows(settings, "SELECT audit_id, actor, after FROM audit_log")
    assert len(before) == 1
    statements = [
        "UPDATE audit_log SET actor = 'someone-else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
    ]
    for statement in statements:
        async with await connect(settings, autocommit=True) as conn:
            with pytest.raises(psycopg.errors.InsufficientPrivilege, match="append-only"):
                await conn.execute(statement)
    assert await rows(settings, "SELECT audit_id, actor, after FROM audit_log") == before


async def test_a_double_tap_creates_one_closure(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """The same Idempotency-Key sent twice in a row and five times at once gives one closure,
    one audit row and one event per key, every answer carrying the same closure; the same key
    with another body answers 422."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id, subject="a.martin")
    body = {"reason": "strike", "expected_reopening_at": in_an_hour()}
    url = f"/v1/facilities/{pool.id}/closures"

    def headers(key: str) -> dict[str, str]:
        return {**bearer(agent), "Idempotency-Key": key}

    first = await agents.post(url, json=body, headers=headers("tap-1"))
    second = await agents.post(url, json=body, headers=headers("tap-1"))
    assert (first.status_code, second.status_code) == (201, 201)
    assert second.json() == first.json()
    assert second.headers["idempotent-replayed"] == "true"

    together = await asyncio.gather(
        *(agents.post(url, json=body, headers=headers("tap-2")) for _ in range(5))
    )
    assert {r.status_code for r in together} == {201}
    assert len({r.json()["closure_id"] for r in together}) == 1

    ids = [first.json()["closure_id"], together[0].json()["closure_id"]]
    assert await rows(settings, "SELECT count(*) FROM closures") == [(2,)]
    assert await rows(settings, "SELECT count(*) FROM audit_log") == [(2,)]
    for closure_id in ids:
        assert len(await closure_events(settings, closure_id, expect=2, within=3)) == 1

    reused = await agents.post(url, json={**body, "reason": "works"}, headers=headers("tap-1"))
    assert reused.status_code == 422
    assert reused.json()["error"]["code"] == "idempotency_key_reused"

    end = f"/v1/closures/{ids[0]}/end"
    ended = [await agents.post(end, headers=headers("end-1")) for _ in range(2)]
    assert [r.status_code for r in ended] == [200, 200]
    assert ended[0].json() == ended[1].json()


async def test_rate_limits_answer_429_with_retry_after(
    agents: httpx.AsyncClient, settings: Settings
) -> None:
    """Past 30 write requests a minute, a token gets 429 with Retry-After in the error shape
    while another token (same address) still gets through."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    url = f"/v1/facilities/{pool.id}/closures"
    statuses = []
    for _ in range(31):  # invalid bodies: the limit applies before validation
        response = await agents.post(url, json={"reason": "aliens"}, headers=bearer(agent))
        statuses.append(response.status_code)
    assert statuses[:30] == [422] * 30
    assert statuses[30] == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(response.headers["retry-after"]) <= 3
    other = await agents.post(
        url, json={"reason": "aliens"}, headers=bearer(token(settings, "agent", pool.id))
    )
    assert other.status_code == 422


# ── schemathesis with valid credentials ──────────────────────────────────────────────────────


def _wait_ready(base: str) -> None:
    def ready() -> bool:
        try:
            return httpx.get(f"{base}/v1/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    wait_for(ready, within=30, every=0.1, what=f"{base} to become ready")


def test_schemathesis_with_valid_credentials_finds_no_server_error(
    kafka_topics: Settings, process_server_factory: Callable[..., ProcessServer]
) -> None:
    """Generated requests (30 per operation) to the agent routes, with a supervisor's token and
    ids of real pools and closures, never get a 5xx and always match the OpenAPI document."""
    settings = kafka_topics
    server = process_server_factory(PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix)
    _wait_ready(server.http)
    pools = [cast().pool_a.id, cast().pool_b.id]
    closure_ids = []
    for _ in range(6):
        created = httpx.post(
            f"{server.http}/v1/facilities/{pools[0]}/closures",
            json={"reason": "works"},
            headers=bearer(token(settings, "agent", pools[0])),
        )
        assert created.status_code == 201, created.text
        closure_ids.append(created.json()["closure_id"])
    picks = itertools.count()

    loaded = schemathesis.openapi.from_url(f"{server.http}/openapi.json")
    schema = loaded.include(
        path_regex=r"^/v1/(facilities/\{facility_id\}/closures$|closures|audit|me|closure-templates)"
    )
    operations = [result.ok() for result in schema.get_all_operations()]  # type: ignore[union-attr]
    assert {op.path for op in operations} >= {
        "/v1/facilities/{facility_id}/closures",
        "/v1/closures/{closure_id}",
        "/v1/closures/{closure_id}/end",
        "/v1/audit",
        "/v1/me",
    }
    statuses: dict[int, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @hypothesis_settings(
            max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: Any) -> None:
            n = next(picks)
            if case.path_parameters and "facility_id" in case.path_parameters and n % 4:
                case.path_parameters["facility_id"] = pools[n % 2]
            if case.path_parameters and "closure_id" in case.path_parameters and n % 4:
                case.path_parameters["closure_id"] = closure_ids[n % len(closure_ids)]
            auth = token(
                settings, "supervisor", subject=f"fuzz-{uuid.uuid4().hex[:8]}", types=("pool",)
            )
            # ignored_auth replays a case without valid credentials and wants 401/403; the write
            # rate limit answers first (429) once a client has spent its budget — by design, so
            # that bad tokens cannot be tried in bulk. Bad tokens → 401 on every route is
            # test_bad_tokens_answer_401_on_every_route's to show.
            response = case.call_and_validate(
                headers=bearer(auth), excluded_checks=[positive_data_acceptance, ignored_auth]
            )
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

        check()
    assert not [s for s in statuses if s >= 500], statuses
    assert {200, 201, 422} <= set(statuses), statuses  # the generated cases went deep enough
