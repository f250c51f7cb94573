"""Karim needs a passport: from the words he types to the soonest slot, through the whole stack —
booking systems and case events through Kafka, the stream worker, Redis and PostgreSQL, the API
and the démarche's page, which follows the slots as they are published."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from schemas import topics
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.events import EventType, make_event
from tests.dashboards.dashboards_testkit import screenshot
from tests.journeys.conftest import LiveStack
from tests.journeys.journeykit import PHONE, Journey, horizontal_overflow
from tests.streams.streams_testkit import Record
from tests.testkit import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HALLS = {f.id: f for f in load_catalogue().by_type("town_hall")}
FIRST, SECOND = HALLS["mairie-15"], HALLS["mairie-7"]


def _paris(days: int, hour: int, minute: int) -> dt.datetime:
    day = dt.datetime.now(PARIS).date() + dt.timedelta(days=days)
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=PARIS)


def _slots(facility_id: str, at: dt.datetime) -> Record:
    event = make_event(
        EventType.SLOTS_PUBLISHED,
        facility_id,
        {"service_id": "identity-documents", "next_available_at": at, "free_slots_7d": 4},
        source=f"/booking/{facility_id}",
        time=dt.datetime.now(PARIS),
    )
    return (topics.SLOTS, facility_id.encode(), event.to_json())


def _case(facility_id: str, kind: EventType, case_id: str, at: dt.datetime) -> Record:
    event = make_event(
        kind,
        facility_id,
        {"procedure_id": "identity-card", "case_id": case_id},
        source=f"/cases/{facility_id}",
        time=at,
    )
    return (topics.CASES, facility_id.encode(), event.to_json())


async def test_karim_finds_the_passport_and_the_soonest_slot_live(
    live_stack: LiveStack, page: Any
) -> None:
    """Karim types « passeport » on a phone, opens the démarche and sees the Mairie du 15e's
    slot as the soonest; when the Mairie du 7e publishes an earlier one, the page says so
    without reloading. The délai measured on the cases closed through the stack is shown."""
    now = dt.datetime.now(PARIS)
    first_slot, sooner = _paris(3, 14, 0), _paris(1, 9, 45)
    await live_stack.send(
        [
            _slots(FIRST.id, first_slot),
            _case(FIRST.id, EventType.CASE_OPENED, "c1", now - dt.timedelta(days=12)),
            _case(FIRST.id, EventType.CASE_OPENED, "c2", now - dt.timedelta(days=20)),
            _case(FIRST.id, EventType.CASE_CLOSED, "c1", now - dt.timedelta(days=2)),
            _case(FIRST.id, EventType.CASE_CLOSED, "c2", now - dt.timedelta(days=2)),
        ]
    )

    async def measured() -> bool:
        async with httpx.AsyncClient(base_url=live_stack.http) as client:
            body = (await client.get("/v1/procedures/identity-document")).json()
        return bool(body["soonest_appointment"]) and body["total_delay"]["measured"]["cases"] == 2

    await wait_until(measured, within=60, what="the slot and the two cases through the stack")

    await page.set_viewport_size(PHONE)
    journey = Journey("demarches-passport", page)
    await page.goto(f"{live_stack.http}/demarches")
    await page.get_by_label("Que voulez-vous faire ?").fill("passeport")
    journey.act()
    await page.get_by_role("button", name="Rechercher").click()
    journey.act()
    result = page.get_by_role("link", name="Obtenir une carte d'identité ou un passeport")
    await expect(result).to_be_visible()
    await journey.step("« passeport » finds the identity document")
    await result.click()
    journey.act()

    soonest = page.locator(".soonest")
    await expect(soonest).to_contain_text(FIRST.name)
    await expect(soonest).to_contain_text("14:00")
    await expect(
        page.get_by_text("Mesuré sur les 90 derniers jours : 14 jours en médiane")
    ).to_be_visible()
    assert await horizontal_overflow(page) == 0
    await journey.step("the soonest slot and the measured délai")

    await live_stack.send([_slots(SECOND.id, sooner)])
    await expect(soonest).to_contain_text(SECOND.name)
    await expect(soonest).to_contain_text("09:45")
    second = page.locator(".place", has=page.get_by_role("link", name=SECOND.name))
    await expect(second).to_contain_text("Prochain rendez-vous")
    await journey.step("a sooner slot at the Mairie du 7e, live")
    await screenshot(page, "demarches-journey-soonest-live")
    assert journey.interactions <= 4
