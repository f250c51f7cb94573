"""The queue-wait forecast and the directory's « dans 1 h » as people see them, in Chromium.

A town hall with three weeks of crowd and queue-wait history (written as ``paris-live simulate
--history`` writes it; its elections desk never reported) is forecast by one round of the job at
11:00 on a working day; the browser's clock says 11:05. Then:

* its page shows, per queue service, « Attente prévue à 12 h : ~N min (prévision) » under
  « Attente prévue aux guichets », the waits' measured error, and why the elections desk has none;
* its lobby screen says it compactly — « Attente prévue à 12 h (prévision) » then each service
  and its wait on one row — in French then English, nothing cut;
* the directory (town halls) shows « Dans 1 h : … » with the « prévision » tag on its card, read
  for the whole page in one request;
* axe-core (colour contrast included) finds no violation at all on any of them, and nothing
  scrolls sideways at 320 px. Screenshots: ``test-artifacts/forecast/``.

And through the live stack: tickets sent through Kafka become wait minutes in ``queue_wait_1m``
by the worker's own history writer.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import redis.asyncio as aioredis

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import write_history, write_queue_history
from producers.queue_history import queue_history
from schemas import topics
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from schemas.holidays import is_public_holiday
from schemas.hours import OpeningHours
from streams.forecast.build import open_row
from streams.forecast.job import ForecastJob
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import ARTIFACTS, AXE_DIR, run_axe
from tests.journeys.journeykit import (
    DESKTOP,
    LANDSCAPE,
    NARROW,
    PORTRAIT,
    Journey,
    clipped,
    horizontal_overflow,
    scroll_to,
    visible_count,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

SHOTS = ARTIFACTS / "forecast"
SERVICES = {"reception": "Accueil et orientation", "civil-status": "État civil"}


def _round_time() -> dt.datetime:
    """11:00 (Paris) of the latest working day up to today."""
    day = dt.datetime.now(PARIS).date()
    while day.weekday() >= 5 or is_public_holiday(day):
        day -= dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(11, 0), tzinfo=PARIS)


def _town_hall(day: dt.date) -> Facility:
    """A town hall with the reception, civil-status and elections desks, open 11:00–15:00."""
    for facility in load_catalogue().by_type("town_hall"):
        hours = OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))
        queues = [s.service_id for s in facility.services if s.queue]
        if queues == ["reception", "civil-status", "elections"] and np.all(
            open_row(hours, day, 1)[11 * 4 : 15 * 4]
        ):
            return facility
    raise AssertionError("the catalogue needs a town hall open 11:00–15:00 on a working day")


async def _forecast_town_hall(settings: Settings) -> tuple[Facility, dt.datetime]:
    at = _round_time()
    town_hall = _town_hall(at.date())
    first = at.date() - dt.timedelta(days=21)
    await write_history(settings, occupancy_history([town_hall], first, 22, seed=9), at)
    await write_queue_history(settings, queue_history([town_hall], first, 22, seed=9), at)
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute("DELETE FROM queue_wait_1m WHERE service_id = 'elections'")
    stats = await ForecastJob(settings, clock=lambda: at).run_once()
    assert stats.waits == 2
    return town_hall, at


async def _open(browser: Any, url: str, viewport: dict[str, int], at: dt.datetime) -> Any:
    context = await browser.new_context(
        viewport=viewport, timezone_id="Europe/Paris", locale="fr-FR"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    await page.clock.set_fixed_time(at + dt.timedelta(minutes=5))
    await page.goto(url)
    return page


async def _shot(page: Any, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    await page.screenshot(path=str(path))
    return path


async def _no_violation(page: Any, name: str) -> None:
    """axe-core finds nothing at all (not only nothing serious)."""
    assert await run_axe(page, name) == []
    assert json.loads((AXE_DIR / f"{name}.json").read_text(encoding="utf-8")) == []


async def _sees_the_waits(page: Any) -> None:
    """The page: one visible line per queue service — the two with history forecast at 12 h,
    labelled, the elections desk says why it has none; the waits' measured error below."""
    waits = page.locator("section.forecast .fc-waits")
    await waits.wait_for(state="visible")
    assert await visible_count(page.locator("section.forecast .fc-wait")) == 3
    assert (await waits.locator("h3").inner_text()).startswith("Attente prévue aux guichets")
    for service_id, name in SERVICES.items():
        line = waits.locator(f'.fc-wait[data-service="{service_id}"]')
        text = " ".join((await line.inner_text()).split())
        assert text.startswith(f"{name} — Attente prévue à 12 h : "), text
        assert text.endswith(("min (prévision)", "pas d'attente (prévision)")), text
    elections = waits.locator('.fc-wait[data-service="elections"]')
    said = " ".join((await elections.inner_text()).split())
    assert said.startswith("Élections — Pas encore assez d'historique"), said
    accuracy = await waits.locator(".fc-accuracy").inner_text()
    assert "Attentes prévues — erreur moyenne" in accuracy and "min à 1" in accuracy


async def _sees_the_waits_on_the_screen(page: Any) -> None:
    """The screen, compact: « Attente prévue à 12 h (prévision) » then English once, each
    service with its wait on one row, the elections desk without forecast, the measured error."""
    waits = page.locator("section.forecast .fc-waits")
    await waits.wait_for(state="visible")
    assert await visible_count(page.locator("section.forecast .fc-wait")) == 3
    head = " ".join((await waits.locator("h3").inner_text()).split())
    assert head == "Attente prévue à 12 h (prévision) Expected wait at 12:00 (forecast)", head
    for service_id, name in SERVICES.items():
        line = waits.locator(f'.fc-wait[data-service="{service_id}"]')
        text = " ".join((await line.inner_text()).split())
        assert text.startswith(f"{name} ") and ("min" in text or "pas d'attente" in text), text
    elections = waits.locator('.fc-wait[data-service="elections"]')
    assert " ".join((await elections.inner_text()).split()) == (
        "Élections pas de prévision no forecast"
    )
    accuracy = " ".join((await waits.locator(".fc-accuracy").inner_text()).split())
    assert accuracy.startswith("Attentes prévues — erreur moyenne") and "mean error" in accuracy


async def test_the_card_and_the_screen_of_a_town_hall_show_each_service_wait(
    browser: Any, city_api: InProcessServer, db: Settings, redis_client: aioredis.Redis
) -> None:
    """The town hall's page (desktop, then 320 px) and its lobby screen: the wait forecast per
    service, labelled as a forecast with its measured error; axe-core finds nothing."""
    town_hall, at = await _forecast_town_hall(db)
    page = await _open(browser, f"{city_api.http}/facilities/{town_hall.id}", DESKTOP, at)
    journey = Journey("forecast-waits-card", page)
    await _sees_the_waits(page)
    await scroll_to(page.locator("section.forecast .fc-waits"))
    await journey.step("l'attente prévue par guichet sur la fiche de la mairie")
    await _shot(page, "waits-card-desktop")
    await _no_violation(page, "forecast-waits-card")
    await page.context.close()
    assert not page.errors, page.errors

    page = await _open(browser, f"{city_api.http}/facilities/{town_hall.id}", NARROW, at)
    await _sees_the_waits(page)
    assert await horizontal_overflow(page) == 0
    await scroll_to(page.locator("section.forecast .fc-waits"))
    await _shot(page, "waits-card-320")
    await _no_violation(page, "forecast-waits-card-320")
    await page.context.close()
    assert not page.errors, page.errors

    now = at + dt.timedelta(minutes=4)
    status = make_status(
        town_hall,
        10**9,
        open_state="open",
        closures=[],
        occupancy=None,
        today_hours=[{"opens": "08:30", "closes": "17:00"}],
        queues=[
            {"service_id": s, "length": 3, "wait_minutes": 12.0, "measured_at": now.isoformat()}
            for s in ("reception", "civil-status", "elections")
        ],
        appointments=[],
        last_data_at=now.isoformat(),
    )
    assert await put_status(redis_client, db, status) == 1
    for name, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page = await _open(browser, f"{city_api.http}/screen/{town_hall.id}", viewport, at)
        await _sees_the_waits_on_the_screen(page)
        journey = Journey(f"forecast-waits-screen-{name}", page)
        await journey.step("l'attente prévue sur l'écran d'accueil")
        await _shot(page, f"waits-screen-{name}")
        assert await clipped(page, ".panel, .s-main, .s-foot") == []
        await _no_violation(page, f"forecast-waits-screen-{name}")
        await page.context.close()
        assert not page.errors, page.errors


async def test_the_directory_cards_say_how_busy_in_one_hour(
    browser: Any, city_api: InProcessServer, db: Settings
) -> None:
    """The town halls of the directory: the forecast one says « Dans 1 h : … » with the
    « prévision » tag, visible on its card; the forecasts of the whole page come in one request."""
    town_hall, at = await _forecast_town_hall(db)
    context = await browser.new_context(
        viewport=DESKTOP, timezone_id="Europe/Paris", locale="fr-FR"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    reads: list[str] = []
    page.on("request", lambda r: reads.append(r.url) if "/v1/forecast" in r.url else None)
    await page.clock.set_fixed_time(at + dt.timedelta(minutes=5))
    await page.goto(f"{city_api.http}/?type=town_hall")
    note = page.locator(f"#f-{town_hall.id} .fc-card")
    await note.wait_for(state="visible")
    text = " ".join((await note.inner_text()).split())
    assert text.startswith("Dans 1 h : ") and text.endswith("prévision"), text
    assert len(text) > len("Dans 1 h : prévision") + 3, text
    assert await visible_count(page.locator("li.facility .fc-card")) == 1
    assert len(reads) == 1 and "/v1/forecasts?" in reads[0], reads
    await scroll_to(note)
    await Journey("forecast-waits-directory", page).step("« dans 1 h » sur la carte de l'annuaire")
    await _shot(page, "directory-card")
    await _no_violation(page, "forecast-directory-cards")
    await context.close()
    assert not errors, errors


async def test_tickets_through_kafka_and_the_worker_become_wait_minutes(
    live_stack: Any,
) -> None:
    """Tickets issued at a town hall's civil-status desk, sent through Kafka like the ticket
    machines send them: the worker's history writer rolls the desk's wait up into
    ``queue_wait_1m`` — the minutes the wait forecast learns from."""
    facility = next(
        f
        for f in load_catalogue().by_type("town_hall")
        if any(s.service_id == "civil-status" and s.queue for s in f.services)
    )
    now = dt.datetime.now(PARIS)
    records = []
    for n in range(6):
        event = make_event(
            EventType.TICKET_ISSUED,
            facility.id,
            {"service_id": "civil-status", "ticket_id": f"E{n:03d}"},
            source=f"/tickets/{facility.id}/civil-status",
            time=now - dt.timedelta(seconds=30 - n),
        )
        records.append((topics.TICKETS, facility.id.encode(), event.to_json()))
    await live_stack.send(records)
    found: list[tuple[Any, ...]] = []
    for _ in range(120):  # the worker flushes its history every second or so
        async with await connect(live_stack.settings) as conn:
            cur = await conn.execute(
                "SELECT service_id, wait_avg, length_max, samples FROM queue_wait_1m "
                "WHERE facility_id = %s",
                (facility.id,),
            )
            found = list(await cur.fetchall())
        if found:
            break
        await asyncio.sleep(0.5)
    assert found, "no wait minute stored"
    [(service_id, wait, length, samples)] = found
    # However the worker cut its batches, a recorded status saw 1 to 6 tickets waiting.
    assert service_id == "civil-status" and wait >= 0 and 1 <= length <= 6 and samples >= 1
