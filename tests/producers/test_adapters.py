"""Device adapters end to end: real TCP/HTTP in, real Kafka out; bad input refused, counted."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from icalendar import Calendar, Event
from prometheus_client import REGISTRY

from api.app import create_app
from paris_live.settings import Settings
from producers.adapters.booking import BookingAdapter, parse_ical_availability
from producers.adapters.button import ButtonAdapter
from producers.adapters.gate import GateAdapter
from producers.adapters.http import bound_port, serve
from producers.adapters.sensor import SensorAdapter
from producers.adapters.tickets import TicketAdapter
from producers.publisher import Publisher, PublisherOptions
from schemas import topics
from schemas.catalogue import load_catalogue
from tests.api.agents_testkit import bearer, cast, closure_events, rows, token
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.producers.producer_testkit import ReadBack
from tests.testkit import wait_until

FACILITIES = {"piscine-a", "piscine-b", "mairie-a"}


@pytest.fixture
async def publisher(kafka_topics: Settings, tmp_path: Path) -> AsyncIterator[Publisher]:
    options = PublisherOptions(name="adapter-test", spool_path=tmp_path / "spool.sqlite3")
    async with Publisher(kafka_topics, options) as pub:
        yield pub


async def _client(app: web.Application) -> tuple[web.AppRunner, httpx.AsyncClient]:
    runner = await serve(app, "127.0.0.1", 0)
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{bound_port(runner)}")
    return runner, client


def _rejected(adapter: str, reason: str) -> float:
    value = REGISTRY.get_sample_value(
        "paris_live_producer_input_rejected_total", {"adapter": adapter, "reason": reason}
    )
    return value or 0.0


def _flows(found: list) -> Counter[tuple[str, str, str]]:  # type: ignore[type-arg]
    flows: Counter[tuple[str, str, str]] = Counter()
    for c in found:
        data = c.event["data"]
        flows[(c.key, data["gate_id"], data["direction"])] += data["count"]
    return flows


async def test_gate_over_tcp_batches_passages_and_skips_bad_lines(
    publisher: Publisher, read_back: ReadBack
) -> None:
    """Turnstile lines over TCP become summed passages; bad lines are counted, not fatal."""
    adapter = GateAdapter(publisher, FACILITIES, flush_s=0.1)
    stop = asyncio.Event()
    flusher = asyncio.create_task(adapter.run_flusher(stop))
    server = await adapter.serve_tcp("127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    before = _rejected("gate", "bad_direction")
    _, writer = await asyncio.open_connection("127.0.0.1", port)
    lines = ["piscine-a g1 in"] * 5 + ["piscine-a g1 out 2"] * 2
    lines += ["piscine-a g1 sideways", "piscine-zzz g1 in", "# comment"]
    lines += ["piscine-b g2 in 3 2026-06-02T12:00:00+02:00", "piscine-a g1 in"]
    writer.write("".join(f"{line}\n" for line in lines).encode())
    await writer.drain()
    writer.close()
    await wait_until(  # every line read, and the flusher published once their second ended
        lambda: adapter.accepted + adapter.rejected == 12 and len(adapter.batcher) == 0,
        within=10,
        every=0.02,
        what="the gate adapter to read and flush the lines",
    )
    stop.set()
    await flusher
    assert (adapter.accepted, adapter.rejected) == (10, 2)
    assert _rejected("gate", "bad_direction") == before + 1
    found = await read_back([topics.PASSAGES], 3, 10.0)
    assert _flows(found) == {
        ("piscine-a", "g1", "in"): 6,
        ("piscine-a", "g1", "out"): 4,
        ("piscine-b", "g2", "in"): 3,
    }
    assert len(found) <= 5  # batched: one event per gate, direction and second
    b = next(c for c in found if c.key == "piscine-b")
    assert dt.datetime.fromisoformat(str(b.event["time"])) == dt.datetime(
        2026, 6, 2, 10, 0, tzinfo=dt.UTC
    )


async def test_gate_over_http_answers_line_by_line(
    publisher: Publisher, read_back: ReadBack
) -> None:
    """HTTP passages are in Kafka when the 202 comes back; rejected lines are listed."""
    runner, client = await _client(GateAdapter(publisher, FACILITIES).app())
    async with client:
        ok = await client.post(
            "/passages", content="piscine-a g1 in 2\npiscine-a g1 up\nmairie-a e1 out\n"
        )
        bad = await client.post("/passages", content="nothing valid here\n")
        as_json = await client.post(
            "/passages", json=[{"facility_id": "mairie-a", "gate_id": "e1", "direction": "in"}]
        )
    await runner.cleanup()
    assert ok.status_code == 202
    assert ok.json()["accepted"] == 2
    assert ok.json()["rejected"] == [
        {"line": 2, "reason": "bad_direction", "message": "direction must be in or out, not 'up'"}
    ]
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "malformed_input"
    assert as_json.status_code == 202
    found = await read_back([topics.PASSAGES], 3, 10.0)
    assert _flows(found) == {
        ("piscine-a", "g1", "in"): 2,
        ("mairie-a", "e1", "out"): 1,
        ("mairie-a", "e1", "in"): 1,
    }


async def test_sensor_push_and_its_errors(publisher: Publisher, read_back: ReadBack) -> None:
    """A sensor reading lands on facility-headcounts; a negative count is refused with 400."""
    runner, client = await _client(SensorAdapter(publisher, FACILITIES).app())
    async with client:
        ok = await client.post(
            "/headcounts",
            json={"facility_id": "piscine-a", "sensor_id": "c1", "headcount": 212},
        )
        bad = await client.post(
            "/headcounts",
            json=[
                {"facility_id": "piscine-a", "sensor_id": "c1", "headcount": 3},
                {"facility_id": "piscine-a", "sensor_id": "c1", "headcount": -1},
            ],
        )
        garbage = await client.post("/headcounts", content=b"{not json")
    await runner.cleanup()
    assert ok.status_code == 202
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "invalid_value"
    assert bad.json()["error"]["index"] == 1
    assert garbage.status_code == 400
    assert garbage.json()["error"]["code"] == "bad_json"
    (reading,) = await read_back([topics.HEADCOUNTS], 1, 10.0)  # nothing of the refused call
    assert reading.key == "piscine-a"
    assert reading.event["data"] == {"sensor_id": "c1", "headcount": 212}


async def test_tickets_check_the_service_queue(publisher: Publisher, read_back: ReadBack) -> None:
    """A ticket for a service without a queue is refused; a good one is published."""
    catalogue = load_catalogue()
    hall = catalogue.by_type("town_hall")[0]
    queue = next(s.service_id for s in hall.services if s.queue)
    runner, client = await _client(TicketAdapter(publisher, catalogue).app())
    async with client:
        ok = await client.post(
            "/tickets",
            json={
                "facility_id": hall.id,
                "service_id": queue,
                "ticket_id": "A042",
                "action": "issued",
            },
        )
        bad = await client.post(
            "/tickets",
            json={
                "facility_id": hall.id,
                "service_id": "nope",
                "ticket_id": "A1",
                "action": "issued",
            },
        )
    await runner.cleanup()
    assert ok.status_code == 202
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "unknown_service"
    (ticket,) = await read_back([topics.TICKETS], 1, 10.0)
    assert ticket.event["type"] == "fr.paris.facilities.ticket.issued"
    assert ticket.key == hall.id


async def test_booking_webhook_publishes_changes_only(
    publisher: Publisher, read_back: ReadBack
) -> None:
    """The same availability twice gives one event; a change gives another."""
    runner, client = await _client(BookingAdapter(publisher, FACILITIES).app())
    availability: dict[str, Any] = {
        "facility_id": "mairie-a",
        "services": [
            {
                "service_id": "identity-documents",
                "next_available_at": "2026-07-15T09:30:00+02:00",
                "free_slots_7d": 0,
            }
        ],
    }
    answers = []
    async with client:
        for _ in range(2):
            answers.append((await client.post("/slots", json=availability)).json()["published"])
        availability["services"][0]["next_available_at"] = "2026-07-10T14:00:00+02:00"
        answers.append((await client.post("/slots", json=availability)).json()["published"])
    await runner.cleanup()
    assert answers == [1, 0, 1]
    found = await read_back([topics.SLOTS], 2, 10.0)
    assert [dt.datetime.fromisoformat(c.event["data"]["next_available_at"]) for c in found] == [
        dt.datetime(2026, 7, 15, 7, 30, tzinfo=dt.UTC),
        dt.datetime(2026, 7, 10, 12, 0, tzinfo=dt.UTC),
    ]


def test_ical_feed_of_free_slots() -> None:
    """From an iCal feed of free slots: the next one after now, and how many within 7 days."""
    now = dt.datetime(2026, 6, 2, 10, 0, tzinfo=dt.UTC)
    calendar = Calendar()
    for days in (-1, 2, 3, 12):
        event = Event()
        event.add("dtstart", now + dt.timedelta(days=days))
        event.add("dtend", now + dt.timedelta(days=days, minutes=15))
        event.add("summary", "Créneau libre")
        calendar.add_component(event)
    availability = parse_ical_availability(calendar.to_ical(), "mairie-a", "passports", now)
    assert availability.next_available_at == now + dt.timedelta(days=2)
    assert availability.free_slots_7d == 2


@pytest.fixture
async def closures_api(kafka_topics: Settings, db: Settings) -> AsyncIterator[InProcessServer]:
    """The real API (as ``api_server`` runs it) on this test's topics, Redis and schema."""
    server = InProcessServer(create_app(fast_hub(kafka_topics)), kafka_topics)
    await server.start()
    yield server
    await server.stop()


async def _audit(api: InProcessServer, facility_id: str) -> list[dict[str, Any]]:
    supervisor = token(api.settings, "supervisor", facility_id)
    async with httpx.AsyncClient(base_url=api.http, timeout=10.0) as client:
        page = await client.get(
            "/v1/audit", params={"facility": facility_id}, headers=bearer(supervisor)
        )
    assert page.status_code == 200, page.text
    items: list[dict[str, Any]] = page.json()["items"]
    return items


async def test_button_press_is_one_audited_closure_through_the_api(
    closures_api: InProcessServer, settings: Settings
) -> None:
    """A press declares a closure through the API (audited, on facility-closures); pressing
    twice (same press id, or within seconds without one) is still one closure; end reopens."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id, subject="bouton.pontoise")
    adapter = ButtonAdapter(closures_api.http, agent)
    runner, client = await _client(adapter.app())
    press = {"facility_id": pool.id, "reason": "water_quality", "minutes": 90, "press_id": "p-1"}
    async with client:
        before = dt.datetime.now(dt.UTC)
        first = await client.post("/button", json=press)
        again = await client.post("/button", json=press)
        bare = {"facility_id": pool.id, "reason": "technical_failure", "minutes": 30}
        double = [await client.post("/button", json=bare) for _ in range(2)]
        closure_id = first.json()["closure_id"]
        ended = await client.post("/button/end", json={"closure_id": closure_id})
    await runner.cleanup()

    assert first.status_code == 201, first.text
    body = first.json()
    assert body["facility_id"] == pool.id
    assert body["declared_by"] == "bouton.pontoise"
    assert "qualité de l'eau" in body["message"]["fr"]
    reopening = dt.datetime.fromisoformat(body["expected_reopening_at"])
    assert dt.timedelta(minutes=89) < reopening - before < dt.timedelta(minutes=91)
    assert again.status_code == 201 and again.json() == body
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [r.status_code for r in double] == [201, 201], double[0].text
    assert double[0].json()["closure_id"] == double[1].json()["closure_id"] != closure_id
    assert ended.status_code == 200, ended.text
    assert ended.json()["ended_at"] is not None

    stored = await rows(settings, "SELECT closure_id FROM closures WHERE facility_id = %s", pool.id)
    assert sorted(r[0] for r in stored) == sorted({closure_id, double[0].json()["closure_id"]})
    trail = await _audit(closures_api, pool.id)
    assert Counter((e["action"], e["closure_id"]) for e in trail) == Counter(
        {
            ("closure.declared", closure_id): 1,
            ("closure.declared", double[0].json()["closure_id"]): 1,
            ("closure.ended", closure_id): 1,
        }
    )
    assert {e["actor"] for e in trail} == {"bouton.pontoise"}
    events = await closure_events(settings, closure_id, expect=2)
    assert [e["type"].rsplit(".", 1)[1] for _, e in events] == ["declared", "ended"]
    assert {key for key, _ in events} == {pool.id}


async def test_button_relays_the_api_refusals(
    closures_api: InProcessServer, settings: Settings
) -> None:
    """The API's refusals reach the button as they are: another facility's token is 403, no
    token 401, an unknown reason 422; a press the adapter cannot read is its own 400."""
    cast_ = cast()
    other = token(settings, "agent", cast_.pool_b.id)
    runner, client = await _client(ButtonAdapter(closures_api.http, other).app())
    anonymous_runner, anonymous = await _client(ButtonAdapter(closures_api.http).app())
    async with client, anonymous:
        forbidden = await client.post("/button", json={"facility_id": cast_.pool_a.id})
        unknown = await client.post(
            "/button", json={"facility_id": cast_.pool_b.id, "reason": "aliens"}
        )
        no_token = await anonymous.post("/button", json={"facility_id": cast_.pool_a.id})
        own_token = await anonymous.post(
            "/button", json={"facility_id": cast_.pool_b.id}, headers=bearer(other)
        )
        bad_minutes = await client.post(
            "/button", json={"facility_id": cast_.pool_b.id, "minutes": "soon"}
        )
        end_unknown = await client.post("/button/end", json={"closure_id": "nope"})
    await runner.cleanup()
    await anonymous_runner.cleanup()

    assert forbidden.status_code == 403
    assert forbidden.json()["error"]["code"] == "forbidden"
    assert cast_.pool_a.id in forbidden.json()["error"]["message"]
    assert no_token.status_code == 401
    assert unknown.status_code == 422
    assert own_token.status_code == 201, own_token.text
    assert bad_minutes.status_code == 400
    assert bad_minutes.json()["error"]["code"] == "invalid_value"
    assert end_unknown.status_code == 404
    assert end_unknown.json()["error"]["code"] == "unknown_closure"
    stored = await rows(settings, "SELECT facility_id FROM closures")
    assert stored == [(cast_.pool_b.id,)]


async def test_button_says_503_when_the_api_is_down(
    closures_api: InProcessServer, settings: Settings
) -> None:
    """With the API stopped, a press answers 503 « API injoignable » instead of vanishing; the
    same press id once the API is back is one closure."""
    pool = cast().pool_a
    agent = token(settings, "agent", pool.id)
    press = {"facility_id": pool.id, "reason": "staff_shortage", "press_id": "p-down"}
    await closures_api.stop()
    runner, client = await _client(ButtonAdapter(closures_api.http, agent).app())
    async with client:
        down = await client.post("/button", json=press)
    await runner.cleanup()
    assert down.status_code == 503
    error = down.json()["error"]
    assert error["code"] == "api_unreachable"
    assert error["message"].startswith("API injoignable, réessayez")
    assert down.headers["Retry-After"] == "2"

    back = InProcessServer(create_app(fast_hub(closures_api.settings)), closures_api.settings)
    await back.start()
    try:
        runner, client = await _client(ButtonAdapter(back.http, agent).app())
        async with client:
            answers = [await client.post("/button", json=press) for _ in range(2)]
        await runner.cleanup()
    finally:
        await back.stop()
    assert [a.status_code for a in answers] == [201, 201], answers[0].text
    assert answers[0].json() == answers[1].json()
    assert len(await rows(settings, "SELECT 1 FROM closures")) == 1
