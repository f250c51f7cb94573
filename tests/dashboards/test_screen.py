"""The in-facility screen in Chromium: first render from the page itself, "connexion perdue"
while the API is away with the last state still shown, and recovery with resume."""

from __future__ import annotations

import time
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, put_status
from tests.dashboards.dashboards_testkit import screenshot, start_api

pytestmark = [pytest.mark.browser, pytest.mark.integration]


async def test_screen_shows_connection_lost_and_recovers(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """When the API stops, the screen keeps the last state under « Connexion perdue depuis … »;
    when it returns, the banner goes and what changed meanwhile is shown."""
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(f"{city_api.http}/screen/piscine-pontoise")
    raw = await redis_client.hget(settings.key("facility", "piscine-pontoise"), "json")
    current = orjson.loads(raw)
    await page.wait_for_function(f"document.body.dataset.seq === '{current['seq']}'")
    count = str(current["occupancy"]["count"])
    assert count in await page.locator("#crowd").inner_text()
    assert await page.locator("#banner").is_hidden()
    await screenshot(page, "screen-fr", full_page=False)

    port = city_api.port
    await city_api.stop()
    banner = page.locator("#banner")
    await banner.wait_for(state="visible", timeout=5000)
    assert "Connexion perdue depuis" in await banner.inner_text()
    assert count in await page.locator("#crowd").inner_text()  # last known state kept
    await screenshot(page, "screen-connection-lost", full_page=False)

    changed = dict(
        current,
        seq=current["seq"] + 1,
        occupancy=dict(current["occupancy"], count=current["occupancy"]["count"] + 7),
    )
    await put_status(redis_client, settings, orjson.dumps(changed))
    back = await start_api(settings, port=port)
    city_api.server, city_api.task = back.server, back.task  # the fixture stops this one
    began = time.monotonic()
    await banner.wait_for(state="hidden", timeout=30_000)
    await page.wait_for_function(f"document.body.dataset.seq === '{changed['seq']}'", timeout=5000)
    print(f"screen reconnected {time.monotonic() - began:.1f} s after the API came back")
    assert str(changed["occupancy"]["count"]) in await page.locator("#crowd").inner_text()


async def test_screen_first_render_is_fast_and_bilingual(
    page: Any, city_api: InProcessServer
) -> None:
    """The screen paints its status in under a second, French first with English beside it,
    the QR code to the survey included; ?lang=en puts English first."""
    await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(f"{city_api.http}/screen/piscine-pontoise")
    await page.wait_for_function("performance.getEntriesByName('screen-first-render').length")
    first = await page.evaluate("performance.getEntriesByName('screen-first-render')[0].startTime")
    assert first < 1000
    state = await page.locator("#state").inner_text()
    assert any(word in state for word in ("Ouvert", "Fermé", "Ferme bientôt"))
    assert await page.locator("#state [lang='en']").count() == 1
    assert await page.locator(".qr svg path").count() >= 1
    assert "/feedback/piscine-pontoise" in await page.locator("#qr-label").inner_text()
    await page.goto(f"{city_api.http}/screen/piscine-pontoise?lang=en")
    await page.wait_for_function("document.body.dataset.seq")
    assert "Crowding" in (await page.locator("#crowd h2 .l1").text_content() or "")
    await screenshot(page, "screen-en", full_page=False)
