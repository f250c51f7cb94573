"""The démarches pages in Chromium: search a procedure in everyday words, see its délais as steps,
whom to ask and where to go with the live figures — in French and English, accessible, at 320 px."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import expect

from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe, screenshot
from tests.journeys.journeykit import NARROW, horizontal_overflow, visible_count

pytestmark = [pytest.mark.browser, pytest.mark.integration]

HALL = "mairie-15"


def _paris(days: int, hour: int, minute: int) -> datetime:
    """That Paris-local time, ``days`` days from today (DST-correct)."""
    day = datetime.now(PARIS).date() + timedelta(days=days)
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


async def _hall_with_a_slot(
    redis: aioredis.Redis,
    settings: Settings,
    *,
    slot: datetime | None = None,
    wait: float = 25.0,
    waiting: int = 6,
    seq: int = 10**9,
    served: tuple[float, float] | None = None,
) -> datetime:
    """Mairie du 15e open, people waiting at the identity desk, a slot in two days at 10:30
    (Paris); the other town halls publish no slot, so it is the soonest."""
    now = datetime.now(UTC)
    slot = slot or _paris(2, 10, 30)
    for other in load_catalogue().by_type("town_hall"):
        if other.id != HALL:
            assert await put_status(redis, settings, make_status(other, seq, open_state="closed"))
    raw = make_status(
        load_catalogue().get(HALL),
        seq,
        open_state="open",
        stale=False,
        queues=[
            {
                "service_id": "identity-documents",
                "length": waiting,
                "wait_minutes": wait,
                "measured_at": now.isoformat(),
                **(
                    {
                        "served_within": {
                            "p50_minutes": served[0],
                            "p90_minutes": served[1],
                            "method": "queue_model",
                        }
                    }
                    if served
                    else {}
                ),
            }
        ],
        appointments=[
            {
                "service_id": "identity-documents",
                "next_available_at": slot.isoformat(),
                "delay_days": 2.0,
            }
        ],
    )
    assert await put_status(redis, settings, raw)
    return slot


async def _no_violations(page: Any, name: str) -> None:
    """axe-core (colour contrast included) finds nothing at all, whatever the impact."""
    await run_axe(page, name)
    violations = json.loads((AXE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    assert violations == [], violations


async def test_identity_document_page_in_french(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """The passport page shows the délais, the three steps in order, whom to contact, the soonest
    slot (Mairie du 15e) with its queue, and the way to complain about a délai not kept."""
    await _hall_with_a_slot(redis_client, settings)
    await page.goto(f"{city_api.http}/demarches/identity-document")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Obtenir une carte d'identité ou un passeport"
    )
    steps = page.locator(".timeline > li")
    assert await visible_count(steps) == 3
    await expect(steps.nth(1)).to_contain_text("sur rendez-vous")
    soonest = page.locator(".soonest")
    await expect(soonest).to_be_visible()
    await expect(soonest).to_contain_text("Prochain créneau")
    await expect(soonest).to_contain_text("Mairie du 15e arrondissement")
    await expect(soonest).to_contain_text("10:30")
    await expect(page.get_by_text("Délai total", exact=True)).to_be_visible()
    await expect(page.get_by_text("Pas encore de délai mesuré")).to_be_visible()
    # nothing measured: the total is an estimate, « environ », never « en moyenne »
    total = page.locator(".key-figures dd").first
    await expect(total).to_have_text(re.compile(r"^environ \d+ jours estimé$"))
    hall = page.locator(".place", has=page.get_by_role("link", name="Mairie du 15e arrondissement"))
    await expect(hall).to_contain_text("Ouvert")
    await expect(hall).to_contain_text("Attente : environ 25 min (6 personnes avant vous)")
    assert await visible_count(page.locator(".place")) == len(load_catalogue().by_type("town_hall"))
    contacts = page.locator(".competent > li")
    await expect(contacts.filter(has_text="Faire une réclamation")).to_be_visible()
    await expect(contacts.filter(has_text="ants.gouv.fr")).to_be_visible()
    complain = page.get_by_role("link", name="Ce délai n'a pas été tenu ?")
    await expect(complain).to_be_visible()
    assert "procedure=identity-document" in (await complain.get_attribute("href") or "")
    await screenshot(page, "demarches-identity-document-fr")
    await _no_violations(page, "demarches-identity-document-fr")


async def test_identity_document_page_in_english(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """The same page in English: titles, délais and live figures in English."""
    await _hall_with_a_slot(redis_client, settings)
    await page.goto(f"{city_api.http}/demarches/identity-document?lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Getting an identity card or a passport"
    )
    await expect(page.locator(".soonest")).to_contain_text("Next slot")
    await expect(page.locator(".key-figures dd").first).to_have_text(
        re.compile(r"^about \d+ days estimated$")
    )
    await expect(page.get_by_role("heading", name="Where to go")).to_be_visible()
    await expect(page.get_by_role("link", name="Was this time limit not met?")).to_be_visible()
    hall = page.locator(".place", has=page.get_by_role("link", name="Mairie du 15e arrondissement"))
    await expect(hall).to_contain_text("Wait: about 25 min (6 people ahead of you)")
    await screenshot(page, "demarches-identity-document-en")
    await _no_violations(page, "demarches-identity-document-en")


async def test_searching_passeport_finds_the_identity_document(
    page: Any, city_api: InProcessServer
) -> None:
    """Typing « passeport » in the search box shows one démarche, the identity document."""
    await page.goto(f"{city_api.http}/demarches")
    assert await visible_count(page.locator(".procedure")) == 16
    await page.get_by_label("Que voulez-vous faire ?").fill("passeport")
    await page.get_by_role("button", name="Rechercher").click()
    await expect(page.get_by_role("status")).to_have_text("1 démarche trouvée")
    assert await visible_count(page.locator(".procedure")) == 1
    result = page.get_by_role("link", name="Obtenir une carte d'identité ou un passeport")
    await expect(result).to_be_visible()
    await screenshot(page, "demarches-search-passeport")
    await _no_violations(page, "demarches-search-passeport")
    await result.click()
    await expect(page).to_have_url(f"{city_api.http}/demarches/identity-document")


async def test_creche_is_answered_as_not_covered_yet(page: Any, city_api: InProcessServer) -> None:
    """« crèche » gets a clear "not covered here yet" and the paris.fr page that covers it."""
    await page.goto(f"{city_api.http}/demarches?q=cr%C3%A8che")
    await expect(
        page.get_by_role("heading", name="Crèches et modes de garde : pas encore couvert ici")
    ).to_be_visible()
    link = page.get_by_role("link", name="Crèches et modes de garde — paris.fr")
    await expect(link).to_be_visible()
    assert (await link.get_attribute("href") or "").startswith("https://www.paris.fr/pages/")


async def test_pages_fit_a_320_px_phone(page: Any, city_api: InProcessServer) -> None:
    """No horizontal scroll at 320 px on the list, a search and the busiest démarche."""
    await page.set_viewport_size(NARROW)
    for path in (
        "/demarches",
        "/demarches?q=passeport",
        "/demarches/identity-document",
        "/demarches/change-of-use?lang=en",
    ):
        await page.goto(f"{city_api.http}{path}")
        await expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert await horizontal_overflow(page) == 0, path


async def test_the_footer_leads_to_the_demarches(page: Any, city_api: InProcessServer) -> None:
    """Every page's footer has a « Démarches » link to the démarches page."""
    await page.goto(f"{city_api.http}/")
    link = page.get_by_role("contentinfo").get_by_role("link", name="Démarches", exact=True)
    await expect(link).to_be_visible()
    await link.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Démarches à la Ville de Paris")


async def test_a_delay_not_kept_leads_to_a_prefilled_complaint_that_is_filed(
    page: Any, city_api: InProcessServer, kafka_topics: Settings
) -> None:
    """« Ce délai n'a pas été tenu ? » opens the complaint form on the délais rule, the
    processing-time topic and a text naming the démarche; once the town hall is chosen, the
    complaint is filed and its reference shown."""
    await page.goto(f"{city_api.http}/demarches/identity-document")
    await page.get_by_role("link", name="Ce délai n'a pas été tenu ?").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Faire une réclamation")
    await expect(page.locator("input[name=rule][value=delays]")).to_be_checked()
    await expect(page.locator("#f-topic")).to_have_value("processing")
    text = page.locator("#f-text")
    await expect(text).to_be_visible()
    await expect(text).to_have_value("Démarche : Obtenir une carte d'identité ou un passeport — ")
    await page.locator("#f-facility").select_option(HALL)
    await text.press("End")
    await text.type("titre toujours pas prêt après 60 jours.")
    await screenshot(page, "demarches-complaint-prefilled")
    await page.locator("form.feedback-form button[type=submit]").click()
    await expect(page.locator(".receipt .reference")).to_be_visible()


async def test_the_page_follows_the_live_figures(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """When the identity desk of the Mairie du 15e gets busier and a sooner slot opens, the page
    shows the new wait and the new slot without reloading."""
    await _hall_with_a_slot(redis_client, settings)
    await page.goto(f"{city_api.http}/demarches/identity-document?lang=en")
    hall = page.locator(".place", has=page.get_by_role("link", name="Mairie du 15e arrondissement"))
    await expect(hall).to_contain_text("Wait: about 25 min (6 people ahead of you)")
    await _hall_with_a_slot(
        redis_client, settings, slot=_paris(1, 8, 15), wait=40.0, waiting=9, seq=10**9 + 1
    )
    await expect(hall).to_contain_text("Wait: about 40 min (9 people ahead of you)")
    await expect(hall).to_contain_text("08:15")
    await expect(page.locator(".soonest")).to_contain_text("Mairie du 15e arrondissement")
    await expect(page.locator(".soonest")).to_contain_text("08:15")


async def test_one_search_answers_procedures_and_facilities(
    page: Any, city_api: InProcessServer
) -> None:
    """« piscine » shows the pool démarche and, below, pools to go to; an unknown démarche is a
    404 page of the site."""
    await page.goto(f"{city_api.http}/demarches?q=piscine")
    await expect(page.get_by_role("link", name="Aller à la piscine")).to_be_visible()
    hits = page.locator(".facility-hits li")
    assert await visible_count(hits) == 5
    await expect(hits.first).to_contain_text("Piscine")
    response = await page.goto(f"{city_api.http}/demarches/passeport-lunaire")
    assert response.status == 404
    await expect(page.get_by_role("heading", level=1)).to_be_visible()


async def test_time_to_be_served_is_one_figure_with_how_it_is_computed(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Where the queue carries a time-to-be-served estimate, the place shows that one figure
    (median and 90 % bound, said to be an estimate) instead of the average wait, explains how it
    is computed on demand, and follows it live."""
    await _hall_with_a_slot(redis_client, settings, served=(12.0, 25.0))
    await page.goto(f"{city_api.http}/demarches/identity-document")
    hall = page.locator(".place", has=page.get_by_role("link", name="Mairie du 15e arrondissement"))
    await expect(hall).to_contain_text(
        "Servi dans environ 12 min, au plus 25 min pour 9 personnes sur 10 "
        "(6 personnes avant vous) — estimation"
    )
    await expect(hall).not_to_contain_text("Attente : environ")
    how = page.get_by_text("Temps avant d'être servi : comment est-ce calculé ?")
    explanation = page.get_by_text("la durée récente d'un passage au guichet", exact=False)
    await expect(explanation).to_be_hidden()
    await how.click()
    await expect(explanation).to_be_visible()
    await _hall_with_a_slot(redis_client, settings, served=(18.0, 40.0), waiting=9, seq=10**9 + 1)
    await expect(hall).to_contain_text("Servi dans environ 18 min, au plus 40 min")
    await _no_violations(page, "demarches-served-within")


async def test_the_whole_demarche_as_one_figure_to_plan_with(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """« Au total, à prévoir »: the shortest time to be served now + the soonest appointment +
    the processing délai (committed here: no case measured), each said for what it is."""
    await _hall_with_a_slot(redis_client, settings, served=(12.0, 25.0))
    await page.goto(f"{city_api.http}/demarches/identity-document")
    total = page.locator(".expected")
    await expect(total).to_be_visible()
    await expect(total).to_contain_text("Au total, à prévoir")
    await expect(total).to_contain_text(
        "environ 12 min d'attente au guichet le plus rapide (estimation) + rendez-vous dans 2 jours"
    )
    await expect(total).to_contain_text("de traitement (engagement)")
    await page.goto(f"{city_api.http}/demarches/identity-document?lang=en")
    await expect(page.locator(".expected")).to_contain_text("In all, plan for")
