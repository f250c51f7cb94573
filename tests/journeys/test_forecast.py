"""The crowding forecast as people see it: on the facility page (French, desktop; English, 320 px)
and on the lobby screen — « dans 1 h : … », « meilleur moment pour venir aujourd'hui », today's
chart with the observed curve, the forecast band and the typical day, labelled as a forecast with
its measured error; axe-core (colour contrast included) finds nothing; nothing scrolls sideways at
320 px; a facility with a week of history shows no forecast at all.

The history is written as ``paris-live simulate --history`` writes it, and one round of the
forecasting job runs at 14:00 today (Paris): the browser's clock is set to 14:05."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import numpy as np
import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import write_history
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from schemas.hours import OpeningHours
from streams.forecast.build import open_row
from streams.forecast.job import ForecastJob
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import run_axe
from tests.journeys.journeykit import (
    DESKTOP,
    LANDSCAPE,
    NARROW,
    PHONE,
    PORTRAIT,
    Journey,
    clipped,
    horizontal_overflow,
    scroll_to,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

ROUND = dt.time(14, 0)
SMALLEST_FORECAST_TEXT_JS = """() => Math.min(...[...document.querySelectorAll(
  "section.forecast p, section.forecast li, section.forecast text")]
  .filter((el) => el.textContent.trim())
  .map((el) => {
    const size = parseFloat(getComputedStyle(el).fontSize);
    const svg = el.ownerSVGElement;
    return svg ? size * svg.getBoundingClientRect().width / svg.viewBox.baseVal.width : size;
  }))"""
"""The smallest text of the forecast panel in CSS pixels (SVG labels scaled as drawn)."""
OVERLAPPING_CHART_LABELS_JS = """() => {
  const boxes = [...document.querySelectorAll("section.forecast svg text")]
    .map((el) => [el.textContent, el.getBoundingClientRect()]);
  const hit = (a, b) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
  const found = [];
  boxes.forEach(([ta, a], i) => boxes.slice(i + 1).forEach(([tb, b]) => {
    if (hit(a, b)) found.push(`${ta} / ${tb}`);
  }));
  const svg = document.querySelector("section.forecast svg")?.getBoundingClientRect();
  const inside = (a) => a.left >= svg.left - 1 && a.right <= svg.right + 1
    && a.top >= svg.top - 1 && a.bottom <= svg.bottom + 1;
  boxes.forEach(([t, a]) => { if (svg && !inside(a)) found.push(`${t} cut by the chart's edge`); });
  return found;
}"""
"""The chart's axis labels that overlap (e.g. "10h / 12h") or that its edge cuts."""


def _open_all_afternoon(facility: Facility, day: dt.date) -> bool:
    """Open from 13:00 to 18:00 on ``day`` by the hours engine."""
    hours = OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))
    return bool(np.all(open_row(hours, day, 1)[13 * 4 : 18 * 4]))


async def _forecast_city(settings: Settings) -> tuple[Facility, Facility, dt.datetime]:
    """A pool with 3 weeks of history and one with 1 week, forecast by one job round at 14:00."""
    at = dt.datetime.combine(dt.datetime.now(PARIS).date(), ROUND, tzinfo=PARIS)
    pools = [
        f
        for f in load_catalogue().by_type("pool")
        if f.capacity and _open_all_afternoon(f, at.date())
    ]
    # the longest name (two lines on a screen at full size): the fullest screen, whatever the day
    pool = max(pools, key=lambda f: len(f.name))
    young = next(f for f in pools if f.id != pool.id)
    for facility, days in ((pool, 21), (young, 7)):
        first = at.date() - dt.timedelta(days=days)
        await write_history(settings, occupancy_history([facility], first, days + 1, seed=7), at)
    stats = await ForecastJob(settings, clock=lambda: at).run_once()
    assert stats.forecast == 1 and stats.without_history == 1
    return pool, young, at


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


async def _sees_the_forecast(page: Any, lang: str) -> None:
    """The panel, its two sentences, the band, the observed and typical curves, the label."""
    panel = page.locator("section.forecast")
    await panel.wait_for(state="visible")
    words = {
        "fr": (
            "Dans 1\u00a0h : ",
            "Meilleur moment pour venir aujourd'hui (d'ici ",
            "erreur moyenne",
        ),
        "en": ("In 1 hour: ", "Best time to come today (until ", "mean error"),
    }[lang]
    next_hour = (await panel.locator(".fc-next").inner_text()).strip()
    best = (await panel.locator(".fc-best").inner_text()).strip()
    assert next_hour.startswith(words[0]) and len(next_hour) > len(words[0]), next_hour
    assert best.startswith(words[1]) and any(ch.isdigit() for ch in best), best
    assert words[2] in await panel.locator(".fc-accuracy").inner_text()
    for part in (".fc-band", ".fc-p50", ".fc-observed", ".fc-typical", ".fc-now"):
        await panel.locator(part).first.wait_for(state="visible")
    assert await panel.locator(".fc-band").first.is_visible()
    title = (await panel.locator("h2").inner_text()).lower()
    assert ("prévision" if lang == "fr" else "forecast") in title


async def test_the_facility_page_shows_the_forecast_band_and_the_best_time(
    browser: Any, city_api: InProcessServer, db: Settings
) -> None:
    """French on a desktop, English at 320 px: the forecast is seen, labelled, accessible."""
    pool, _young, at = await _forecast_city(db)
    page = await _open(browser, f"{city_api.http}/facilities/{pool.id}", DESKTOP, at)
    journey = Journey("forecast-card", page)
    await _sees_the_forecast(page, "fr")
    await scroll_to(page.locator("section.forecast"))
    await journey.step("la prévision sur la fiche de l'équipement")
    assert await run_axe(page, "forecast-card-fr") == []
    await page.context.close()
    assert not page.errors, page.errors

    page = await _open(browser, f"{city_api.http}/facilities/{pool.id}?lang=en", NARROW, at)
    await _sees_the_forecast(page, "en")
    assert await horizontal_overflow(page) == 0
    assert await run_axe(page, "forecast-card-en-320") == []
    await scroll_to(page.locator("section.forecast"))
    await Journey("forecast-card-en-320", page).step("forecast at 320 px")
    await page.context.close()
    assert not page.errors, page.errors


async def test_a_facility_with_a_week_of_history_shows_no_forecast(
    browser: Any, city_api: InProcessServer, db: Settings
) -> None:
    """Less than 14 days: the page shows the usual best-time chart, no forecast panel."""
    _pool, young, at = await _forecast_city(db)
    page = await _open(browser, f"{city_api.http}/facilities/{young.id}", DESKTOP, at)
    await page.locator("#best-time h2").wait_for(state="visible")
    await page.wait_for_load_state("networkidle")
    assert not await page.locator("section.forecast").is_visible()
    assert await page.get_by_text("Meilleur moment pour venir aujourd'hui").count() == 0
    await page.context.close()
    assert not page.errors, page.errors


async def test_the_lobby_screen_shows_the_forecast_in_both_languages(
    browser: Any, city_api: InProcessServer, db: Settings, redis_client: aioredis.Redis
) -> None:
    """On the screen, on its side and standing up: the band and the best time, French then
    English, nothing cut, axe-core finds nothing."""
    pool, _young, at = await _forecast_city(db)
    # The live status agrees with the browser's clock (14:05): open, 120 people inside.
    open_now = make_status(
        pool,
        10**9,
        open_state="open",
        closures=[],
        today_hours=[{"opens": "12:00", "closes": "22:00"}],
        occupancy={
            "count": 120,
            "capacity": pool.capacity,
            "ratio": round(120 / (pool.capacity or 1), 3),
            "level": "low",
            "trend": "rising",
            "measured_at": (at + dt.timedelta(minutes=4)).isoformat(),
            "source": "sensor",
        },
        last_data_at=(at + dt.timedelta(minutes=4)).isoformat(),
    )
    assert await put_status(redis_client, db, open_now) == 1
    for name, viewport in (("landscape", LANDSCAPE), ("portrait", PORTRAIT)):
        page = await _open(browser, f"{city_api.http}/screen/{pool.id}", viewport, at)
        await _sees_the_forecast(page, "fr")
        english = page.locator("section.forecast .fc-best .l2")
        assert (await english.inner_text()).startswith("Best time to come today (until ")
        await Journey(f"forecast-screen-{name}", page).step("la prévision sur l'écran d'accueil")
        assert await clipped(page, ".panel, .s-main, .s-foot") == []
        assert await page.evaluate(OVERLAPPING_CHART_LABELS_JS) == []
        smallest = await page.evaluate(SMALLEST_FORECAST_TEXT_JS)
        assert smallest >= 0.022 * min(viewport.values()) - 0.5, smallest
        assert await run_axe(page, f"forecast-screen-{name}") == []
        await page.context.close()
        assert not page.errors, page.errors


async def test_the_directory_detail_panel_shows_the_forecast(
    browser: Any, city_api: InProcessServer, db: Settings
) -> None:
    """Searching the pool by name and opening its detail: the forecast is under its card."""
    pool, _young, at = await _forecast_city(db)
    page = await _open(browser, f"{city_api.http}/?q={quote(pool.name)}", PHONE, at)
    card = page.locator(f"#f-{pool.id}")
    await card.locator("button.more").click()
    await _sees_the_forecast(page, "fr")
    await scroll_to(page.locator("#detail section.forecast"))
    await Journey("forecast-directory", page).step("la prévision dans le détail de l'annuaire")
    assert await run_axe(page, "forecast-directory") == []
    await page.context.close()
    assert not page.errors, page.errors
