"""Hostile HTTP input against the real API (uvicorn, Redis, PostgreSQL, Kafka): every one answers a
4xx in the one error shape (French / English), and the API keeps serving afterwards.

The exact reproductions of issue 13 are here: a NUL in a survey answer, in a complaint, in a
closure id; an anonymous 60 MB body to the closure route; ``/static/pages/pages.css%00.js`` and
``/static/pages/..%2ftemplates%2flayout.html``; pages without CSP; no cap on closures in force;
a poison row blocking the closure outbox relay.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from psycopg.types.json import Jsonb

from api.app import create_app
from api.limits import body_limit
from paris_live.db import connect
from paris_live.settings import Settings
from schemas import topics as contract
from tests.api.agents_testkit import bearer, cast, closure_events, declare, rows, token
from tests.api.api_testkit import InProcessServer, ProcessServer, fast_hub, wait_ready
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

POOL = "piscine-alfred-nakache"
MAX_CLOSURES = 3


@dataclass
class Api:
    app: FastAPI
    server: InProcessServer
    http: httpx.AsyncClient
    settings: Settings


@pytest.fixture
async def api(
    settings: Settings, db: Settings, kafka_topics: Settings, redis_client: Any, tmp_path: Path
) -> AsyncIterator[Api]:
    """The whole API on a free loopback port (closure cap lowered to 3 for the cap test)."""
    configured = fast_hub(settings).model_copy(
        update={"state_dir": tmp_path, "max_active_closures": MAX_CLOSURES}
    )
    app = create_app(configured)
    server = InProcessServer(app, configured)
    await server.start()
    async with httpx.AsyncClient(base_url=server.http, timeout=30.0) as client:
        yield Api(app, server, client, configured)
    await server.stop()


@pytest.fixture
def api_process(settings: Settings, db: Settings, tmp_path: Path) -> Iterator[ProcessServer]:
    """``paris-live api serve`` in a child process, so that its memory can be read."""
    server = ProcessServer(settings, 1, PARIS_LIVE_STATE_DIR=str(tmp_path))
    yield server
    server.stop()


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> str:
    """The one error shape, French first then English; returns the message."""
    assert response.status_code == status, (response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) >= {"code", "message"}
    if code is not None:
        assert error["code"] == code, error
    assert " / " in error["message"], error["message"]
    message: str = error["message"]
    return message


async def assert_still_serving(http: httpx.AsyncClient) -> None:
    """``/v1/healthz`` answers 200 and a normal request still works."""
    assert (await http.get("/v1/healthz")).status_code == 200
    normal = await http.get(f"/v1/facilities/{POOL}")
    assert normal.status_code == 200 and normal.json()["facility_id"] == POOL


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")  # pragma: no cover


# ── text from outside: control characters and bounds ─────────────────────────────────────────


async def test_nul_in_a_survey_answer_is_422_naming_liked(api: Api) -> None:
    """The issue's reproduction: a NUL in ``liked`` answers 422 naming the field, not 202."""
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback", json={"rating": 3, "liked": "a\u0000b"}
    )
    message = assert_error(response, 422)
    assert "liked" in message and "U+0000" in message
    assert set(response.json()["error"]["fields"]) == {"liked"}
    await assert_still_serving(api.http)


async def test_control_characters_in_every_survey_text_are_refused(api: Api) -> None:
    """Escape, DEL and other control characters are refused in each free-text field."""
    for field, value in (("to_improve", "x\x1b[31m"), ("went_wrong", "x\x7f"), ("liked", "\x08")):
        response = await api.http.post(
            f"/v1/facilities/{POOL}/feedback", json={"rating": 2, field: value}
        )
        assert field in assert_error(response, 422)
    ok = await api.http.post(
        f"/v1/facilities/{POOL}/feedback", json={"rating": 4, "liked": "Accueil\nsympathique"}
    )
    assert ok.status_code == 202, ok.text
    await assert_still_serving(api.http)


async def test_nul_in_a_form_survey_is_refused_naming_the_field(api: Api) -> None:
    """The HTML form path refuses the NUL too (422, the field named on the page)."""
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=b"rating=3&liked=a%00b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    assert "U+0000" in response.text
    await assert_still_serving(api.http)


async def test_nul_in_a_complaint_is_422_not_500(api: Api) -> None:
    """The issue's reproduction: a NUL in a complaint's text answers 422 naming ``text``."""
    body = {
        "facility_id": POOL,
        "rule": "welcome",
        "text": "Accueil\u0000 très désagréable au guichet.",
        "contact": "a@example.org",
    }
    response = await api.http.post("/v1/complaints", json=body)
    assert "text" in assert_error(response, 422)
    response = await api.http.post(
        "/v1/complaints", json={**body, "text": "Accueil désagréable.", "contact": "a\x00@b.fr"}
    )
    assert "contact" in assert_error(response, 422)
    await assert_still_serving(api.http)


async def test_nul_in_a_closure_id_is_422_not_500(api: Api) -> None:
    """The issue's reproduction: a NUL in a closure id, anonymous or with a valid agent token,
    answers 422 naming the path parameter and never reaches PostgreSQL."""
    agent = token(api.settings, "agent", POOL)
    for headers in ({}, bearer(agent)):
        response = await api.http.patch(
            "/v1/closures/a%00b", json={"reason": "other"}, headers=headers
        )
        assert "closure_id" in assert_error(response, 422)
        response = await api.http.post("/v1/closures/a%00b/end", headers=headers)
        assert "closure_id" in assert_error(response, 422)
    await assert_still_serving(api.http)


async def test_nul_in_a_closure_message_is_422(api: Api) -> None:
    """A control character in a closure message answers 422 naming ``message.fr``."""
    agent = token(api.settings, "agent", POOL)
    response = await declare(api.http, POOL, agent, message={"fr": "Fermé\u0000 ce jour"})
    assert "message.fr" in assert_error(response, 422, "invalid_parameter")
    await assert_still_serving(api.http)


async def test_odd_facility_ids_answer_404_or_422_never_500(api: Api) -> None:
    """Facility ids with a NUL, traversal or odd characters: 404/422 on REST and pages."""
    for path in (
        "/v1/facilities/a%00b",
        "/v1/facilities/%2e%2e%2f%2e%2e",
        "/v1/facilities/PISCINE",
        "/v1/facilities/a%00b/history",
        "/v1/facilities/a%00b/closures.ics",
        "/facilities/a%00b",
        "/facilities/%E2%80%AEevil",
        "/screen/a%00b",
        "/v1/complaints/REC%00",
    ):
        response = await api.http.get(path)
        assert response.status_code in {404, 422}, (path, response.status_code)
        if response.headers["content-type"].startswith("application/json"):
            assert_error(response, response.status_code)
    await assert_still_serving(api.http)


async def test_control_characters_in_query_strings_are_422_naming_the_parameter(api: Api) -> None:
    """A NUL in ``?q=`` (REST or page) answers 422 naming ``query.q``."""
    for path in ("/v1/facilities?q=a%00b", "/?q=%00", "/v1/facilities?type=pool%0d%0aX:1"):
        response = await api.http.get(path)
        message = assert_error(response, 422, "invalid_parameter")
        assert "query." in message
    await assert_still_serving(api.http)


async def test_digits_that_isdigit_takes_and_int_refuses_are_4xx_not_500(api: Api) -> None:
    """« ² » passes ``str.isdigit()`` and fails ``int()``: in a page filter it filters nothing; in
    SSE's ``since`` or a one-byte ``Last-Event-ID`` (\\xb2, read as latin-1) it is 422; as NGSI-LD's
    ``limit`` a 400 in NGSI-LD's own problem details — each was a 500."""
    for path in ("/?arrondissement=%C2%B2", "/directory/results?arrondissement=%C2%B2"):
        response = await api.http.get(path)
        assert response.status_code == 200, (path, response.status_code)
        assert "text/html" in response.headers["content-type"]
    sse = f"/v1/live/sse?facilities={POOL}"
    assert_error(await api.http.get(f"{sse}&since={POOL}:%C2%B2"), 422, "invalid_parameter")
    assert_error(
        await api.http.get(sse, headers={"Last-Event-ID": b"x:\xb2"}), 422, "invalid_parameter"
    )
    for query in ("limit=%C2%B2", "offset=%C2%B9", "limit=%EF%BC%93"):
        response = await api.http.get(f"/ngsi-ld/v1/entities?type=Facility&{query}")
        assert response.status_code == 400, (query, response.status_code)
        assert response.json()["type"].endswith("/BadRequestData"), response.text
    await assert_still_serving(api.http)


async def test_dates_at_the_edges_of_the_calendar_are_4xx_not_500(api: Api) -> None:
    """Year 1 or 9999 from outside overflowed a window computed from it (OverflowError → 500):
    the open-data range export answers 422 ``invalid_range``, Open311 its own 400 list."""
    for query in ("to=0001-01-01", "from=9999-12-31", "from=9999-01-01&to=9999-12-31"):
        response = await api.http.get(f"/v1/open-data/closures.csv?{query}")
        assert_error(response, 422, "invalid_range")
    for end in ("0001-01-01T00:00:00Z", "0001-03-01T00:00:00+14:00", "9999-12-31T23:59:59Z"):
        response = await api.http.get("/open311/v2/requests.json", params={"end_date": end})
        assert response.status_code == 400, (end, response.status_code, response.text[:200])
        [error] = response.json()
        assert error["code"] == 400 and " / " in error["description"], error
    await assert_still_serving(api.http)


async def test_a_refused_cors_preflight_answers_in_the_error_shape(api: Api) -> None:
    """Starlette's CORS middleware refuses in plain text: the answer is rewritten into the one
    error shape (400 ``cors_refused``, French / English); an allowed preflight is unchanged."""
    origin = "https://refused.example"
    for method, extra in (("DELETE", {}), ("GET", {"Access-Control-Request-Headers": "X-Evil"})):
        response = await api.http.options(
            "/v1/facilities",
            headers={"Origin": origin, "Access-Control-Request-Method": method, **extra},
        )
        assert_error(response, 400, "cors_refused")
    ok = await api.http.options(
        "/v1/facilities", headers={"Origin": origin, "Access-Control-Request-Method": "GET"}
    )
    assert ok.status_code == 200, ok.text
    assert ok.headers["access-control-allow-origin"] in {origin, "*"}
    await assert_still_serving(api.http)


async def test_a_10000_character_query_string_is_414(api: Api) -> None:
    """A query string past ``query_limit`` answers 414 before any route runs."""
    response = await api.http.get("/v1/facilities", params={"q": "x" * 10_000})
    assert_error(response, 414, "uri_too_long")
    response = await api.http.get("/", params={f"k{i}": "v" for i in range(2000)})
    assert_error(response, 414, "uri_too_long")
    await assert_still_serving(api.http)


# ── request bodies: limits before parsing and authentication ─────────────────────────────────


async def test_60_mb_anonymous_body_to_the_closure_route_is_413_and_memory_stays_flat(
    api_process: ProcessServer, settings: Settings
) -> None:
    """The issue's reproduction: an anonymous 60 MB JSON body to the closure route answers 413
    before authentication reads it (declared or chunked), and the API's RSS stays flat."""
    await wait_ready(api_process.http)
    pid = api_process.proc.pid
    async with httpx.AsyncClient(base_url=api_process.http, timeout=120.0) as http:
        await assert_still_serving(http)
        before = rss_mb(pid)

        async def body() -> AsyncIterator[bytes]:
            yield b'{"reason":"other","message":{"fr":"'
            for _ in range(60):
                yield b"x" * (1 << 20)
            yield b'"}}'

        size = 35 + 60 * (1 << 20) + 3
        for headers in ({"Content-Length": str(size)}, {}):  # declared, then chunked
            response = await http.post(
                f"/v1/facilities/{POOL}/closures",
                content=body(),
                headers={"Content-Type": "application/json", **headers},
            )
            assert "64 ko" in assert_error(response, 413, "too_large")
        after = rss_mb(pid)
        assert after < before + 50, (before, after)
        await assert_still_serving(http)


async def test_chunked_body_past_the_public_limit_is_413(api: Api) -> None:
    """``Transfer-Encoding: chunked`` without Content-Length is counted as it arrives."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"rating": 3, "liked": "'
        for _ in range(64):
            yield b"x" * 1024
        yield b'"}'

    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=chunks(),
        headers={"Content-Type": "application/json"},
    )
    assert "16 ko" in assert_error(response, 413, "too_large")
    await assert_still_serving(api.http)


async def test_agent_body_past_64_kib_is_413_even_with_a_valid_token(api: Api) -> None:
    """An authenticated agent's body past 64 KiB answers 413; one just below is parsed."""
    agent = token(api.settings, "agent", POOL)
    big = {"reason": "other", "message": {"fr": "x" * (70 * 1024)}}
    response = await api.http.post(
        f"/v1/facilities/{POOL}/closures", json=big, headers=bearer(agent)
    )
    assert_error(response, 413, "too_large")
    under = {"reason": "other", "message": {"fr": "x" * (60 * 1024)}}
    response = await api.http.post(
        f"/v1/facilities/{POOL}/closures", json=under, headers=bearer(agent)
    )
    assert "message.fr" in assert_error(response, 422)  # parsed, then refused: 500 characters
    await assert_still_serving(api.http)


async def test_a_body_on_a_get_is_413(api: Api) -> None:
    """Routes without a body refuse one (limit 0)."""
    response = await api.http.request("GET", "/v1/healthz", content=b"x" * 10)
    assert_error(response, 413, "too_large")
    await assert_still_serving(api.http)


async def test_deeply_nested_json_is_refused(api: Api) -> None:
    """JSON nested 5,000 deep within the size limit answers 4xx on public and agent routes."""
    nested = b'{"rating": 3, "liked": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=nested,
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422)
    agent = token(api.settings, "agent", POOL)
    response = await api.http.post(
        f"/v1/facilities/{POOL}/closures",
        content=b'{"reason": "other", "scope": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        headers={"Content-Type": "application/json", **bearer(agent)},
    )
    assert 400 <= response.status_code < 500
    assert_error(response, response.status_code)
    await assert_still_serving(api.http)


async def test_json_with_thousands_of_keys_within_the_limit_is_422(api: Api) -> None:
    """A JSON object with as many keys as the limit holds answers a bounded 422."""
    keys = b",".join(b'"k%d":0' % i for i in range(1400))
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=b'{"rating":3,' + keys + b"}",
        headers={"Content-Type": "application/json"},
    )
    assert len(response.content) < 256 * 1024
    assert_error(response, 422)
    agent = token(api.settings, "agent", POOL)
    keys = b",".join(b'"k%d":0' % i for i in range(5000))
    response = await api.http.post(
        f"/v1/facilities/{POOL}/closures",
        content=b'{"reason":"other",' + keys + b"}",
        headers={"Content-Type": "application/json", **bearer(agent)},
    )
    assert len(response.content) < 16 * 1024
    assert_error(response, 422)
    await assert_still_serving(api.http)


async def test_invalid_utf8_bodies_are_422(api: Api) -> None:
    """Invalid UTF-8 in a JSON or a form body answers 422, not 500."""
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=b'{"rating": 3, "liked": "\xff\xfe"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422)
    response = await api.http.post(
        "/v1/complaints",
        content=b'{"facility_id": "x", "rule": "welcome", "text": "\xc3\x28 bad bytes here"}',
        headers={"Content-Type": "application/json"},
    )
    assert_error(response, 422)
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=b"rating=3&liked=\xff\xfe",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 422
    await assert_still_serving(api.http)


async def test_wrong_content_types_are_4xx(api: Api) -> None:
    """A text/plain, XML or multipart body to a JSON route answers 4xx in the error shape."""
    agent = token(api.settings, "agent", POOL)
    for content_type, content in (
        ("text/plain", b'{"reason": "other"}'),
        ("application/xml", b"<closure/>"),
        ("multipart/form-data; boundary=x", b"--x\r\n\r\n--x--\r\n"),
    ):
        response = await api.http.post(
            f"/v1/facilities/{POOL}/closures",
            content=content,
            headers={"Content-Type": content_type, **bearer(agent)},
        )
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
        assert_error(response, response.status_code)
    response = await api.http.post(
        f"/v1/facilities/{POOL}/feedback",
        content=b"<survey/>",
        headers={"Content-Type": "application/xml"},
    )
    assert_error(response, 422)
    await assert_still_serving(api.http)


async def test_huge_headers_are_431(api: Api) -> None:
    """1 MB of headers answers 431 in the error shape (``header_limit``)."""
    response = await api.http.get("/v1/healthz", headers={"X-Big": "a" * (1 << 20)})
    assert_error(response, 431, "headers_too_large")
    many = {f"X-H{i}": "v" * 100 for i in range(500)}
    assert_error(await api.http.get("/", headers=many), 431, "headers_too_large")
    await assert_still_serving(api.http)


async def test_every_route_with_a_body_has_an_explicit_limit(api: Api) -> None:
    """Each POST/PATCH/PUT route of the OpenAPI document is in the limits table (not the
    default), and GETs take no body."""
    spec = (await api.http.get("/openapi.json")).json()
    for path, operations in spec["paths"].items():
        concrete = path.replace("{", "").replace("}", "")
        for method in operations:
            limit = body_limit(api.settings, method.upper(), concrete)
            if method.upper() in {"GET", "HEAD", "DELETE"}:
                assert limit == 0, path
            else:
                assert limit in {
                    api.settings.body_limit_public,
                    api.settings.body_limit_staff,
                }, (method, path)
    assert body_limit(api.settings, "POST", "/v1/facilities/x/closures") == 64 * 1024
    assert body_limit(api.settings, "POST", "/v1/complaints") == 16 * 1024


# ── static files and security headers ─────────────────────────────────────────────────────────


async def test_static_files_come_only_from_the_allow_list(api: Api) -> None:
    """The issue's reproductions: a NUL answers 422 (the control-character rule of every path
    parameter) and an encoded traversal to a template 404, both in the error shape; real assets
    are still served."""
    nul = await api.http.get("/static/pages/pages.css%00.js")
    assert "path.path" in assert_error(nul, 422, "invalid_parameter")  # the path-id rule
    for path in (
        "/static/pages/..%2ftemplates%2flayout.html",
        "/static/pages/..%2f..%2fapi%2fapp.py",
        "/static/templates/layout.html",
        "/static/feedback/layout.html",
        "/static/%2fetc%2fpasswd",
        "/static/pages%5c..%5ctemplates%5clayout.html",
        "/static/",
    ):
        response = await api.http.get(path)
        assert_error(response, 404, "not_found")
        assert "$main" not in response.text
    for path in ("/static/pages/pages.css", "/static/pages/agent.js", "/embed/card.js"):
        response = await api.http.get(path)
        assert response.status_code == 200, path
        assert response.headers["x-content-type-options"] == "nosniff"
    await assert_still_serving(api.http)


async def test_every_page_carries_csp_and_security_headers(api: Api) -> None:
    """Pages send a CSP with ``frame-ancestors 'self'`` and no inline script, nosniff and a
    Referrer-Policy; JSON answers carry nosniff and a Referrer-Policy too."""
    for path in (
        "/",
        f"/facilities/{POOL}",
        f"/screen/{POOL}",
        "/agent",
        "/ops",
        f"/feedback/{POOL}",
        "/inbox",
        "/complaints",
        "/transparence",
    ):
        response = await api.http.get(path)
        assert response.status_code == 200, path
        csp = dict(
            d.strip().partition(" ")[::2]
            for d in response.headers["content-security-policy"].split(";")
        )
        assert csp["frame-ancestors"] == "'self'", path
        assert csp["script-src"] == "'self'", path
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] in {
            "strict-origin-when-cross-origin",
            "same-origin",
            "no-referrer",
        }
    for path in ("/v1/healthz", f"/v1/facilities/{POOL}", "/v1/nowhere"):
        response = await api.http.get(path)
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    card = await api.http.get("/embed/card.js", headers={"Origin": "https://www.paris.fr"})
    assert card.status_code == 200
    assert card.headers["access-control-allow-origin"] in {"*", "https://www.paris.fr"}
    assert "x-frame-options" not in card.headers


# ── closures: cap and outbox relay ────────────────────────────────────────────────────────────


async def test_one_closure_more_than_the_cap_is_409(api: Api) -> None:
    """With ``max_active_closures`` in force, one more answers 409 (FR/EN); ending one frees
    a place."""
    pool = cast().pool_a
    agent = token(api.settings, "agent", pool.id)
    created = []
    for _ in range(MAX_CLOSURES):
        response = await declare(api.http, pool.id, agent)
        assert response.status_code == 201, response.text
        created.append(response.json()["closure_id"])
    message = assert_error(await declare(api.http, pool.id, agent), 409, "too_many_closures")
    assert f"au plus {MAX_CLOSURES}" in message and f"at most {MAX_CLOSURES}" in message
    ended = await api.http.post(f"/v1/closures/{created[0]}/end", headers=bearer(agent))
    assert ended.status_code == 200
    assert (await declare(api.http, pool.id, agent)).status_code == 201
    await assert_still_serving(api.http)


async def test_a_poison_outbox_row_is_dead_lettered_and_does_not_block_the_relay(
    api: Api,
) -> None:
    """An outbox row whose event no longer decodes goes to dead-letters with its reason and is
    marked; the row queued behind it is still relayed."""
    pool = cast().pool_a
    created = (await declare(api.http, pool.id, token(api.settings, "agent", pool.id))).json()
    (event,) = [e for (e,) in await rows(api.settings, "SELECT event FROM closure_outbox")]
    lost = {**event, "id": "lost-" + event["id"]}
    poison = {"id": "poison-1", "type": event["type"], "subject": pool.id, "data": {"x": 1}}
    async with await connect(api.settings, autocommit=True) as conn:
        for doc, age in ((poison, "2 minutes"), (lost, "1 minute")):
            await conn.execute(
                "INSERT INTO closure_outbox (event_id, facility_id, closure_id, event, created_at) "
                "VALUES (%s, %s, %s, %s, now() - %s::interval)",
                (doc["id"], pool.id, created["closure_id"], Jsonb(doc), age),
            )
    await api.server.ctx.closure_bus.relay_once()  # or the relay's own loop, whichever locks first

    async def relayed() -> bool:
        return not await rows(
            api.settings, "SELECT 1 FROM closure_outbox WHERE published_at IS NULL"
        )

    await wait_until(
        relayed, within=20, what="the relay to get past the poison (it stayed blocked)"
    )
    events = await closure_events(api.settings, created["closure_id"], expect=2)
    assert lost["id"] in {e["id"] for _, e in events}
    letter = await dead_letter(api.settings, "poison-1")
    assert letter["topic"] == "closure_outbox" and letter["reason"]
    assert letter["key"] == pool.id
    await assert_still_serving(api.http)


async def dead_letter(settings: Settings, needle: str, within: float = 15.0) -> dict[str, Any]:
    """The first dead letter whose payload mentions ``needle``."""
    consumer = AIOKafkaConsumer(
        settings.topic(contract.DEAD_LETTERS),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    letter: dict[str, Any] = orjson.loads(record.value)
                    if needle in letter["payload"]:
                        return letter
    finally:
        await consumer.stop()
    raise AssertionError(f"no dead letter about {needle}")
