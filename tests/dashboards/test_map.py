"""The map page (``/carte``): Leaflet vendored from npm at the pinned version, the tile server a
setting the page's CSP allows, the directory's filters, and — in Chromium, with no tile server
reachable — the points, the arrondissement labels and the no-tiles note a person sees."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from pydantic import ValidationError

from api.headers import page_csp
from api.pages.map import LIST_SIZE, arrondissement_marks
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import InProcessServer, make_status, put_status
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe, screenshot
from tests.journeys.journeykit import NARROW, horizontal_overflow, visible_count

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "dashboards" / "vendor" / "leaflet"
NPM_LEAFLET = ROOT / "node_modules" / "leaflet"


# ── The vendored library and the settings (no services) ──────────────────────────────────────


def test_vendored_leaflet_is_the_pinned_package() -> None:
    """dashboards/vendor/leaflet is the version package.json pins, byte for byte the npm
    package's files (scripts/vendor.sh rewrites it), with its BSD-2 licence beside it."""
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["leaflet"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", pinned), "pin an exact version"
    assert (VENDOR / "VERSION").read_text().strip() == pinned
    banner = (VENDOR / "leaflet.js").read_text(encoding="utf-8")[:200]
    assert f"Leaflet {pinned}," in banner
    assert "BSD 2-Clause License" in (VENDOR / "LICENSE").read_text()
    assert NPM_LEAFLET.is_dir(), "run `npm ci` (leaflet is a devDependency)"
    assert json.loads((NPM_LEAFLET / "package.json").read_text())["version"] == pinned
    for name in ("leaflet.js", "leaflet.css", "images/layers.png", "images/marker-icon.png"):
        assert (VENDOR / name).read_bytes() == (NPM_LEAFLET / "dist" / name).read_bytes(), name


def test_tile_server_is_a_setting_the_csp_allows() -> None:
    """The tile address is a setting (``{s}`` subdomains become ``*.`` in the CSP); an address
    without {z}/{x}/{y} or not http(s) is refused at start-up."""
    default = Settings()
    assert default.map_tile_url.startswith("https://tile.openstreetmap.org/")
    assert default.map_tile_origin == "https://tile.openstreetmap.org"
    own = Settings(map_tile_url="https://{s}.tiles.example.org/paris/{z}/{x}/{y}.png")
    assert own.map_tile_origin == "https://*.tiles.example.org"
    assert "img-src 'self' data: https://*.tiles.example.org;" in page_csp(own.map_tile_origin)
    assert "img-src 'self' data:;" in page_csp()
    for bad in ("https://tiles.example.org/paris.png", "javascript:alert(1)/{z}/{x}/{y}"):
        with pytest.raises(ValidationError):
            Settings(map_tile_url=bad)


def test_every_arrondissement_is_labelled() -> None:
    """The 20 arrondissements are labelled, at their town hall where they have one (the 1er, 2e
    and 4e share Paris Centre's, in the 3e: their label sits among their facilities)."""
    catalogue = load_catalogue()
    marks = arrondissement_marks(catalogue, "fr")
    assert [m["n"] for m in marks] == list(range(1, 21))
    assert [m["label"] for m in marks[:3]] == ["1er", "2e", "3e"] and marks[-1]["label"] == "20e"
    halls = {f.arrondissement: f.location for f in catalogue if f.type == "town_hall"}
    for mark in marks:
        hall = halls.get(mark["n"])
        if hall is not None:
            assert (mark["lat"], mark["lon"], mark["at"]) == (hall.lat, hall.lon, "town_hall")
        else:
            assert mark["at"] == "median" and 48.81 <= mark["lat"] <= 48.91
    assert {m["n"] for m in marks if m["at"] == "median"} == {1, 2, 4}
    english = arrondissement_marks(catalogue, "en")
    assert [m["label"] for m in english[:2]] == ["1", "2"] and english[0]["title"] == "Paris 01"


# ── Over HTTP (real services) ──────────────────────────────────────────────────────────────────


async def api_ids(client: httpx.AsyncClient, **filters: str) -> set[str]:
    """The ids /v1/facilities lists for these filters (every page of it)."""
    ids: set[str] = set()
    params: dict[str, str] = {"limit": "200", **filters}
    while True:
        body = (await client.get("/v1/facilities", params=params)).json()
        ids |= {item["facility_id"] for item in body["items"]}
        if not body["next"]:
            return ids
        params["cursor"] = body["next"]


def listed(html: str) -> int:
    """How many facilities the list under the map names."""
    return len(re.findall(r'<li id="m-[a-z0-9-]+"><a href="/facilities/', html))


def map_data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json" id="map-data">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict[str, Any] = json.loads(found.group(1))
    return data


@pytest.mark.integration
async def test_map_page_takes_the_directory_filters(city_api: InProcessServer) -> None:
    """/carte answers the points the directory's filters keep (the same as the API lists),
    allows images from the tile server only, links back to the list with the same filters, and
    lists at most LIST_SIZE of them under the map with the count; ?lang=en is in English."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        pools = await api_ids(client, type="pool")
        answer = await client.get("/carte", params={"type": "pool"})
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html")
        assert (
            "img-src 'self' data: https://tile.openstreetmap.org;"
            in (answer.headers["content-security-policy"])
        )
        csp = answer.headers["content-security-policy"]
        assert "script-src 'self';" in csp and csp.endswith("frame-ancestors 'self'")
        assert answer.headers["x-frame-options"] == "SAMEORIGIN"
        data = map_data(answer.text)
        assert {p["id"] for p in data["points"]} == pools and len(data["points"]) == len(pools)
        assert all(48.81 <= p["lat"] <= 48.91 and 2.22 <= p["lon"] <= 2.47 for p in data["points"])
        assert len(data["arrondissements"]) == 20
        assert data["tiles"]["url"] == "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
        assert 'href="/?type=pool"' in answer.text
        assert f"{len(pools)} équipements" in answer.text
        assert listed(answer.text) == len(pools) < LIST_SIZE

        fifth = map_data((await client.get("/carte?type=pool&arrondissement=5")).text)
        assert {p["id"] for p in fifth["points"]} == await api_ids(
            client, type="pool", arrondissement="5"
        )
        assert "piscine-pontoise" in {p["id"] for p in fifth["points"]}

        everything = await client.get("/carte")
        assert len(map_data(everything.text)["points"]) == len(load_catalogue())
        unknown = await client.get("/carte?type=no-such-type")  # filters nothing, as in /
        assert len(map_data(unknown.text)["points"]) == len(load_catalogue())
        assert listed(everything.text) == LIST_SIZE
        assert 'href="/"' in everything.text

        english = await client.get("/carte?type=pool&lang=en")
        assert '<html lang="en">' in english.text and "Map of the City of Paris" in english.text
        assert 'href="/?type=pool&amp;lang=en"' in english.text
        assert all(p["href"].endswith("?lang=en") for p in map_data(english.text)["points"])

        nothing = await client.get("/carte", params={"q": "zzzz introuvable"})
        assert nothing.status_code == 200 and map_data(nothing.text)["points"] == []
        assert "Aucun équipement ne correspond" in nothing.text
        assert (await client.get("/carte?arrondissement=123")).status_code == 422
        leaflet = await client.get("/static/vendor/leaflet/leaflet.js")
        assert leaflet.status_code == 200 and "Leaflet" in leaflet.text[:200]


# ── In Chromium, no tile server reachable ──────────────────────────────────────────────────────


def all_violations(name: str) -> list[dict[str, Any]]:
    """Every axe-core violation of the last audit named ``name`` (any impact)."""
    found: list[dict[str, Any]] = json.loads((AXE_DIR / f"{name}.json").read_text())
    return found


@pytest.mark.integration
@pytest.mark.browser
async def test_map_shows_the_pools_and_arrondissements_without_tiles(
    page: Any, city_api: InProcessServer
) -> None:
    """/carte?type=pool shows one point per pool the API lists, the 20 arrondissement labels
    and a note that the background is unavailable (no tile loads here); a point opens, by click
    or by Enter, a popup with the pool's name, type and state in words; Escape closes it and
    gives the focus back; axe-core finds nothing."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=city_api.http) as client:
        pools = await api_ids(client, type="pool")
        names = {(await client.get(f"/v1/facilities/{i}")).json()["name"] for i in pools}
    await page.goto(f"{city_api.http}/carte?type=pool")
    points = page.locator(".map-point")
    await expect(points).to_have_count(len(pools))
    await expect(page.get_by_text("Fond de carte indisponible")).to_be_visible()
    assert await visible_count(points) == len(pools)
    assert await visible_count(page.locator(".map-arr")) == 20
    for label in ("1er", "5e", "20e"):
        await expect(page.locator(".map-arr", has_text=re.compile(f"^{label}$"))).to_be_visible()

    await points.first.click()
    popup = page.locator(".leaflet-popup")
    await expect(popup).to_be_visible()
    shown = (await popup.locator(".map-popup-name").inner_text()).strip()
    assert shown in names
    await expect(popup).to_contain_text("Piscine")
    await expect(popup.locator(".badge")).to_be_visible()
    await expect(popup.get_by_role("button", name="Fermer")).to_be_visible()
    await page.keyboard.press("Escape")
    await expect(popup).to_have_count(0)

    pontoise = page.get_by_role("button", name=re.compile("^Piscine Pontoise —"))
    await pontoise.focus()
    await page.keyboard.press("Enter")
    link = popup.get_by_role("link", name="Piscine Pontoise")
    await expect(link).to_be_focused()
    assert await link.get_attribute("href") == "/facilities/piscine-pontoise"
    await page.keyboard.press("Escape")
    await expect(popup).to_have_count(0)
    await expect(pontoise).to_be_focused()

    await expect(page.get_by_role("link", name="Voir la liste", exact=True)).to_have_attribute(
        "href", "/?type=pool"
    )
    assert await visible_count(page.locator("#map-list li")) == len(pools)
    assert await run_axe(page, "map-pools") == []
    assert all_violations("map-pools") == []
    print("screenshot:", await screenshot(page, "map-pools"))


@pytest.mark.integration
@pytest.mark.browser
async def test_map_in_english_on_a_narrow_phone(page: Any, city_api: InProcessServer) -> None:
    """?lang=en at 320 px: English words (title, note, popup), points and labels visible, no
    horizontal scroll, axe-core finds nothing."""
    from playwright.async_api import expect

    await page.set_viewport_size(NARROW)
    await page.goto(f"{city_api.http}/carte?type=pool&lang=en")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Map of the City of Paris facilities"
    )
    await expect(page.get_by_text("Background map unavailable")).to_be_visible()
    assert await visible_count(page.locator(".map-arr")) == 20
    assert await visible_count(page.locator(".map-point")) > 0
    pontoise = page.get_by_role("button", name=re.compile("^Piscine Pontoise —"))
    await pontoise.focus()
    await page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup")
    await expect(popup).to_be_visible()
    await expect(popup).to_contain_text("Swimming pool")
    await expect(popup).to_contain_text("Paris 05")
    await expect(popup.get_by_role("button", name="Close")).to_be_visible()
    await expect(page.get_by_role("link", name="See the list", exact=True)).to_have_attribute(
        "href", "/?type=pool&lang=en"
    )
    assert await horizontal_overflow(page) == 0
    assert await run_axe(page, "map-en") == []
    assert all_violations("map-en") == []
    await page.locator("#map").scroll_into_view_if_needed()
    print("screenshot:", await screenshot(page, "map-en", full_page=False))


@pytest.mark.integration
@pytest.mark.browser
async def test_map_draws_the_tiles_of_the_setting_when_they_load(
    page: Any, city_api: InProcessServer
) -> None:
    """When the tile server of the settings answers (here Playwright answers for it), its tiles
    are drawn under the points — the page's CSP lets them in — and no no-tiles note shows."""
    from playwright.async_api import expect

    tile = (VENDOR / "images" / "layers.png").read_bytes()  # any PNG will do as a tile
    asked: list[str] = []

    async def answer(route: Any) -> None:
        asked.append(route.request.url)
        await route.fulfill(status=200, content_type="image/png", body=tile)

    await page.route("https://tile.openstreetmap.org/**", answer)
    await page.goto(f"{city_api.http}/carte?type=library")
    await expect(page.locator(".leaflet-tile-loaded").first).to_be_visible()
    assert asked and all(re.search(r"/\d+/\d+/\d+\.png$", url) for url in asked)
    await expect(page.locator(".map-point").first).to_be_visible()
    await expect(page.locator("#map-no-tiles")).to_be_hidden()
    await expect(page.get_by_text("© OpenStreetMap contributors")).to_be_visible()


@pytest.mark.integration
@pytest.mark.browser
async def test_map_shows_the_whole_city(page: Any, city_api: InProcessServer) -> None:
    """/carte without a filter shows every facility of the catalogue as a point (1,000+), the
    list under it the first LIST_SIZE with the count, and axe-core finds nothing."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=city_api.http) as client:
        everything = await api_ids(client)
    assert len(everything) >= 1000
    await page.goto(f"{city_api.http}/carte")
    await expect(page.locator(".map-point")).to_have_count(len(everything))
    assert await visible_count(page.locator(".map-point")) == len(everything)
    assert await visible_count(page.locator("#map-list li")) == LIST_SIZE
    total = f"{len(everything):,}".replace(",", "\u202f")
    await expect(page.get_by_text(f"Affichage : {LIST_SIZE} sur {total}")).to_be_visible()
    assert await run_axe(page, "map-city") == []
    assert all_violations("map-city") == []
    print("screenshot:", await screenshot(page, "map-city", full_page=False))


@pytest.mark.integration
@pytest.mark.browser
async def test_map_follows_the_states_live(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A pool exceptionally closed while the map is open: its point, its popup and its line in
    the list say so, without reloading."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=city_api.http) as client:
        current = (await client.get("/v1/facilities/piscine-pontoise")).json()
    await page.goto(f"{city_api.http}/carte?type=pool&arrondissement=5")
    pontoise = page.get_by_role("button", name=re.compile("^Piscine Pontoise —"))
    await expect(pontoise).to_be_visible()
    await pontoise.click()
    popup = page.locator(".leaflet-popup")
    await expect(popup).to_contain_text("Piscine Pontoise")

    status = orjson.loads(make_status("piscine-pontoise", current["seq"] + 1))
    status.update(
        name=current["name"], type="pool", arrondissement=5, open_state="exceptionally_closed"
    )
    await put_status(redis_client, settings, orjson.dumps(status))
    await expect(pontoise).to_have_accessible_name(
        re.compile("^Piscine Pontoise — Fermé exceptionnellement")
    )
    await expect(popup.locator(".badge")).to_have_text(re.compile("Fermé exceptionnellement"))
    await expect(page.locator("#m-piscine-pontoise .badge")).to_have_text(
        re.compile("Fermé exceptionnellement")
    )
