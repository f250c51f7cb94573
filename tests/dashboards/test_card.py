"""The public card in Chromium: live within a second, French or English, stale in words,
closures with reason and reopening, and one script tag embedding it in someone else's page."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CARD = "paris-facility-card article"


async def stored(redis: aioredis.Redis, settings: Settings, facility_id: str) -> dict[str, Any]:
    raw = await redis.hget(settings.key("facility", facility_id), "json")
    assert raw is not None
    doc: dict[str, Any] = orjson.loads(raw)
    return doc


async def test_card_updates_within_one_second_of_a_status_change(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A change written to Redis (as the stream workers write it) shows on an open card in < 1 s."""
    await page.goto(f"{city_api.http}/facilities/piscine-pontoise")
    current = await stored(redis_client, settings, "piscine-pontoise")
    await page.locator(f"{CARD}[data-seq='{current['seq']}']").wait_for()
    await screenshot(page, "facility-fr")
    occupancy = dict(current["occupancy"], count=123, capacity=350, ratio=0.351, level="moderate")
    latencies = []
    for step in range(1, 4):
        changed = dict(
            current,
            seq=current["seq"] + step,
            open_state="open",
            occupancy=occupancy | {"count": 120 + step},
        )
        began = time.perf_counter()
        await put_status(redis_client, settings, orjson.dumps(changed))
        await page.locator(f"{CARD}[data-seq='{changed['seq']}']").wait_for(timeout=1000)
        latencies.append(time.perf_counter() - began)
        text = await page.locator(CARD).inner_text()
        assert f"{120 + step} personnes / 350" in text
    print(f"card update latencies: {[round(x * 1000) for x in latencies]} ms")
    assert max(latencies) < 1.0


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
