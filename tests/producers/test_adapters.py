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
from tests.producers.producer_testkit import ReadBack

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
    await asyncio.sleep(1.5)  # the second ends, the flusher publishes
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


async def test_agent_button_declares_then_ends_a_closure(
    publisher: Publisher, read_back: ReadBack
) -> None:
    """An agent's button press closes the facility with a reason; a second press reopens it."""
    runner, client = await _client(ButtonAdapter(publisher, FACILITIES, token="s3cret").app())
    auth = {"Authorization": "Bearer s3cret"}
    async with client:
        anonymous = await client.post("/button", json={"facility_id": "piscine-a"})
        declared = await client.post(
            "/button",
            json={"facility_id": "piscine-a", "reason": "water_quality", "minutes": 90},
            headers=auth,
        )
        closure_id = declared.json()["closure_id"]
        ended = await client.post(
            "/button/end", json={"facility_id": "piscine-a", "closure_id": closure_id}, headers=auth
        )
    await runner.cleanup()
    assert anonymous.status_code == 401
    assert declared.status_code == 201
    assert ended.status_code == 202
    found = await read_back([topics.CLOSURES], 2, 10.0)
    kinds = [c.event["type"].rsplit(".", 1)[1] for c in found]
    assert kinds == ["declared", "ended"]
    assert {c.event["data"]["closure_id"] for c in found} == {closure_id}
    data = found[0].event["data"]
    assert data["reason"] == "water_quality"
    assert "qualité de l'eau" in data["message"]["fr"]
