"""The in-facility screen in Chromium: first render from the page itself, "connexion perdue"
while the API is away with the last state still shown, recovery with resume, and a QR code made
from the public base URL (required in production)."""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from api.pages.qr import qr_svg
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer, put_status
from tests.dashboards.dashboards_testkit import screenshot, start_api

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def open_now(doc: dict[str, Any]) -> dict[str, Any]:
    """The status moved to "open now, 120 of 350 inside" (the simulated city may be closed)."""
    now = datetime.now(PARIS).replace(microsecond=0).isoformat()
    occupancy = {
        "count": 120,
        "capacity": 350,
        "ratio": 0.343,
        "level": "moderate",
        "trend": "steady",
        "measured_at": now,
        "source": "headcount",
    }
    return dict(
        doc,
        seq=doc["seq"] + 1,
        updated_at=now,
        open_state="open",
        today_hours=[{"opens": "00:00", "closes": "24:00"}],
        next_change_at=None,
        closures=[],
        occupancy=occupancy,
        stale=False,
        last_data_at=now,
    )


async def test_screen_shows_connection_lost_and_recovers(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """When the API stops, the screen keeps the last state under « Connexion perdue depuis … »;
    when it returns, the banner goes and what changed meanwhile is shown."""
    await page.set_viewport_size({"width": 1920, "height": 1080})
    raw = await redis_client.hget(settings.key("facility", "piscine-pontoise"), "json")
    current = open_now(orjson.loads(raw))  # a count is shown only while open, at any hour
    await put_status(redis_client, settings, orjson.dumps(current))
    await page.goto(f"{city_api.http}/screen/piscine-pontoise")
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
    await page.goto("about:blank")  # the screen's socket closed before the API stops


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
    assert "Today's hours" in (await page.locator("#hours h2 .l1").text_content() or "")
    await screenshot(page, "screen-en", full_page=False)


async def test_screen_qr_code_encodes_the_public_base_url(
    page: Any, settings: Settings, city_api: InProcessServer
) -> None:
    """The QR code and its caption lead to the configured public address of the survey, never
    to where the API happens to listen."""
    public = settings.model_copy(update={"public_base_url": "https://live.paris.example"})
    server = await start_api(public)
    try:
        await page.set_viewport_size({"width": 1080, "height": 1920})
        await page.goto(f"{server.http}/screen/piscine-pontoise")
        await page.locator("body[data-seq]").wait_for(state="attached")
        caption = await page.locator("#qr-label").inner_text()
        assert "live.paris.example/feedback/piscine-pontoise" in caption
        assert "127.0.0.1" not in caption
        drawn = await page.locator(".qr-code svg").evaluate("(svg) => svg.outerHTML")
        expected = qr_svg("https://live.paris.example/feedback/piscine-pontoise")
        path = re.compile(r'<path[^>]* d="([^"]+)"')
        assert path.findall(drawn) == path.findall(expected) != []
        assert await page.locator(".qr-code svg").is_visible()
    finally:
        await server.stop()


def test_production_refuses_a_missing_or_local_public_base_url() -> None:
    """In production the public base URL must be given, in https, and not a local address: the
    screens' QR codes are printed from it."""
    safe = {
        "env": "prod",
        "kafka_bootstrap": "k:9092",
        "redis_url": "redis://r",
        "database_url": "postgresql://d",
        "jwt_secret": "x" * 48,
        "allowed_origins": ("https://www.paris.fr",),
    }
    for url in (None, "http://live.paris.fr", "https://127.0.0.1:8000", "https://localhost"):
        extra = {} if url is None else {"public_base_url": url}
        with pytest.raises(ValidationError, match="PARIS_LIVE_PUBLIC_BASE_URL"):
            Settings(**safe, **extra)
    assert Settings(**safe, public_base_url="https://live.paris.fr/").public_base_url == (
        "https://live.paris.fr"
    )
    assert Settings(env="dev", api_port=8123).public_base_url == "http://127.0.0.1:8123"
