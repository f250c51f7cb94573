"""A lobby screen reloaded while the network is down (a power cut, a kiosk restarted by its
watchdog) shows the last status it showed — not a blank page, not the older status of its first
load — with the age of that information: « Dernière information à 10:42 »."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from api.pages.kiosk import WORKER_CSP
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer, put_status
from tests.dashboards.dashboards_testkit import AXE_SUMMARY, run_axe
from tests.journeys.journeykit import LANDSCAPE, Journey, clipped

pytestmark = [pytest.mark.browser, pytest.mark.integration]

POOL = "piscine-pontoise"
PANELS = ".s-foot, .s-meta, #offline-age"
"""The footer, where the age line sits, is not cut (the connection-lost banner above the panels is
the live screen's own, unchanged here)."""


def _open_with(doc: dict[str, Any], seq: int, count: int) -> dict[str, Any]:
    """The pool open now with ``count`` swimmers, as the stream sinks would write it."""
    now = dt.datetime.now(PARIS).replace(microsecond=0)
    opens = (now - dt.timedelta(hours=2)).strftime("%H:00") if now.hour >= 2 else "00:00"
    return dict(
        doc,
        seq=seq,
        open_state="open",
        today_hours=[{"opens": opens, "closes": "24:00"}],
        next_change_at=None,
        closures=[],
        stale=False,
        updated_at=now.isoformat(),
        last_data_at=now.isoformat(),
        occupancy={
            "count": count,
            "capacity": 600,
            "ratio": round(count / 600, 3),
            "level": "low",
            "trend": "steady",
            "measured_at": now.isoformat(),
            "source": "headcount",
        },
    )


async def test_the_worker_is_served_for_the_screens_with_its_own_policy(
    city_api: InProcessServer,
) -> None:
    """/screen-sw.js is JavaScript, revalidated on every load, allowed to control /screen/,
    same-origin only."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        response = await client.get("/screen-sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert response.headers["service-worker-allowed"] == "/screen/"
    assert response.headers["content-security-policy"] == WORKER_CSP


async def test_a_screen_reloaded_offline_shows_its_last_status_and_its_age(
    browser: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    city: list[bytes],
) -> None:
    """Online: the screen follows a change (137 swimmers). Network down, reloaded: still 137 and
    « Dernière information à HH:MM » visible, readable (axe 0, nothing cut) — while the server
    meanwhile moved on to 999, which an offline screen cannot know."""
    doc = next(d for d in map(orjson.loads, city) if d["facility_id"] == POOL)
    context = await browser.new_context(
        viewport=LANDSCAPE, timezone_id="Europe/Paris", locale="fr-FR"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    journey = Journey("kiosk-offline-reload", page)
    await page.goto(f"{city_api.http}/screen/{POOL}")
    await page.locator("body[data-offline-ready='1']").wait_for(state="attached", timeout=20_000)

    seq = doc["seq"] + 1
    await put_status(redis_client, settings, orjson.dumps(_open_with(doc, seq, 137)))
    count = page.locator("#crowd .count strong", has_text=re.compile(r"^137$"))
    await count.wait_for(timeout=15_000)
    assert await page.locator("#offline-age").is_hidden(), "online: no age line"
    await journey.step("online-137")
    footer_online = await page.locator(".s-foot").bounding_box()
    saw_at = dt.datetime.now(PARIS)

    await context.set_offline(True)
    await put_status(redis_client, settings, orjson.dumps(_open_with(doc, seq + 1, 999)))
    response = await page.reload()
    assert response is not None and response.from_service_worker

    assert await page.locator("h1").is_visible()
    await count.wait_for(timeout=10_000)
    assert await count.is_visible(), "the last status shown before the reload"
    assert await page.locator("#crowd .count strong", has_text="999").count() == 0
    age = page.locator("#offline-age .l1")
    await age.wait_for(timeout=15_000)
    minutes = {
        (saw_at - dt.timedelta(minutes=1)).strftime("%H:%M"),
        saw_at.strftime("%H:%M"),
    }
    text = await age.inner_text()
    match = re.fullmatch(r"Dernière information à (\d\d:\d\d)", text)
    assert match and match.group(1) in minutes, text
    english = page.locator("#offline-age .l2")
    assert await english.is_visible()
    assert re.fullmatch(r"Last information at \d\d:\d\d", await english.inner_text())
    assert await page.locator("#banner").is_visible(), "the connection-lost banner too"

    await run_axe(page, "kiosk-offline-reload")
    assert sum(AXE_SUMMARY["kiosk-offline-reload"]["violations"].values()) == 0, AXE_SUMMARY
    assert await clipped(page, PANELS) == []
    footer_offline = await page.locator(".s-foot").bounding_box()
    assert footer_online and footer_offline
    assert footer_offline["height"] <= footer_online["height"], "the age line takes no panel room"
    await journey.step("offline-reloaded-137")

    await context.set_offline(False)  # back online: live again, the age line goes
    await page.locator("#crowd .count strong", has_text="999").wait_for(timeout=30_000)
    await page.locator("#offline-age").wait_for(state="hidden", timeout=15_000)
    await journey.step("back-online-999")
    await context.close()
    assert not errors, f"JavaScript errors: {errors}"
