"""The public card in Chromium: live within a second, French or English, stale in words,
closures with reason and reopening, and one script tag embedding it in someone else's page."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from playwright.async_api import expect

from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import screenshot
from tests.journeys.journeykit import visible_count

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CARD = "paris-facility-card article"


async def stored(redis: aioredis.Redis, settings: Settings, facility_id: str) -> dict[str, Any]:
    raw = await redis.hget(settings.key("facility", facility_id), "json")
    assert raw is not None
    doc: dict[str, Any] = orjson.loads(raw)
    return doc


async def test_card_follows_every_status_change(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A change written to Redis (as the stream workers write it) shows on an open card, each
    one in turn (how fast is bench/e2e's to measure). At any hour: the status is made open."""
    await page.goto(f"{city_api.http}/facilities/piscine-pontoise")
    current = await stored(redis_client, settings, "piscine-pontoise")
    await page.locator(f"{CARD}[data-seq='{current['seq']}']").wait_for()
    await screenshot(page, "facility-fr")
    occupancy = {
        "count": 123,
        "capacity": 350,
        "ratio": 0.351,
        "level": "moderate",
        "trend": "steady",
        "measured_at": current["updated_at"],
        "source": "sensor",
    }
    for step in range(1, 4):
        changed = dict(
            current,
            seq=current["seq"] + step,
            open_state="open",
            occupancy=occupancy | {"count": 120 + step},
        )
        await put_status(redis_client, settings, orjson.dumps(changed))
        await page.locator(f"{CARD}[data-seq='{changed['seq']}']").wait_for()
        text = await page.locator(CARD).inner_text()
        assert f"{120 + step} personnes / 350" in text


async def test_card_shows_closure_stale_state_and_english(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A closure shows its area, reason, message, expected reopening and who declared it; a
    stale status says so in words; lang="en" switches the card to English."""
    current = await stored(redis_client, settings, "piscine-pontoise")
    status = orjson.loads(make_status("piscine-pontoise", current["seq"] + 1))
    status.update(
        name=current["name"],
        type="pool",
        arrondissement=5,
        stale=True,
        last_data_at=current["updated_at"],
        today_hours=current["today_hours"],
    )
    await put_status(redis_client, settings, orjson.dumps(status))
    await page.goto(f"{city_api.http}/facilities/piscine-pontoise")
    card = page.locator(f"{CARD}[data-seq='{status['seq']}']")
    await card.wait_for()
    text = await card.inner_text()
    assert "Partiellement fermé" in text
    assert "Bassin 25 m — Qualité de l'eau" in text
    assert "Bassin fermé pour analyse de l'eau." in text
    assert "Réouverture prévue" in text and "déclaré par l'équipe à" in text
    assert "Données anciennes" in text
    assert (
        await page.locator("paris-facility-card .badge[data-state='partially_closed'] svg").count()
        == 1
    )
    await screenshot(page, "facility-closure-stale-fr")
    await page.goto(f"{city_api.http}/facilities/piscine-pontoise?lang=en")
    english = page.locator(f"{CARD}[lang='en'][data-seq='{status['seq']}']")
    await english.wait_for()
    text = await english.inner_text()
    assert (
        "Partly closed" in text
        and "Water quality" in text
        and "Pool closed for water testing." in text
    )
    assert "Old data" in text
    await screenshot(page, "facility-closure-stale-en")


async def test_one_script_tag_embeds_a_live_card_in_another_site(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A page of another origin with one <script> and the element gets the live card, styled in
    its shadow root (the host page's CSS does not leak in) and following updates."""
    host = (
        "<!doctype html><html lang='fr'><head><title>Paris.fr — Piscine Pontoise</title>"
        "<style>h2 { color: rgb(255, 0, 0) !important; font-size: 60px; }</style>"
        f"<script type='module' src='{city_api.http}/embed/card.js'></script></head>"
        "<body><main><h1>Piscine Pontoise</h1>"
        "<paris-facility-card facility='piscine-pontoise'></paris-facility-card></main></body></html>"
    )

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        body = host.encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    # Another origin: a plain web server of the test's own on another port.
    site = await asyncio.start_server(serve, "127.0.0.1", 0)
    port = site.sockets[0].getsockname()[1]
    try:
        await page.goto(f"http://127.0.0.1:{port}/piscine-pontoise")
        await check_embedded_card(page, redis_client, settings)
    finally:
        site.close()
        await site.wait_closed()


async def check_embedded_card(page: Any, redis_client: aioredis.Redis, settings: Settings) -> None:
    current = await stored(redis_client, settings, "piscine-pontoise")
    await page.locator(f"{CARD}[data-seq='{current['seq']}']").wait_for()
    color = await page.locator("paris-facility-card h2").evaluate("h => getComputedStyle(h).color")
    assert color != "rgb(255, 0, 0)"
    changed = dict(current, seq=current["seq"] + 1, open_state="closing_soon")
    await put_status(redis_client, settings, orjson.dumps(changed))
    await page.locator(f"{CARD}[data-seq='{changed['seq']}']").wait_for(timeout=2000)
    assert "Ferme bientôt" in await page.locator(CARD).inner_text()
    await screenshot(page, "embed-other-site")


def _now() -> str:
    return datetime.now(UTC).isoformat()


async def test_card_words_say_what_the_figures_are(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A drift-corrected count reads "estimation", a turnstile count "comptage"; a median is
    "médiane" (with the 90e centile and one line explaining both), a commitment of 0 days reads
    "délivré sur place", an illustrative one "indicatif"; a strike reads "Mouvement social" as in
    the agent console; every accessibility feature has an icon of its own beside its word."""
    library = load_catalogue().get("mediatheque-canopee")
    occupancy = {
        "count": 40, "capacity": 200, "ratio": 0.2, "level": "low", "trend": "steady",
        "measured_at": _now(), "source": "estimate",
    }  # fmt: skip
    strike = dict(
        orjson.loads(make_status("x", 1))["closures"][0],
        reason="strike",
        scope={"kind": "area", "name": "Salle de lecture"},
    )
    await put_status(
        redis_client,
        settings,
        make_status(
            library,
            10_000_000,
            open_state="partially_closed",
            closures=[strike],
            occupancy=occupancy,
            processing=[
                {
                    "procedure_id": "library-card",
                    "median_days": 0.5,
                    "p90_days": 2,
                    "committed_days": 0,
                }
            ],
        ),
    )
    mairie = load_catalogue().get("mairie-15")
    await put_status(
        redis_client,
        settings,
        make_status(
            mairie,
            10_000_000,
            open_state="open",
            closures=[],
            occupancy=occupancy | {"source": "turnstile"},
            processing=[
                {
                    "procedure_id": "civil-status-certificate",
                    "median_days": 6,
                    "p90_days": 12.5,
                    "committed_days": 10,
                }
            ],
        ),
    )
    await page.goto(f"{city_api.http}/facilities/mediatheque-canopee")
    card = page.locator(f"{CARD}[data-seq='10000000']")
    await card.wait_for()
    text = await card.inner_text()
    assert "estimation" in text and "comptage" not in text
    assert "médiane : 0,5 j · 90e centile : 2 j · engagement : délivré sur place" in text
    assert "0 j" not in text and "en moyenne" not in text
    assert await card.get_by_text("Médiane : la moitié des dossiers").is_visible()
    assert "Salle de lecture — Mouvement social" in text and "Grève" not in text
    features = card.locator(".feature")
    assert await features.count() == len(library.accessibility) == 7
    shapes = set()
    for i in range(await features.count()):
        feature = features.nth(i)
        assert await feature.is_visible()
        assert await feature.locator("svg").get_attribute("aria-hidden") == "true"
        assert (await feature.inner_text()).strip()
        shapes.add(await feature.locator("path").get_attribute("d"))
    assert len(shapes) == 7, "one distinct icon per feature"
    await screenshot(page, "card-words-library")

    await page.goto(f"{city_api.http}/facilities/mairie-15")
    card = page.locator(f"{CARD}[data-seq='10000000']")
    await card.wait_for()
    text = await card.inner_text()
    assert "comptage" in text and "estimation" not in text
    assert "médiane : 6 j · 90e centile : 12,5 j · engagement (indicatif) : 10 j" in text
    assert await card.get_by_text("Médiane : la moitié des dossiers").is_visible()

    # no closed case and no commitment: said in words, not « — », and no median explained
    await put_status(
        redis_client,
        settings,
        make_status(
            mairie,
            10_000_001,
            open_state="open",
            closures=[],
            occupancy=occupancy | {"source": "turnstile"},
            processing=[
                {
                    "procedure_id": "civil-status-certificate",
                    "median_days": None,
                    "p90_days": None,
                    "committed_days": None,
                }
            ],
        ),
    )
    card = page.locator(f"{CARD}[data-seq='10000001']")
    await card.wait_for()
    processing = card.locator(
        "section", has=page.get_by_role("heading", name="Délais de traitement")
    )
    await expect(processing.locator("li")).to_have_text(
        re.compile(r" : pas encore de délai mesuré$")
    )
    assert await visible_count(card.get_by_text("Médiane : la moitié des dossiers")) == 0


async def test_a_closed_facility_hides_crowding_and_suggests_open_ones_nearby(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """An exceptionally closed pool shows no crowding nor wait, its closure banner at full
    contrast, and the nearest open pools (name, distance, link to their page); its page links to
    the survey and the complaint form of this facility."""
    catalogue = load_catalogue()
    pools = [f for f in catalogue if f.type == "pool"]
    closed, *others = pools[:4]
    example = orjson.loads(make_status("x", 1))
    whole = dict(example["closures"][0], scope={"kind": "facility"}, reason="water_quality")
    busy = {
        "count": 300, "capacity": 350, "ratio": 0.86, "level": "high", "trend": "rising",
        "measured_at": _now(), "source": "sensor",
    }  # fmt: skip
    await put_status(
        redis_client,
        settings,
        make_status(
            closed, 10_000_000, open_state="exceptionally_closed", closures=[whole], occupancy=busy
        ),
    )
    for other in pools[1:]:
        state = "open" if other in others else "closed"
        await put_status(
            redis_client, settings, make_status(other, 10_000_000, open_state=state, closures=[])
        )
    await page.goto(f"{city_api.http}/facilities/{closed.id}")
    card = page.locator(f"{CARD}[data-seq='10000000']")
    await card.wait_for()
    nearby = card.locator(".nearby")
    await nearby.wait_for()
    text = await card.inner_text()
    assert "Fermé exceptionnellement" in text
    assert "personnes" not in text and "Forte affluence" not in text
    assert await card.get_by_text("Fermé : pas d'affluence ni d'attente").is_visible()
    assert await nearby.get_by_text("Piscines ouvertes les plus proches").is_visible()
    links = nearby.get_by_role("link")
    names = sorted([(await links.nth(i).inner_text()) for i in range(await links.count())])
    assert names == sorted(o.name for o in others)
    assert await nearby.get_by_text(re.compile(r"à \d[\d,]* (m|km)")).first.is_visible()
    await screenshot(page, "card-closed-nearby")
    feedback = card.get_by_role("link", name="Donner mon avis")
    complaint = card.get_by_role("link", name="Faire une réclamation")
    assert await feedback.is_visible() and await complaint.is_visible()
    assert (await feedback.get_attribute("href") or "").endswith(
        f"/feedback/{closed.id}?channel=web"
    )
    assert (await complaint.get_attribute("href") or "").endswith(
        f"/complaints?facility={closed.id}"
    )
    await links.first.click()
    await page.wait_for_url(f"**/facilities/{others[0].id}*")
    page_after = page.locator(CARD)
    await page_after.wait_for()
    assert "Ouvert" in await page_after.inner_text()
    response = await page.request.get(f"{city_api.http}/complaints?facility={closed.id}")
    assert response.ok
