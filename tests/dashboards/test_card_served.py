"""The card and the lobby screen show one « time to be served » figure (median and the bound for
9 people in 10, an estimate) with how it is computed, the charter's promises (« Nos
engagements ») with the survey and the complaint form, and — on the card — the démarches done at
the facility, each leading to its page; French and English, axe-clean, nothing cut."""

from __future__ import annotations

import datetime as dt
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer, put_status
from tests.dashboards.dashboards_testkit import AXE_SUMMARY, run_axe, screenshot
from tests.journeys.journeykit import (
    LANDSCAPE,
    NARROW,
    PORTRAIT,
    clipped,
    horizontal_overflow,
    visible_count,
    visible_texts,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CARD = "paris-facility-card article"
TOWN_HALL = "mairie-5"
IDENTITY = {
    "fr": "Obtenir une carte d'identité ou un passeport",
    "en": "Getting an identity card or a passport",
}
SERVED = {
    "fr": "Servi dans environ 12 min, au plus 25 min pour 9 personnes sur 10 "
    "(11 personnes avant vous) — estimation",
    "en": "Served in about 12 min, at most 25 min for 9 people in 10 "
    "(11 people ahead of you) — estimate",
}


async def _town_hall_served(
    redis: aioredis.Redis, settings: Settings, city: list[bytes]
) -> dict[str, Any]:
    """The town hall open now, its civil-status queue with a time to be served, reception
    without one (no ticket served yet: the average wait stays)."""
    now = dt.datetime.now(PARIS).replace(microsecond=0)
    doc: dict[str, Any] = next(d for d in map(orjson.loads, city) if d["facility_id"] == TOWN_HALL)
    opens = (now - dt.timedelta(hours=2)).strftime("%H:00") if now.hour >= 2 else "00:00"
    served = {"p50_minutes": 12.4, "p90_minutes": 24.6, "method": "queue_model"}
    status = dict(
        doc,
        seq=doc["seq"] + 1,
        open_state="open",
        today_hours=[{"opens": opens, "closes": "24:00"}],
        next_change_at=None,
        closures=[],
        stale=False,
        updated_at=now.isoformat(),
        last_data_at=now.isoformat(),
        queues=[
            {
                "service_id": "civil-status",
                "length": 11,
                "wait_minutes": 20.0,
                "measured_at": now.isoformat(),
                "served_within": served,
            },
            {
                "service_id": "reception",
                "length": 2,
                "wait_minutes": 4.0,
                "measured_at": now.isoformat(),
                "served_within": None,
            },
        ],
    )
    await put_status(redis, settings, orjson.dumps(status))
    return status


async def test_one_facility_lists_the_demarches_done_there(city_api: InProcessServer) -> None:
    """GET /v1/facilities/{id} names, in its catalogue, the démarches done there ({id, title});
    a pool has its own, not the town hall's."""
    async with httpx.AsyncClient(base_url=city_api.http) as http:
        town_hall = (await http.get(f"/v1/facilities/{TOWN_HALL}")).json()
        pool = (await http.get("/v1/facilities/piscine-pontoise")).json()
    demarches = town_hall["catalogue"]["demarches"]
    assert {"id": "identity-document", "title": IDENTITY} in demarches
    assert [d["id"] for d in pool["catalogue"]["demarches"]] == ["pool-visit"]


async def _card(page: Any, url: str, seq: int) -> Any:
    await page.goto(url)
    card = page.locator(f"{CARD}[data-seq='{seq}']")
    await card.wait_for()
    await card.locator(".demarches").wait_for()  # the REST item (catalogue) has arrived
    return card


async def test_card_shows_time_to_be_served_promises_and_demarches(
    page: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    city: list[bytes],
) -> None:
    """A town hall's card: the time to be served (median, 90 % bound, « estimation ») where the
    queue has one, the average wait where not; « comment est-ce calculé ? » opens to the
    explanation; the four promises with the survey and complaint links; the démarches done
    there, each to its page; the same in English; axe-clean; no horizontal scroll at 320 px."""
    status = await _town_hall_served(redis_client, settings, city)
    card = await _card(page, f"{city_api.http}/facilities/{TOWN_HALL}", status["seq"])
    queues = await visible_texts(card.locator("section[aria-label='Attente'] li"))
    assert any(SERVED["fr"] in q and "État civil" in q for q in queues), queues
    assert any("4 min d'attente" in q for q in queues), queues  # no estimate: today's words

    how = card.locator("details.how")
    explanation = how.get_by_text("À partir de la file en direct")
    assert await how.get_by_text("Temps avant d'être servi : comment est-ce calculé ?").is_visible()
    assert not await explanation.is_visible()
    await how.locator("summary").click()
    assert await explanation.is_visible()

    promises = card.locator("section.promises")
    assert await promises.get_by_role("heading", name="Nos engagements").is_visible()
    assert await visible_count(promises.locator("li")) == 4
    assert await promises.get_by_text("Vous orienter vers le service compétent").is_visible()
    feedback = promises.get_by_role("link", name="Donner mon avis")
    complaint = promises.get_by_role("link", name="Faire une réclamation")
    assert await feedback.is_visible() and await complaint.is_visible()
    href = await feedback.get_attribute("href") or ""
    assert href.endswith(f"/feedback/{TOWN_HALL}?channel=web"), href
    href = await complaint.get_attribute("href") or ""
    assert href.endswith(f"/complaints?facility={TOWN_HALL}"), href
    assert (await page.request.get(href)).ok

    demarches = card.locator("section.demarches")
    assert await demarches.get_by_role("heading", name="Démarches faites ici").is_visible()
    identity = demarches.get_by_role("link", name=IDENTITY["fr"])
    assert await identity.is_visible()
    assert (await identity.get_attribute("href") or "").endswith("/demarches/identity-document")
    assert await visible_count(demarches.locator("a")) >= 5
    await screenshot(page, "card-served-fr")
    assert await run_axe(page, "card-served-fr") == []
    assert sum(AXE_SUMMARY["card-served-fr"]["violations"].values()) == 0

    await page.set_viewport_size(NARROW)
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-served-fr-320")

    english = await _card(page, f"{city_api.http}/facilities/{TOWN_HALL}?lang=en", status["seq"])
    texts = await visible_texts(english.locator("section[aria-label='Waiting time'] li"))
    assert any(SERVED["en"] in q for q in texts), texts
    assert all(" : " not in q for q in texts), texts  # « Civil status: Served … », no French colon
    assert await english.get_by_text("Time to be served: how is it computed?").is_visible()
    assert await english.get_by_role("heading", name="Our commitments").is_visible()
    link = english.get_by_role("link", name=IDENTITY["en"])
    assert await link.is_visible()
    assert (await link.get_attribute("href") or "").endswith("/demarches/identity-document?lang=en")
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-served-en-320")
    await link.click()
    await page.wait_for_url("**/demarches/identity-document?lang=en")
    assert await page.get_by_role("heading", name=IDENTITY["en"]).first.is_visible()


async def test_screen_shows_time_to_be_served_and_the_promise(
    browser: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    city: list[bytes],
) -> None:
    """The town hall's lobby screen, portrait and landscape: « Servi dans environ » 12 min, at
    most 25 for 9 people in 10, marked as an estimate; the promises beside the QR code; axe
    0 violations and nothing cut."""
    status = await _town_hall_served(redis_client, settings, city)
    for name, viewport in (("portrait", PORTRAIT), ("landscape", LANDSCAPE)):
        context = await browser.new_context(
            viewport=viewport, timezone_id="Europe/Paris", locale="fr-FR"
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error, errors=errors: errors.append(str(error)))
        await page.goto(f"{city_api.http}/screen/{TOWN_HALL}")
        await page.locator(f"body[data-seq='{status['seq']}']").wait_for(state="attached")
        panel = page.locator("#queues")
        assert await panel.get_by_text("Servi dans environ").is_visible()
        rows = await visible_texts(panel.locator("li"))
        assert any(
            "État civil" in r and "12 min" in r and "au plus 25 min pour 9 personnes sur 10" in r
            for r in rows
        ), rows
        assert any("Accueil" in r and "4 min" in r and "2 en file" in r for r in rows), rows
        assert await panel.get_by_text("Estimation, pas un engagement").is_visible()
        promise = page.locator("#promise")
        assert await promise.is_visible()
        assert "Nos engagements" in await promise.inner_text()
        assert await page.locator(".qr-code svg").count() == 1  # the survey's QR, no other
        label = f"screen-served-{name}"
        await run_axe(page, label)
        assert sum(AXE_SUMMARY[label]["violations"].values()) == 0, AXE_SUMMARY[label]
        cut = await clipped(page, ".panel, .s-head, .s-main, .s-foot, #promise")
        assert cut == [], f"{label}: {cut}"
        await screenshot(page, label, full_page=False)
        assert not errors, errors
        await context.close()


async def test_one_person_ahead_is_said_in_the_singular(
    page: Any, city_api: InProcessServer
) -> None:
    """« (1 personne avant vous) », « (0 personne avant vous) » (French: 0 and 1 are singular),
    « (1 person ahead of you) »: the card read « 0 personnes » beside « 0 personne »."""
    await page.goto(f"{city_api.http}/")
    said = await page.evaluate(
        """async () => {
          const { TEXT } = await import("/embed/card.js");
          return [0, 1, 2].flatMap((n) => [TEXT.fr.served(12, 25, n), TEXT.en.served(12, 25, n)]);
        }"""
    )
    assert [s.split("(")[1].split(")")[0] for s in said] == [
        "0 personne avant vous",
        "0 people ahead of you",
        "1 personne avant vous",
        "1 person ahead of you",
        "2 personnes avant vous",
        "2 people ahead of you",
    ]
    # the next appointment's distance in calendar days of Paris: at 21:50 on Friday 4 December,
    # a slot on Saturday at 11:30 (0.6 of a day away) is « demain », not « aujourd'hui »
    days = await page.evaluate(
        """async () => {
          const { TEXT, daysUntil } = await import("/embed/card.js");
          const now = new Date("2026-12-04T21:50:00+01:00");
          const slots = ["2026-12-04T23:30:00+01:00", "2026-12-05T11:30:00+01:00",
                         "2026-12-09T09:00:00+01:00"];
          return slots.flatMap((s) => [TEXT.fr.inDays(daysUntil(s, now)),
                                       TEXT.en.inDays(daysUntil(s, now))]);
        }"""
    )
    assert days == ["aujourd'hui", "today", "demain", "tomorrow", "dans 5 j", "in 5 days"]
