"""A lobby screen as people in the lobby see it, standing up (1080×1920) and on its side
(1920×1080): open → crowded → exceptionally closed → reopened, and a town hall with its three
queues and next appointments. At every step the screen is readable (axe-core with colour contrast:
0 violations), nothing is cut (no panel's content larger than its box, nothing outside the window)
and nothing contradicts the state (no crowd count while closed; the closure, its reason, its
expected reopening and the nearest open facility of the same type shown while closed; all gone
once reopened)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from schemas import topics
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from streams.core.machine import FacilityMachine
from tests.api.api_testkit import InProcessServer, closure_status, put_status
from tests.dashboards.dashboards_testkit import AXE_SUMMARY, run_axe
from tests.journeys.conftest import LiveStack
from tests.journeys.journeykit import LANDSCAPE, PORTRAIT, Journey, clipped, visible_texts
from tests.streams.streams_testkit import Record

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PANELS = ".panel, .s-head, .s-main, .s-foot, #banner"
"""What must never be cut (``.s-main``: the panels together must not run under the footer)."""
FORMATS = {"portrait": PORTRAIT, "landscape": LANDSCAPE}
WATER = {
    "fr": "Bassins fermés : analyse de la qualité de l'eau en cours.",
    "en": "Pools closed: water quality testing.",
}


async def _screens(browser: Any, url: str, name: str) -> dict[str, Journey]:
    """One lobby screen per format, in Paris time and French."""
    journeys = {}
    for fmt, viewport in FORMATS.items():
        context = await browser.new_context(
            viewport=viewport, timezone_id="Europe/Paris", locale="fr-FR"
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        page.errors = errors
        await page.goto(url)
        await page.locator("body[data-seq]").wait_for(state="attached")
        journeys[fmt] = Journey(f"{name}-{fmt}", page)
    return journeys


async def _close(journeys: dict[str, Journey]) -> None:
    for journey in journeys.values():
        assert not journey.page.errors, f"JavaScript errors: {journey.page.errors}"
        await journey.page.context.close()


SMALLEST_TEXT_JS = """() => {
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  let smallest = Infinity, where = "";
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    if (!node.textContent.trim() || !el.checkVisibility()) continue;
    const size = parseFloat(getComputedStyle(el).fontSize);
    if (size < smallest) { smallest = size; where = node.textContent.trim().slice(0, 40); }
  }
  return [smallest, where];
}"""
MIN_TEXT = 0.022
"""The smallest text, as a share of the screen's short side: 24 px of 1080, letters about 12 mm
tall on a 55-inch screen — what reads from 3 m."""


async def _readable(journey: Journey, label: str) -> None:
    """axe-core finds nothing (contrast included), nothing is cut, no text too small to read
    from 3 m; then the screenshot."""
    page = journey.page
    await page.wait_for_timeout(100)  # let a render triggered by the last update settle
    name = f"{journey.name}-{label}"
    await run_axe(page, name)
    assert sum(AXE_SUMMARY[name]["violations"].values()) == 0, AXE_SUMMARY[name]
    assert await clipped(page, PANELS) == [], f"{name}: clipped"
    smallest, where = await page.evaluate(SMALLEST_TEXT_JS)
    short_side = min(page.viewport_size["width"], page.viewport_size["height"])
    assert smallest >= MIN_TEXT * short_side - 0.5, f"{name}: {smallest:.1f} px « {where} »"
    await journey.step(label)


async def _wait_state(journey: Journey, state: str) -> None:
    body = journey.page.locator(f"body[data-state='{state}']")
    await body.wait_for(state="attached", timeout=30_000)


async def _check_open(journey: Journey, label: str, count: int) -> None:
    page = journey.page
    figure = page.locator("#crowd .count strong", has_text=re.compile(f"^{count}$"))
    await figure.wait_for(timeout=30_000)
    assert await page.locator("#crowd").is_visible()
    assert await page.locator("#closures").is_hidden()
    await _readable(journey, label)


async def _check_closed(journey: Journey, label: str, facility: Facility) -> None:
    page = journey.page
    await _wait_state(journey, "exceptionally_closed")
    await page.locator("#nearby").wait_for(timeout=15_000)
    closure = page.locator("#closures")
    assert await closure.is_visible()
    text = await closure.inner_text()
    assert "Fermé exceptionnellement" in text and "Qualité de l'eau" in text
    assert WATER["fr"] in text and "Réouverture prévue" in text
    assert await page.locator("#crowd").is_hidden()
    assert await page.locator("#queues").is_hidden()
    shown = " ".join(await visible_texts(page.locator(".panel")))
    assert "personnes" not in shown and " min" not in shown, shown  # no crowd, no wait
    nearby = page.locator("#nearby")
    assert await nearby.is_visible()
    near = await nearby.inner_text()
    if facility.type == "pool":
        assert "Piscine ouverte la plus proche" in near
    assert " m" in near or " km" in near  # a name and its distance
    await _readable(journey, label)


def _headcount(facility_id: str, headcount: int, at: dt.datetime) -> Record:
    event = make_event(
        EventType.HEADCOUNT_MEASURED,
        facility_id,
        {"sensor_id": "capteur-1", "headcount": headcount},
        source=f"/sensors/{facility_id}/capteur-1",
        time=at,
    )
    return (topics.HEADCOUNTS, facility_id.encode(), event.to_json())


def _closure(facility_id: str, kind: EventType, data: dict[str, Any], at: dt.datetime) -> Record:
    event = make_event(kind, facility_id, data, source=f"/agents/{facility_id}", time=at)
    return (topics.CLOSURES, facility_id.encode(), event.to_json())


def _open_for_a_while(minutes: int = 30) -> list[Facility]:
    """Facilities with a capacity that are open now and stay so (no timer) for ``minutes``;
    pools first."""
    now = dt.datetime.now(PARIS)
    found = []
    for facility in load_catalogue():
        if not facility.capacity:
            continue
        machine = FacilityMachine(facility)
        machine.tick(now)
        wakeup = machine.next_wakeup()
        if machine.status().open_state == "open" and (
            wakeup is None or wakeup > now + dt.timedelta(minutes=minutes)
        ):
            found.append(facility)
    return sorted(found, key=lambda f: (f.type != "pool", f.id))


@pytest.fixture
def open_now() -> list[Facility]:
    """Facilities open now for a while, pools first — decided before the stack starts."""
    candidates = _open_for_a_while()
    if not candidates:
        pytest.skip(
            "no facility of the catalogue is open at this hour (the worker's schedule "
            "reads the wall clock); test_lobby_screen_states_at_any_hour covers the screen"
        )
    return candidates


async def test_lobby_screen_through_the_stack_open_crowded_closed_reopened(
    open_now: list[Facility], browser: Any, live_stack: LiveStack
) -> None:
    """Events through Kafka, the worker, Redis and the API: a head count (open), a crowd near
    capacity, a closure for water quality declared then ended — the portrait and landscape
    screens follow, readable, uncut and never contradictory."""
    # the first open facility (pools first) with another open one of its type to suggest
    pairs = [(f, [o for o in open_now if o.type == f.type and o.id != f.id][:3]) for f in open_now]
    paired = [(f, others) for f, others in pairs if others]
    if not paired:
        pytest.skip("no two facilities of one type are open at this hour; the any-hour test runs")
    facility, others = paired[0]
    assert facility.capacity is not None
    now = dt.datetime.now(PARIS)
    quiet = round(facility.capacity * 0.2)
    await live_stack.send(
        [_headcount(facility.id, quiet, now)] + [_headcount(f.id, 10, now) for f in others]
    )
    journeys = await _screens(browser, f"{live_stack.http}/screen/{facility.id}", "screen-live")
    for journey in journeys.values():
        await _check_open(journey, "open", quiet)

    crowd = round(facility.capacity * 0.95)
    await live_stack.send([_headcount(facility.id, crowd, dt.datetime.now(PARIS))])
    for journey in journeys.values():
        await _check_open(journey, "crowded", crowd)
        levels = await visible_texts(journey.page.locator("#crowd .level"))
        assert any("Forte affluence" in t or "Complet" in t for t in levels), levels

    at = dt.datetime.now(PARIS)
    closure = {
        "closure_id": "clo-journey-1",
        "scope": {"kind": "facility"},
        "reason": "water_quality",
        "message": WATER,
        "starts_at": at,
        "expected_reopening_at": at + dt.timedelta(hours=2),
        "declared_by": "agent-journey",
    }
    await live_stack.send([_closure(facility.id, EventType.CLOSURE_DECLARED, closure, at)])
    for journey in journeys.values():
        await _check_closed(journey, "exceptionally-closed", facility)

    ended = {"closure_id": "clo-journey-1", "ended_by": "agent-journey"}
    back = dt.datetime.now(PARIS)
    await live_stack.send(
        [
            _closure(facility.id, EventType.CLOSURE_ENDED, ended, back),
            _headcount(facility.id, 10, back + dt.timedelta(seconds=1)),  # the first swimmers
        ]
    )
    for journey in journeys.values():
        await _wait_state(journey, "open")
        await journey.page.locator("#closures").wait_for(state="hidden")
        await _check_open(journey, "reopened", 10)
    await _close(journeys)


# ── The same states at any hour: statuses written as the stream sinks write them ─────────────


def _doc(raw: bytes) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(raw)
    return doc


async def _publish(redis: aioredis.Redis, settings: Settings, doc: dict[str, Any]) -> None:
    doc["updated_at"] = dt.datetime.now(PARIS).isoformat()
    await put_status(redis, settings, orjson.dumps(doc))


def _opened(doc: dict[str, Any], now: dt.datetime) -> dict[str, Any]:
    """The status as it reads while open now (hours around now, fresh data)."""
    opens = (now - dt.timedelta(hours=2)).strftime("%H:00") if now.hour >= 2 else "00:00"
    return dict(
        doc,
        open_state="open",
        today_hours=[{"opens": opens, "closes": "24:00"}],
        next_change_at=None,
        closures=[],
        stale=False,
        last_data_at=now.isoformat(),
    )


def _occupancy(count: int, capacity: int, level: str, now: dt.datetime) -> dict[str, Any]:
    return {
        "count": count,
        "capacity": capacity,
        "ratio": round(count / capacity, 3),
        "level": level,
        "trend": "rising",
        "measured_at": now.isoformat(),
        "source": "headcount",
    }


async def test_lobby_screen_states_at_any_hour(
    browser: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    city: list[bytes],
) -> None:
    """The Piscine Pontoise screen, portrait and landscape, open → crowded → closed for water
    quality (no count; banner, reason, reopening; the nearest open pool and its distance) →
    reopened (banner gone, crowd back) → closed for the night (no count, the open pools
    suggested): readable, uncut, at any hour of the day."""
    now = dt.datetime.now(PARIS).replace(microsecond=0)
    docs = {d["facility_id"]: d for d in map(_doc, city)}
    pools = [
        d for d in docs.values() if d["type"] == "pool" and d["facility_id"] != "piscine-pontoise"
    ]
    for doc in pools:  # the other pools are open: something to suggest
        await _publish(redis_client, settings, dict(_opened(doc, now), seq=doc["seq"] + 1))
    pool = _opened(docs["piscine-pontoise"], now)
    seq = pool["seq"]

    async def show(**changes: Any) -> None:
        nonlocal seq
        seq += 1
        await _publish(redis_client, settings, dict(pool, seq=seq, **changes))
        for journey in journeys.values():
            await journey.page.locator(f"body[data-seq='{seq}']").wait_for(
                state="attached", timeout=15_000
            )

    journeys = await _screens(browser, f"{city_api.http}/screen/piscine-pontoise", "screen")
    await show(occupancy=_occupancy(80, 350, "low", now))
    for journey in journeys.values():
        await _check_open(journey, "open", 80)
    await show(occupancy=_occupancy(275, 350, "high", now))
    for journey in journeys.values():
        await _check_open(journey, "crowded", 275)

    closure = closure_status("clo-water", "water_quality", WATER, now, declared_by="agent-4821")
    await show(
        open_state="exceptionally_closed",
        closures=[closure],
        occupancy=_occupancy(275, 350, "high", now),  # the worker's last count, not to be shown
    )
    catalogue = load_catalogue()
    for journey in journeys.values():
        await _check_closed(journey, "exceptionally-closed", catalogue.get("piscine-pontoise"))

    await show(occupancy=_occupancy(12, 350, "low", now))
    for journey in journeys.values():
        await _wait_state(journey, "open")
        await _check_open(journey, "reopened", 12)

    await show(open_state="closed", occupancy=_occupancy(3, 350, "low", now))
    for journey in journeys.values():  # closed for the night: no count left on the screen
        page = journey.page
        await _wait_state(journey, "closed")
        await page.locator("#nearby").wait_for(timeout=15_000)  # the pools still open
        assert await page.locator("#crowd").is_hidden()
        shown = " ".join(await visible_texts(page.locator(".panel")))
        assert "personnes" not in shown and " min" not in shown, shown
        assert "Piscine ouverte la plus proche" in shown
        await _readable(journey, "closed-for-the-night")
    await _close(journeys)


async def test_town_hall_screen_shows_every_queue_and_next_appointment(
    browser: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    city: list[bytes],
) -> None:
    """A town hall's screen shows its three queues (wait and people in line) and the next
    appointment of each bookable service (délai and date), portrait and landscape, nothing cut."""
    now = dt.datetime.now(PARIS).replace(microsecond=0)
    doc = next(d for d in map(_doc, city) if d["facility_id"] == "mairie-5")
    queues = [
        {"service_id": s, "length": n, "wait_minutes": w, "measured_at": now.isoformat()}
        for s, n, w in (("reception", 4, 6.0), ("civil-status", 11, 25.0), ("elections", 2, 3.0))
    ]
    appointments = [
        {
            "service_id": s,
            "next_available_at": (now + dt.timedelta(days=d))
            .replace(hour=9, minute=30)
            .isoformat(),
            "delay_days": d,
        }
        for s, d in (("civil-status", 5), ("housing", 18), ("identity-documents", 36))
    ]
    await _publish(
        redis_client,
        settings,
        dict(_opened(doc, now), seq=doc["seq"] + 1, queues=queues, appointments=appointments),
    )
    journeys = await _screens(browser, f"{city_api.http}/screen/mairie-5", "screen-town-hall")
    for journey in journeys.values():
        page = journey.page
        await page.locator(f"body[data-seq='{doc['seq'] + 1}']").wait_for(state="attached")
        waits = await visible_texts(page.locator("#queues li"))
        assert len(waits) == 3, waits
        assert any("État civil" in w and "25" in w and "11 en file" in w for w in waits), waits
        booked = await visible_texts(page.locator("#appointments li"))
        assert len(booked) == 3, booked
        assert any("passeports" in b and "dans 36 j" in b for b in booked), booked
        await _readable(journey, "three-queues")
    await _close(journeys)
