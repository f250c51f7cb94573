"""Citizens' journeys through the public pages, as a person does them, asserting what is visible:

- Léa, on a phone, looks for an open, quiet pool in the 15e and the best time still ahead today
  (and, where the pool has too little history, is told so instead of being given an hour);
- Karim types "passeport" and is led to the town halls;
- an axe-core sweep of the directory and a facility page in every state (open, closing soon,
  closed, exceptionally closed, partially closed, crowded, full, stale, no data) on a phone and a
  desktop, with no horizontal scroll at 320 px.

The city is the simulated one (``city_api``: real Redis, PostgreSQL and API); the facilities a
journey looks at get statuses written the way the stream workers write them, and the hourly
history the chart reads is written into ``occupancy_1h`` by the test (``fill_typical``).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
from babel.numbers import format_decimal
from playwright.async_api import expect

from api.pages.directory import PAGE_SIZE
from paris_live.live import facility_key, index_key
from paris_live.settings import Settings
from schemas.catalogue import Facility, load_catalogue
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer, closure_status, make_status, put_status
from tests.dashboards.dashboards_testkit import run_axe, screenshot
from tests.dashboards.typical import fill_typical
from tests.journeys.journeykit import (
    DESKTOP,
    NARROW,
    PHONE,
    Journey,
    horizontal_overflow,
    scroll_to,
    visible_count,
    visible_texts,
)

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CATALOGUE = load_catalogue()
POOLS_15 = [f for f in CATALOGUE if f.type == "pool" and f.arrondissement == 15]
CARDS = "#facilities li.facility"
SEQ = 10_000_000
"""Above any seq the simulated city reached: the test's statuses win."""
LEA_HOURS = [{"opens": "07:00", "closes": "22:00"}]


async def settled(page: Any) -> None:
    """Until the directory shows the server's answer to the filters as they are now (the page
    marks its results busy from the first change until the answer is in)."""
    await page.locator("#results[aria-busy='false']").wait_for(state="attached")


def _at(hour: int, minute: int = 0) -> dt.datetime:
    """Today at this Paris time."""
    return dt.datetime.now(PARIS).replace(hour=hour, minute=minute, second=0, microsecond=0)


def _status(facility: Facility, state: str, *, seq: int = SEQ, **changes: Any) -> bytes:
    """A status of ``facility`` in ``state`` (crowd level "low" unless told)."""
    now = dt.datetime.now(dt.UTC).isoformat()
    occupancy = {
        "count": 30,
        "capacity": facility.capacity or 300,
        "ratio": 0.1,
        "level": "low",
        "trend": "steady",
        "measured_at": now,
        "source": "sensor",
    }
    fields: dict[str, Any] = {
        "open_state": state,
        "closures": [],
        "occupancy": occupancy,
        "today_hours": LEA_HOURS,
        "last_data_at": now,
        "stale": False,
    }
    fields.update(changes)
    return make_status(facility, seq, **fields)


async def _lea_city(redis: aioredis.Redis, settings: Settings) -> dict[str, str]:
    """The 15e pools in known states: two open and quiet, one open and busy, one closed (its
    last count was quiet: it must not pass for "peu d'affluence"), the rest closed."""
    assert len(POOLS_15) >= 4, "the catalogue has several pools in the 15e"
    kinds = ["quiet", "quiet", "busy", "closed"] + ["closed"] * (len(POOLS_15) - 4)
    for pool, kind in zip(POOLS_15, kinds, strict=True):
        if kind == "busy":
            raw = _status(pool, "open", occupancy=_occupancy(pool, "high", 0.8))
        else:
            raw = _status(pool, "open" if kind == "quiet" else "closed")
        await put_status(redis, settings, raw)
    return {p.id: k for p, k in zip(POOLS_15, kinds, strict=True)}


def _occupancy(facility: Facility, level: str, ratio: float) -> dict[str, Any]:
    capacity = facility.capacity or 300
    return {
        "count": round(ratio * capacity),
        "capacity": capacity,
        "ratio": ratio,
        "level": level,
        "trend": "rising",
        "measured_at": dt.datetime.now(dt.UTC).isoformat(),
        "source": "turnstile",
    }


async def _api_count(base: str, **params: str) -> list[str]:
    """The ids the REST API lists for the same filter, kept when their level is "low"."""
    async with httpx.AsyncClient(base_url=base) as client:
        body = (await client.get("/v1/facilities", params={**params, "limit": "200"})).json()
    assert body["next"] is None
    return [
        i["facility_id"] for i in body["items"] if (i.get("occupancy") or {}).get("level") == "low"
    ]


async def _phone(browser: Any, viewport: dict[str, int] = PHONE) -> tuple[Any, Any, list[str]]:
    context = await browser.new_context(
        viewport=viewport,
        timezone_id="Europe/Paris",
        locale="fr-FR",
        is_mobile=viewport["width"] < 700,
        has_touch=viewport["width"] < 700,
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return context, page, errors


@pytest.mark.parametrize("history", ["three-weeks", "one-week"])
async def test_lea_finds_open_quiet_pools_in_the_15e_and_the_best_time_ahead(
    browser: Any,
    city_api: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    history: str,
) -> None:
    """On a phone, "Piscine" + "15e" + "Ouvert maintenant" + "Peu d'affluence" leaves exactly the
    open, quiet 15e pools visible (as many as the count says and the API lists); the detail opens
    over the list where Léa is, with focus in it, and gives the quietest hour still ahead today
    within today's hours — or, with one week of history, says there is not enough yet."""
    from paris_live.db import connect

    kinds = await _lea_city(redis_client, settings)
    quiet = sorted(fid for fid, kind in kinds.items() if kind == "quiet")
    weeks = 3 if history == "three-weeks" else 1
    async with await connect(settings, autocommit=True) as conn:
        for pool_id in quiet:
            await fill_typical(conn, settings, pool_id, capacity=300, weeks=weeks)
    context, page, errors = await _phone(browser)
    # Léa looks at 12:30 today (Paris): hours before it are past.
    await page.clock.set_fixed_time(_at(12, 30))
    journey = Journey(f"lea-phone-{history}", page)
    try:
        await page.goto(city_api.http + "/")
        await page.locator(CARDS).first.wait_for()
        cards = page.locator(CARDS)
        await journey.step("directory")
        await page.get_by_label("Type d'équipement").select_option("pool")
        journey.act()
        await page.get_by_label("Arrondissement", exact=True).select_option("15")
        journey.act()
        await settled(page)
        await journey.step("pools of the 15e")
        assert await visible_count(cards) == len(POOLS_15)
        await page.get_by_label("Ouvert maintenant").check()
        journey.act()
        await page.get_by_label("Peu d'affluence").check()
        journey.act()
        await settled(page)
        await journey.step("open and quiet", full_page=True)

        api_ids = await _api_count(city_api.http, type="pool", arrondissement="15", open_now="true")
        shown = await visible_texts(cards.locator("h2"))
        assert sorted(shown) == sorted(CATALOGUE.get(i).name for i in quiet)
        assert sorted(api_ids) == quiet
        assert int(await page.locator("#count").inner_text()) == len(shown) == len(api_ids)
        assert not await page.locator("#empty").is_visible()
        height = await page.evaluate("document.documentElement.scrollHeight")
        assert height < 3 * PHONE["height"], f"the page is {height} px tall for {len(shown)} pools"
        assert await horizontal_overflow(page) == 0

        first = cards.filter(has_text=CATALOGUE.get(quiet[0]).name)
        await first.get_by_role("button").click()
        journey.act()
        dialog = page.locator("#detail")
        await dialog.locator("paris-facility-card article").wait_for()
        advice = dialog.locator(".best-time .advice")
        await advice.wait_for()
        box = await dialog.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] < PHONE["height"] / 2
        focus_in_dialog = await page.evaluate(
            "document.activeElement && !!document.activeElement.closest('#detail')"
        )
        assert focus_in_dialog
        await journey.step("detail")
        await scroll_to(advice)
        await journey.step("best time")
        sentence = await advice.inner_text()
        if weeks == 3:
            assert await advice.get_attribute("data-reason") == "best", sentence
            assert "le moment le plus calme encore à venir est vers" in sentence
            found = re.search(r"vers (\d+)\s*h", sentence)
            assert found is not None, sentence
            hour = int(found.group(1))
            assert hour >= 13 and hour * 60 + 30 <= 22 * 60, sentence
        else:
            assert await advice.get_attribute("data-reason") == "few", sentence
            assert "Pas encore assez de données pour conseiller une heure" in sentence
            assert "vers" not in sentence
        await page.keyboard.press("Escape")
        journey.act()
        assert not await dialog.is_visible()
        assert await page.evaluate("document.activeElement.classList.contains('more')")
        await journey.step("back to the list")
    finally:
        await context.close()
    assert not errors, errors
    print(f"Léa ({history}): {journey.interactions} interactions, {len(shown)} pools shown")


async def test_karim_searching_passeport_is_led_to_the_town_halls(
    browser: Any, city_api: InProcessServer
) -> None:
    """ "passeport" finds no facility: the page says so, names the démarche (its page), says
    where a passport is asked for, and its link shows the town halls; "encombrants" and "FPS" get the general help, never every card
    with "0 équipements"."""
    context, page, errors = await _phone(browser)
    journey = Journey("karim-passeport", page)
    try:
        await page.goto(city_api.http + "/")
        await page.locator(CARDS).first.wait_for()
        await page.get_by_label("Rechercher un équipement").fill("passeport")
        journey.act()
        await settled(page)
        empty = page.locator("#empty")
        await empty.wait_for(state="visible")
        assert await visible_count(page.locator(CARDS)) == 0
        assert await page.locator("#count").inner_text() == "0"
        assert "Aucun équipement ne correspond" in await empty.inner_text()
        hint = page.locator("#hints li").filter(has_text="Passeport").last
        assert await hint.is_visible()
        demarche = page.get_by_role("link", name="Obtenir une carte d'identité ou un passeport")
        assert await demarche.is_visible()
        assert await demarche.get_attribute("href") == "/demarches/identity-document"
        await journey.step("passeport: where to go", full_page=True)
        await hint.get_by_role("link", name="Mairie d'arrondissement").click()
        journey.act()
        await page.wait_for_url("**/?type=town_hall*")
        await page.locator(CARDS).first.wait_for()
        town_halls = await visible_texts(page.locator(f"{CARDS} .meta"))
        assert len(town_halls) == len(CATALOGUE.by_type("town_hall"))
        assert all("Mairie d'arrondissement" in t for t in town_halls)
        assert not await empty.is_visible()
        await journey.step("the town halls")

        for term in ("encombrants", "FPS"):
            await page.get_by_label("Rechercher un équipement").fill(term)
            await settled(page)
            await empty.wait_for(state="visible")
            assert await visible_count(page.locator(CARDS)) == 0
            assert await page.get_by_role(
                "link", name="Voir les mairies d'arrondissement"
            ).is_visible()
            clear = page.get_by_role("link", name="Effacer la recherche et les filtres")
            assert await clear.is_visible()
            assert await visible_count(page.locator("#hints li.demarche a")) == 1, term
        await journey.step("encombrants: general help")
        await clear.click()
        journey.act()
        await settled(page)
        # The whole city again, a page of it at a time, the total in words.
        assert await visible_count(page.locator(CARDS)) == PAGE_SIZE
        count = await page.locator("#count").inner_text()
        assert int(re.sub(r"\D", "", count)) == len(CATALOGUE)
        assert count == format_decimal(len(CATALOGUE), locale="fr")
        assert not await empty.is_visible()
    finally:
        await context.close()
    assert not errors, errors


# ── Every state, on a phone and a desktop ─────────────────────────────────────────────────────

STATES = [
    "open",
    "closing_soon",
    "closed",
    "exceptionally_closed",
    "partially_closed",
    "crowded",
    "full",
    "stale",
    "no_data",
]


def _state_status(facility: Facility, state: str, example: dict[str, Any]) -> bytes | None:
    hour_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)).isoformat()
    whole = dict(
        example["closures"][0],
        closure_id=f"clo-{facility.id}",
        scope={"kind": "facility"},
        reason="strike",
        message={"fr": "Fermeture pour mouvement social.", "en": "Closed: industrial action."},
    )
    match state:
        case "crowded":
            return _status(facility, "open", occupancy=_occupancy(facility, "high", 0.8))
        case "full":
            return _status(facility, "open", occupancy=_occupancy(facility, "full", 1.0))
        case "stale":
            return _status(facility, "open", stale=True, last_data_at=hour_ago)
        case "exceptionally_closed":
            return _status(facility, state, closures=[whole])
        case "partially_closed":
            return _status(facility, state, closures=example["closures"])
        case "no_data":
            return None
        case _:
            return _status(facility, state)


async def _write_states(redis: aioredis.Redis, settings: Settings) -> dict[str, str]:
    example = orjson.loads(make_status("piscine-pontoise", 1))
    pools = [f for f in CATALOGUE if f.type == "pool"][: len(STATES)]
    chosen = {}
    for pool, state in zip(pools, STATES, strict=True):
        raw = _state_status(pool, state, example)
        if raw is None:
            await redis.delete(facility_key(settings, pool.id))
            await redis.zrem(index_key(settings), pool.id)
        else:
            await put_status(redis, settings, raw)
        chosen[state] = pool.id
    return chosen


async def test_every_state_is_accessible_on_a_phone_and_a_desktop(
    browser: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """The directory (its detail dialog open on a phone) and a facility page in each state have no
    axe-core violation at all (colour contrast included) on a phone and a desktop, and no
    horizontal scroll at 320 px; a closed facility shows no crowding."""
    chosen = await _write_states(redis_client, settings)
    summary: dict[str, int] = {}
    for label, viewport in (("phone", PHONE), ("desktop", DESKTOP)):
        context, page, errors = await _phone(browser, viewport)
        try:
            await page.goto(city_api.http + "/")
            await page.locator(CARDS).first.wait_for()
            await page.wait_for_load_state("networkidle")
            name = f"sweep-directory-{label}"
            violations = await _axe_all(page, name)
            summary[name] = len(violations)
            if label == "phone":
                await page.set_viewport_size(NARROW)
                assert await horizontal_overflow(page) == 0, "directory at 320 px"
                await page.set_viewport_size(PHONE)
                name_closed = CATALOGUE.get(chosen["exceptionally_closed"]).name
                await page.goto(f"{city_api.http}/?q={quote(name_closed)}")
                closed = page.locator(CARDS).filter(has_text=name_closed)
                assert await closed.locator(".crowd").count() == 0
                await closed.get_by_role("button").click()
                await page.locator("#detail .best-time .advice").wait_for()
                await page.wait_for_load_state("networkidle")
                summary["sweep-directory-detail-phone"] = len(
                    await _axe_all(page, "sweep-directory-detail-phone")
                )
                await page.keyboard.press("Escape")
            for state in STATES:
                await page.goto(f"{city_api.http}/facilities/{chosen[state]}")
                await page.locator("paris-facility-card article[data-state]").wait_for()
                await page.locator("#best-time .advice").wait_for()
                await page.wait_for_load_state("networkidle")
                name = f"sweep-{state}-{label}"
                await screenshot(page, name, full_page=label == "phone")
                summary[name] = len(await _axe_all(page, name))
                card = await page.locator("paris-facility-card article").inner_text()
                if state in {"closed", "exceptionally_closed"}:
                    assert "personnes" not in card and "Peu de monde" not in card, card
                if label == "phone":
                    await page.set_viewport_size(NARROW)
                    assert await horizontal_overflow(page) == 0, f"{state} at 320 px"
                    await page.set_viewport_size(PHONE)
        finally:
            await context.close()
        assert not errors, errors
    print("axe violations per page:", summary)
    assert not any(summary.values()), summary


async def _axe_all(page: Any, name: str) -> list[dict[str, Any]]:
    """Every axe-core violation (any impact) of the page now, kept in test-artifacts/axe/."""
    import json

    from tests.dashboards.dashboards_testkit import AXE_DIR

    serious = await run_axe(page, name)
    assert not serious, serious
    found: list[dict[str, Any]] = json.loads((AXE_DIR / f"{name}.json").read_text("utf-8"))
    return found


async def test_the_page_and_the_server_find_the_same_facilities(
    page: Any, city_api: InProcessServer
) -> None:
    """Typing a search shows exactly the facilities the server shows for it without JavaScript:
    the page's script asks the server (api/pages/directory.py holds the one rule)."""
    queries = ["piscine 15e", "mairie", "75011", "pontoise", "bibliotheque 20e", "swimming", "cni"]
    await page.goto(city_api.http + "/")
    await page.locator(CARDS).first.wait_for()
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        for q in queries:
            html = (await client.get("/", params={"q": q})).text
            server = sorted(
                re.findall(r'<li class="facility" id="f-[^"]+" data-id="([^"]+)"', html)
            )
            await page.locator("#q").fill(q)
            await settled(page)
            ids = page.locator(CARDS)
            shown = sorted(
                [await ids.nth(i).get_attribute("data-id") for i in range(await ids.count())]
            )
            assert shown == server, q
            assert await visible_count(page.locator(CARDS)) == len(server), q


async def test_the_whole_city_a_page_at_a_time(browser: Any, city_api: InProcessServer) -> None:
    """On a phone, the directory shows the first PAGE_SIZE facilities and the total; « Afficher
    plus d'équipements » adds the next ones below the same first ones, puts the focus on the first
    new one, and keeps them in the address (a reload shows as many)."""
    context, page, errors = await _phone(browser)
    try:
        await page.goto(city_api.http + "/")
        cards = page.locator(CARDS)
        await cards.first.wait_for()
        first = await visible_texts(cards.locator("h2"))
        assert len(first) == PAGE_SIZE
        assert f"Affichage : {PAGE_SIZE} sur" in await page.locator(".shown-of").inner_text()
        more = page.get_by_role("link", name="Afficher plus d'équipements")
        await more.click()
        await settled(page)
        both = await visible_texts(cards.locator("h2"))
        assert len(both) == 2 * PAGE_SIZE and both[:PAGE_SIZE] == first
        focused = await page.evaluate("document.activeElement.textContent.trim()")
        assert focused == both[PAGE_SIZE]
        assert "page=2" in page.url
        await page.reload()
        await cards.first.wait_for()
        assert await visible_count(cards) == 2 * PAGE_SIZE
        assert await horizontal_overflow(page) == 0
        serious = await run_axe(page, "directory-page-2-phone")
        assert not serious, serious
    finally:
        await context.close()
    assert not errors, errors


async def test_a_closure_declared_while_the_directory_is_open_shows_on_its_card_then_goes(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Someone reads the directory while an agent closes a library: its card says « Fermeture en
    cours : … » without a reload; an update that leaves the closure as it was repaints the card's
    state but not the note (no flicker, a screen reader keeps its place); the closure withdrawn,
    the note goes — and it is never confused with the card's equipment notes."""
    library = CATALOGUE.get("bibliotheque-parmentier")
    message = {"fr": "Fermé : dégât des eaux au rez-de-chaussée.", "en": "Closed: water damage."}
    now = dt.datetime.now(dt.UTC)
    closure = closure_status("clo-test", "technical_failure", message, now)

    async def write(seq: int, state: str, closures: list[dict[str, Any]]) -> None:
        raw = _status(library, state, seq=seq, closures=closures)
        assert await put_status(redis_client, settings, raw)

    await write(SEQ + 1, "open", [])
    await page.goto(f"{city_api.http}/?q={quote(library.name)}")
    card = page.locator(CARDS).filter(has_text=library.name)
    await expect(card).to_be_visible()
    note = card.locator(".closure-note:not(.outage-note)")
    assert await visible_count(note) == 0

    await write(SEQ + 2, "exceptionally_closed", [closure])
    await expect(note).to_be_visible(timeout=30_000)
    await expect(note).to_have_text(f"Fermeture en cours : {message['fr']}")
    await expect(card.locator(".live")).to_contain_text("Fermé exceptionnellement")

    await note.evaluate("note => { note.dataset.kept = 'yes'; }")
    await card.locator(".live > *").first.evaluate("n => { window.__painted = n; }")
    await write(SEQ + 3, "exceptionally_closed", [closure])
    await page.wait_for_function("() => !window.__painted.isConnected", timeout=30_000)
    await expect(note).to_have_attribute("data-kept", "yes")
    assert await note.count() == 1

    await write(SEQ + 4, "open", [])
    await expect(note).to_have_count(0, timeout=30_000)
    await expect(card.locator(".live")).not_to_contain_text("Fermé exceptionnellement")
