"""The OpenStreetMap hours block of a facility page, as an OSM contributor uses it: the value is
visible in French and in English, one click selects all of it (ready to paste), it is the value
the API gives, and the block stays readable at 320 px and accessible — asserting what is
visible."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from schemas.catalogue import load_catalogue
from schemas.hours.osm import osm_opening_hours
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe
from tests.journeys.journeykit import (
    DESKTOP,
    NARROW,
    Journey,
    horizontal_overflow,
    scroll_to,
    visible_count,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CATALOGUE = load_catalogue()
POOL = CATALOGUE.by_type("pool")[0]
LONGEST = max(CATALOGUE, key=lambda f: len(osm_opening_hours(f.hours)))
"""The facility whose OSM value is the longest: the hardest to fit on a narrow phone."""
ESTIMATED = next(f for f in CATALOGUE if f.sources.get("hours") == "estimated")
"""A facility whose hours no open dataset gives (estimated from its type)."""
BLOCK = "section.osm-hours"


async def _selected(page: Any) -> str:
    return str(await page.evaluate("() => window.getSelection().toString()"))


async def _cut_sideways(locator: Any) -> str:
    """How the element is cut or pushed out sideways on a page that must not scroll
    sideways ("" when it is not)."""
    found: str = await locator.evaluate(
        """(el) => {
          const box = el.getBoundingClientRect();
          if (el.scrollWidth > el.clientWidth + 1) return `content ${el.scrollWidth} > ${el.clientWidth}`;
          if (box.right > innerWidth + 1 || box.left < -1) return `outside (${box.left}, ${box.right})`;
          return "";
        }"""
    )
    return found


def _contrast_violations(name: str) -> list[Any]:
    saved = json.loads((AXE_DIR / f"{name}.json").read_text(encoding="utf-8"))
    violations = saved if isinstance(saved, list) else saved.get("violations", [])
    return [v for v in violations if v.get("id") == "color-contrast"]


async def test_a_contributor_copies_the_osm_hours_of_a_pool(
    browser: Any, city_api: InProcessServer
) -> None:
    """In French on a desktop: the block's heading and value are visible, the value is the
    API's ``opening_hours_osm``, one click selects the whole value, and its source is said."""
    context = await browser.new_context(
        viewport=DESKTOP, locale="fr-FR", timezone_id="Europe/Paris"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    journey = Journey("osm-hours-copy", page)
    try:
        async with httpx.AsyncClient(base_url=city_api.http) as http:
            detail = (await http.get(f"/v1/facilities/{POOL.id}")).json()
        expected = detail["catalogue"]["opening_hours_osm"]
        assert expected == osm_opening_hours(POOL.hours)
        await page.goto(f"{city_api.http}/facilities/{POOL.id}")
        block = page.locator(BLOCK)
        await scroll_to(block)
        heading = block.get_by_role("heading", name="Horaires au format OpenStreetMap")
        assert await heading.is_visible()
        value = block.locator("code.osm-value")
        assert await visible_count(value) == 1
        assert await value.inner_text() == expected
        assert await block.locator("[data-source='opening_hours_osm']").is_visible()
        await value.click()
        journey.act()
        assert await _selected(page) == expected
        await journey.step("osm value selected in one click")
        serious = await run_axe(page, "facility-osm-hours-desktop")
        assert not serious, serious
        assert not _contrast_violations("facility-osm-hours-desktop")
    finally:
        await context.close()
    assert not errors, errors


async def test_the_osm_block_fits_a_narrow_phone_in_english(
    browser: Any, city_api: InProcessServer
) -> None:
    """In English at 320 px, with the longest value of the catalogue: the heading is English,
    the whole value is visible (wrapped, not clipped), nothing scrolls sideways."""
    context = await browser.new_context(
        viewport=NARROW, locale="en-GB", timezone_id="Europe/Paris", is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    journey = Journey("osm-hours-narrow", page)
    try:
        await page.goto(f"{city_api.http}/facilities/{LONGEST.id}?lang=en")
        block = page.locator(BLOCK)
        await scroll_to(block)
        heading = block.get_by_role("heading", name="Opening hours in OpenStreetMap format")
        assert await heading.is_visible()
        assert await block.get_by_text("For OpenStreetMap contributors").is_visible()
        value = block.locator("code.osm-value")
        assert await value.inner_text() == osm_opening_hours(LONGEST.hours)
        assert await _cut_sideways(value) == ""
        assert await horizontal_overflow(page) == 0
        await journey.step("osm block at 320 px, English", full_page=False)
        serious = await run_axe(page, "facility-osm-hours-narrow-en")
        assert not serious, serious
        assert not _contrast_violations("facility-osm-hours-narrow-en")
    finally:
        await context.close()
    assert not errors, errors


async def test_estimated_hours_warn_contributors_not_to_copy_them(
    browser: Any, city_api: InProcessServer
) -> None:
    """Hours no open dataset gives are estimated: the block says, visibly, not to copy them into
    OpenStreetMap (French and English); sourced hours carry no such warning (the review of
    issue 22 found invented dated entries offered for copying)."""
    context = await browser.new_context(
        viewport=NARROW, locale="fr-FR", timezone_id="Europe/Paris", is_mobile=True, has_touch=True
    )
    page = await context.new_page()
    try:
        await page.goto(f"{city_api.http}/facilities/{ESTIMATED.id}")
        warning = page.locator(f"{BLOCK} .osm-estimated")
        await scroll_to(warning)
        assert await visible_count(warning) == 1
        assert "ne les copiez pas dans OpenStreetMap" in await warning.inner_text()
        assert await horizontal_overflow(page) == 0
        serious = await run_axe(page, "facility-osm-hours-estimated")
        assert not serious, serious
        await page.goto(f"{city_api.http}/facilities/{ESTIMATED.id}?lang=en")
        warning = page.locator(f"{BLOCK} .osm-estimated")
        assert await visible_count(warning) == 1
        assert "do not copy them into OpenStreetMap" in await warning.inner_text()
        await page.goto(f"{city_api.http}/facilities/{POOL.id}")
        assert await page.locator(f"{BLOCK} .osm-estimated").count() == 0
        assert await visible_count(page.locator(f"{BLOCK} code.osm-value")) == 1
    finally:
        await context.close()
