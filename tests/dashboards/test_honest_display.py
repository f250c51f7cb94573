"""Honest display (issue 16): a card, its server-rendered fallback and the in-facility screen say
"horaires non confirmés" beside estimated hours, claim no open/closed state when the hours are
unknown, and name the source of the hours and the accessibility features — « Source : … (mise à
jour …) » — or mark the value as estimated; an occupancy level from an estimated capacity says
so. The walk over the whole catalogue checks that every fact the card's data shows carries a
source the card can name, or the estimated mark."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from api.pages.views import fallback_html
from api.views import render_item
from paris_live.settings import Settings
from schemas.catalogue import WEEKDAYS, load_catalogue
from schemas.clock import PARIS
from schemas.provenance import DATASETS, SourceRef
from tests.api.api_testkit import InProcessServer, put_status
from tests.dashboards.dashboards_testkit import AXE_SUMMARY, run_axe, screenshot
from tests.journeys.journeykit import (
    NARROW,
    PORTRAIT,
    clipped,
    horizontal_overflow,
    visible_count,
    visible_texts,
)

OFFICIAL = "mediatheque-canopee"
"""Hours from the City's « îlots de fraîcheur » dataset (given from 26/08/2025, no end)."""
ENDED = "piscine-suzanne-berlioux"
"""Hours from the same dataset for 08/09/2025–19/10/2025 (over), accessibility from Data ES."""
ESTIMATED = "piscine-bertrand-dauvin"
"""Hours, capacity and accessibility all estimated (no dataset gives them)."""
UNKNOWN = "mairie-15"
"""Given a status without known hours (``hours_confidence: "unknown"``) by the test."""

CITY = "Ville de Paris — opendata.paris.fr"
SPORTS = "Ministère des Sports — Data ES"
CARD = "paris-facility-card article"
PANELS = ".panel, .s-head, .s-main, .s-foot"
"""What a lobby screen must never cut (as tests/journeys/test_screen.py checks)."""


def _day(iso: str) -> str:
    return "/".join(reversed(iso.split("-")))


ILOTS_DATE = _day(DATASETS["ilots-equipements"].updated.isoformat())
DATA_ES_DATE = _day(DATASETS["data-es"].updated.isoformat())


async def _open_with_crowd(
    redis: aioredis.Redis, settings: Settings, facility_id: str, **changes: Any
) -> dict[str, Any]:
    """The facility's stored status moved to "open, 40 inside" (at any hour), written as the
    stream workers write it; ``hours_confidence`` stays what the workers computed."""
    raw = await redis.hget(settings.key("facility", facility_id), "json")
    assert raw is not None
    doc: dict[str, Any] = orjson.loads(raw)
    capacity = load_catalogue().get(facility_id).capacity or 250
    now = datetime.now(PARIS).replace(microsecond=0).isoformat()
    occupancy = {
        "count": 40,
        "capacity": capacity,
        "ratio": round(40 / capacity, 3),
        "level": "low",
        "trend": "steady",
        "measured_at": now,
        "source": "sensor",
    }
    changed = doc | {
        "seq": doc["seq"] + 1,
        "updated_at": now,
        "open_state": "open",
        "closures": [],
        "occupancy": occupancy,
        "stale": False,
        "last_data_at": now,
        **changes,
    }
    await put_status(redis, settings, orjson.dumps(changed))
    return changed


async def _no_axe_violation(page: Any, name: str) -> None:
    serious = await run_axe(page, name)
    assert serious == [], serious
    assert sum(AXE_SUMMARY[name]["violations"].values()) == 0, AXE_SUMMARY[name]


async def _card(page: Any, url: str, seq: int) -> Any:
    await page.goto(url)
    card = page.locator(f"{CARD}[data-seq='{seq}']")
    await card.wait_for()
    await card.locator(".src[data-source='hours']").wait_for()  # the catalogue has arrived
    return card


# ── The live card (facility page) ────────────────────────────────────────────────────────────


@pytest.mark.browser
@pytest.mark.integration
async def test_card_names_sources_and_says_when_hours_are_not_confirmed(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """At 320 px: the library with the City's current hours shows « Ouvert », credits the City
    for its hours and says its accessibility is estimated, with no "horaires non confirmés"; the
    pool whose official hours were given for a period now over, and the pool with estimated
    hours, say "horaires non confirmés" beside their hours; the first credits Data ES for its
    accessibility, the second says "valeur estimée" for both; each marks its estimated capacity.
    English with lang=en; no horizontal scroll; axe-core finds nothing."""
    catalogue = load_catalogue()
    await page.set_viewport_size(NARROW)
    official = await _open_with_crowd(redis_client, settings, OFFICIAL)
    ended = await _open_with_crowd(redis_client, settings, ENDED)
    estimated = await _open_with_crowd(redis_client, settings, ESTIMATED)
    assert official["hours_confidence"] == catalogue.get(OFFICIAL).hours_confidence == "official"
    assert ended["hours_confidence"] == "estimated"  # the period the hours were given for is over
    assert estimated["hours_confidence"] == "estimated"

    card = await _card(page, f"{city_api.http}/facilities/{OFFICIAL}", official["seq"])
    assert await visible_texts(card.locator(".badge")) == ["Ouvert"]
    assert await visible_count(card.locator(".unconfirmed")) == 0
    assert "non confirmés" not in await card.inner_text()
    [hours] = await visible_texts(card.locator(".src[data-source='hours']"))
    assert hours.startswith(f"Source : {CITY}, « Îlots de fraîcheur")
    assert f"(mise à jour {ILOTS_DATE})" in hours
    assert "période" not in hours  # given from 26/08/2025, with no end
    assert await visible_texts(card.locator(".src[data-source='accessibility']")) == [
        "Source : aucune (valeur estimée)"
    ]
    # said before the list too, not only in the source line after it (the features read as facts)
    assert await visible_texts(card.locator(".est-note")) == [
        "Accessibilité habituelle d'un équipement de ce type, non confirmée pour celui-ci :"
    ]
    # the live step-free access (issue 20) reads the same estimated accessibility: tagged too
    assert await visible_texts(card.locator(".tag.est")) == [
        "accessibilité estimée",
        "capacité estimée",
    ]
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-official-sources")
    await _no_axe_violation(page, "card-official-sources")

    card = await _card(page, f"{city_api.http}/facilities/{ENDED}", ended["seq"])
    assert await visible_texts(card.locator(".badge")) == ["Ouvert"]
    assert await visible_texts(card.locator(".hours .unconfirmed")) == ["horaires non confirmés"]
    [hours] = await visible_texts(card.locator(".src[data-source='hours']"))
    assert hours.startswith(f"Source : {CITY}, « Îlots de fraîcheur")
    assert hours.endswith("période du 08/09/2025 au 19/10/2025 (terminée)")
    [access] = await visible_texts(card.locator(".src[data-source='accessibility']"))
    assert access.startswith(f"Source : {SPORTS}, « Recensement des équipements sportifs")
    assert await visible_count(card.locator(".est-note")) == 0  # a source gives it
    assert f"(mise à jour {DATA_ES_DATE})" in access
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-hours-period-ended")
    await _no_axe_violation(page, "card-hours-period-ended")

    card = await _card(page, f"{city_api.http}/facilities/{ESTIMATED}", estimated["seq"])
    assert await visible_texts(card.locator(".badge")) == ["Ouvert"]
    [note] = await visible_texts(card.locator(".hours .unconfirmed"))
    assert note == "horaires non confirmés"
    assert await visible_texts(card.locator(".src")) == ["Source : aucune (valeur estimée)"] * 2
    assert "capacité estimée" in await visible_texts(card.locator(".tag.est"))
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-hours-not-confirmed")
    await _no_axe_violation(page, "card-hours-not-confirmed")

    card = await _card(page, f"{city_api.http}/facilities/{ESTIMATED}?lang=en", estimated["seq"])
    assert await visible_texts(card.locator(".hours .unconfirmed")) == ["hours not confirmed"]
    assert await visible_texts(card.locator(".src")) == ["Source: none (estimated value)"] * 2
    assert "estimated capacity" in await visible_texts(card.locator(".tag.est"))
    card = await _card(page, f"{city_api.http}/facilities/{OFFICIAL}?lang=en", official["seq"])
    [hours] = await visible_texts(card.locator(".src[data-source='hours']"))
    assert hours.startswith(f"Source: {CITY}, “Îlots de fraîcheur") and "(updated " in hours
    assert await visible_texts(card.locator(".est-note")) == [
        "What a facility of this kind usually has, not confirmed for this one:"
    ]
    assert await visible_count(card.locator(".unconfirmed")) == 0
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "card-official-sources-en")
    await _no_axe_violation(page, "card-official-sources-en")


@pytest.mark.browser
@pytest.mark.integration
async def test_card_with_unknown_hours_claims_neither_open_nor_closed(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A status whose hours are unknown shows « État inconnu » and « Horaires inconnus », never
    « Ouvert » nor « Fermé aujourd'hui », even when the status says open."""
    status = await _open_with_crowd(
        redis_client, settings, UNKNOWN, hours_confidence="unknown", occupancy=None
    )
    card = await _card(page, f"{city_api.http}/facilities/{UNKNOWN}", status["seq"])
    assert await visible_texts(card.locator(".badge")) == ["État inconnu"]
    text = await card.inner_text()
    assert "Horaires inconnus" in text
    assert "Ouvert" not in text and "Fermé aujourd'hui" not in text


@pytest.mark.browser
@pytest.mark.integration
async def test_fallback_without_javascript_says_the_same(
    browser: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Without JavaScript the server-rendered card shows the same words: "horaires non
    confirmés" only for hours estimated or given for a period now over, the sources of hours
    and accessibility, the estimated capacity; English with lang=en; nothing wider than 320 px.
    (axe-core needs JavaScript: the facility page's audit is in test_accessibility.py.)"""
    await _open_with_crowd(redis_client, settings, OFFICIAL)
    await _open_with_crowd(redis_client, settings, ENDED)
    await _open_with_crowd(redis_client, settings, ESTIMATED)
    context = await browser.new_context(
        viewport=NARROW, timezone_id="Europe/Paris", locale="fr-FR", java_script_enabled=False
    )
    try:
        page = await context.new_page()
        await page.goto(f"{city_api.http}/facilities/{OFFICIAL}")
        card = page.locator("paris-facility-card")
        assert await visible_count(card.locator(".unconfirmed")) == 0
        sources = await visible_texts(card.locator(".src"))
        assert sources[0].startswith(f"Source : {CITY}, « Îlots de fraîcheur")
        assert f"(mise à jour {ILOTS_DATE})" in sources[0]
        assert sources[1:] == ["Source : aucune (valeur estimée)"]
        assert "(capacité estimée)" in await card.inner_text()
        assert await horizontal_overflow(page) == 0

        await page.goto(f"{city_api.http}/facilities/{ENDED}")
        assert await visible_texts(card.locator(".unconfirmed")) == ["horaires non confirmés"]
        sources = await visible_texts(card.locator(".src"))
        assert sources[0].endswith("période du 08/09/2025 au 19/10/2025 (terminée)")
        assert sources[1].startswith(f"Source : {SPORTS}")
        assert f"(mise à jour {DATA_ES_DATE})" in sources[1]

        await page.goto(f"{city_api.http}/facilities/{ESTIMATED}")
        assert await visible_texts(card.locator(".unconfirmed")) == ["horaires non confirmés"]
        assert await visible_texts(card.locator(".src")) == ["Source : aucune (valeur estimée)"] * 2
        assert await horizontal_overflow(page) == 0
        await screenshot(page, "fallback-hours-not-confirmed")

        await page.goto(f"{city_api.http}/facilities/{ESTIMATED}?lang=en")
        assert await visible_texts(card.locator(".unconfirmed")) == ["hours not confirmed"]
        assert await visible_texts(card.locator(".src")) == ["Source: none (estimated value)"] * 2
    finally:
        await context.close()


# ── The in-facility screen ───────────────────────────────────────────────────────────────────


@pytest.mark.browser
@pytest.mark.integration
async def test_screen_says_hours_not_confirmed_and_names_the_hours_source(
    page: Any, city_api: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """The screen of the estimated pool says « Horaires non confirmés / Hours not confirmed »
    beside its state (under its name), that its hours have no source, and marks the estimated capacity; the
    official pool says none of it and credits the City for its hours. English first with
    lang=en; axe-core finds nothing; nothing cut, landscape or portrait; no horizontal scroll at
    320 px."""
    official = await _open_with_crowd(redis_client, settings, OFFICIAL)
    estimated = await _open_with_crowd(redis_client, settings, ESTIMATED)
    await page.set_viewport_size({"width": 1920, "height": 1080})

    await page.goto(f"{city_api.http}/screen/{OFFICIAL}")
    await page.wait_for_function(f"document.body.dataset.seq === '{official['seq']}'")
    assert await visible_count(page.locator(".unconfirmed")) == 0
    [source] = await visible_texts(page.locator("#hours-source"))
    assert (
        source.startswith(f"Horaires — Source : {CITY}") and f"(mise à jour {ILOTS_DATE})" in source
    )
    assert "capacité estimée" in await page.locator("#crowd .tag").inner_text()
    assert await clipped(page, PANELS) == []
    await screenshot(page, "screen-official-sources", full_page=False)
    await _no_axe_violation(page, "screen-official-sources")

    await page.goto(f"{city_api.http}/screen/{ESTIMATED}")
    await page.wait_for_function(f"document.body.dataset.seq === '{estimated['seq']}'")
    assert await visible_texts(page.locator("#hours-note .l1")) == ["Horaires non confirmés"]
    assert await visible_texts(page.locator("#hours-note .l2")) == ["Hours not confirmed"]
    assert await visible_texts(page.locator("#hours-source")) == [
        "Horaires — Source : aucune (valeur estimée)"
    ]
    assert await clipped(page, PANELS) == []
    await screenshot(page, "screen-hours-not-confirmed", full_page=False)
    await _no_axe_violation(page, "screen-hours-not-confirmed")
    await page.set_viewport_size(PORTRAIT)
    assert await visible_count(page.locator("#hours-note")) == 1
    assert await clipped(page, PANELS) == []
    await page.set_viewport_size(NARROW)
    assert await horizontal_overflow(page) == 0

    await page.goto(f"{city_api.http}/screen/{ESTIMATED}?lang=en")
    await page.wait_for_function(f"document.body.dataset.seq === '{estimated['seq']}'")
    assert await visible_texts(page.locator("#hours-note .l1")) == ["Hours not confirmed"]
    assert await visible_texts(page.locator("#hours-source")) == [
        "Hours — Source: none (estimated value)"
    ]
    assert await horizontal_overflow(page) == 0


# ── Every facility of the catalogue (no browser) ─────────────────────────────────────────────


def _named(source: Any, datasets: dict[str, Any], where: tuple[str, str]) -> None:
    """A source the card can put in words: "estimated", or a dataset the item itself credits."""
    if source == "estimated":
        return
    assert isinstance(source, dict), where
    dataset = datasets.get(source["dataset"])
    assert dataset is not None, where
    assert dataset["publisher"] and dataset["title"] and dataset["updated"], where


def test_every_fact_of_every_card_carries_a_source_or_the_estimated_mark() -> None:
    """Walks every facility through the card's data (the REST item, one facility and in a
    list): hours, capacity, accessibility, coordinates and the contact it shows each have a
    source the item credits (publisher, title, date) or the "estimated" mark, and the status
    flags estimated hours (``hours_confidence``) so no page shows them as fact."""
    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    credits = {d.publisher for d in DATASETS.values()}
    assert {CITY, SPORTS} <= credits
    for facility in load_catalogue():
        for full in (True, False):
            item = orjson.loads(render_item(None, facility, full=full, now=now))
            summary = item["catalogue"]
            sources, datasets = summary["sources"], summary["datasets"]
            where = (facility.id, "full" if full else "list")
            shown = ["hours", "location"]
            if summary["capacity"] is not None:
                shown.append("capacity")
            if summary["accessibility"]:
                shown.append("accessibility")
            if full and facility.contacts_for("information"):
                shown.append("contacts")
            for field in shown:
                assert field in sources, (*where, field)
                _named(sources[field], datasets, (facility.id, field))
            day_estimated = any(sources.get(f"hours.{day}") == "estimated" for day in WEEKDAYS)
            if sources["hours"] == "estimated" or day_estimated:
                assert item["hours_confidence"] == "estimated", where
            else:
                until = facility.sources["hours"].valid_until  # type: ignore[union-attr]
                over = until is not None and until < today
                assert item["hours_confidence"] == ("estimated" if over else "official"), where
            if not full:
                assert summary["hours_confidence"] == item["hours_confidence"], where


def test_every_fallback_card_names_its_sources_or_says_estimated() -> None:
    """The server-rendered card of every facility: "horaires non confirmés" exactly when the
    hours are estimated or were given for a period now over, a « Source : … (mise à jour …) » or
    « valeur estimée » line for the hours and for the accessibility features it lists."""
    now = datetime.now(UTC)
    today = now.astimezone(PARIS).date()
    for facility in load_catalogue():
        item = orjson.loads(render_item(None, facility, full=True, now=now))
        html = fallback_html(facility, item, "fr")
        source = facility.sources.get("hours")
        ended = isinstance(source, SourceRef) and (source.valid_until or today) < today
        unconfirmed = facility.hours_confidence == "estimated" or ended
        assert ("horaires non confirmés" in html) == unconfirmed, facility.id
        lines = [line for line in html.splitlines() if 'class="src' in line]
        assert len(lines) == (2 if facility.accessibility else 1), facility.id
        for line in lines:
            assert "(mise à jour " in line or "(valeur estimée)" in line, (facility.id, line)
