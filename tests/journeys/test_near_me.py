"""« Près de moi », as a person uses it on a phone: the browser's position (asked only when the
button is pressed), an arrondissement or a street typed in, and what happens when the position
is refused or the place is unknown — asserting what is visible."""

from __future__ import annotations

from typing import Any

import pytest

from api.nearby import distance_m
from schemas.catalogue import Location, load_catalogue
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import run_axe
from tests.journeys.journeykit import PHONE, Journey, horizontal_overflow, scroll_to, visible_texts

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CATALOGUE = load_catalogue()
CARDS = "#facilities li.facility"
HERE = Location(lat=48.8462, lon=2.3372)
"""Jardin du Luxembourg, 6e."""


def _nearest(kind: str, origin: Location, n: int) -> list[str]:
    found = sorted(CATALOGUE.by_type(kind), key=lambda f: (distance_m(origin, f.location), f.name))
    return [f.name for f in found[:n]]


async def _settled(page: Any) -> None:
    await page.locator("#results[aria-busy='false']").wait_for(state="attached")


async def test_autour_de_moi_sorts_the_pools_nearest_first(
    browser: Any, city_api: InProcessServer
) -> None:
    context = await browser.new_context(
        viewport=PHONE,
        locale="fr-FR",
        timezone_id="Europe/Paris",
        is_mobile=True,
        has_touch=True,
        geolocation={"latitude": HERE.lat, "longitude": HERE.lon},
        permissions=["geolocation"],
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    journey = Journey("near-me-position", page)
    try:
        await page.goto(city_api.http + "/?type=pool")
        await page.locator(CARDS).first.wait_for()
        await page.get_by_role("button", name="Autour de moi").click()
        journey.act()
        await page.locator(".origin").wait_for()
        await _settled(page)
        assert (
            "Du plus proche au plus loin de votre position."
            in await page.locator(".origin").inner_text()
        )
        names = await visible_texts(page.locator(f"{CARDS} h2"))
        assert names[:5] == _nearest("pool", HERE, 5)
        distances = await visible_texts(page.locator(f"{CARDS} .distance"))
        assert len(distances) == len(names) and distances[0].startswith("à ")
        assert "at=" in page.url
        assert await horizontal_overflow(page) == 0
        await scroll_to(page.locator(".origin"))
        await journey.step("pools nearest first")
        serious = await run_axe(page, "directory-near-me-phone")
        assert not serious, serious
    finally:
        await context.close()
    assert not errors, errors


async def test_a_refused_position_says_what_to_do_instead(
    browser: Any, city_api: InProcessServer
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="fr-FR", permissions=[])
    page = await context.new_page()
    try:
        await page.goto(city_api.http + "/")
        await page.locator(CARDS).first.wait_for()
        await page.get_by_role("button", name="Autour de moi").click()
        message = page.locator("#near-status")
        await page.wait_for_function(
            "document.getElementById('near-status')?.textContent.includes('pas disponible')"
        )
        assert await message.is_visible()
        assert "Tapez une adresse ou un arrondissement" in await message.inner_text()
        focused = await page.evaluate("document.activeElement.id")
        assert focused == "near"
    finally:
        await context.close()


async def test_an_arrondissement_or_a_street_typed_in(
    browser: Any, city_api: InProcessServer
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="fr-FR")
    page = await context.new_page()
    journey = Journey("near-typed", page)
    try:
        await page.goto(city_api.http + "/?type=library")
        await page.locator(CARDS).first.wait_for()
        await page.get_by_label("Près de (adresse ou arrondissement)").fill("15e")
        journey.act()
        await _settled(page)
        hall = next(f for f in CATALOGUE.by_type("town_hall") if f.arrondissement == 15)
        assert hall.name in await page.locator(".origin").inner_text()
        names = await visible_texts(page.locator(f"{CARDS} h2"))
        assert names[:3] == _nearest("library", hall.location, 3)
        await scroll_to(page.locator(".origin"))
        await journey.step("libraries near the 15e")

        await page.get_by_label("Près de (adresse ou arrondissement)").fill("zzz")
        await _settled(page)
        unknown = page.locator(".near-unknown")
        assert await unknown.is_visible()
        assert "introuvable dans Paris" in await unknown.inner_text()
        assert await page.locator(".origin").count() == 0
        await journey.step("unknown place")

        await page.goto(city_api.http + "/?type=library&near=rue+de+Vaugirard&lang=en")
        assert "Nearest first from: rue de Vaugirard." in await page.locator(".origin").inner_text()
        assert (await visible_texts(page.locator(f"{CARDS} .distance")))[0].endswith(" away")
    finally:
        await context.close()
