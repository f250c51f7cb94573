"""The site's identity as a person meets it: a footer on every page whose links all lead
somewhere, the legal pages (mentions légales, accessibility statement, personal data) in French
and English, readable on a small phone; styled 404 and 500 pages that leak nothing; and pages
served compressed, the live streams not."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from api.app import create_app
from api.pages.accessibility import Audit, conformity, load_audit
from api.pages.legal import DEVICE_COOKIE_DAYS
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from streams.feedback_cli import purge_personal_data
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.dashboards.dashboards_testkit import run_axe, screenshot, start_api
from tests.journeys.journeykit import (
    DESKTOP,
    NARROW,
    PHONE,
    horizontal_overflow,
    scroll_to,
    visible_count,
)

pytestmark = pytest.mark.integration

POOL = load_catalogue().by_type("pool")[0]
FOOTER_LINKS = 8  # … and open data (issue 22)
LEGAL_PAGES = {
    "mentions-legales": ("Mentions légales", "Legal notice"),
    "accessibilite": ("Déclaration d'accessibilité", "Accessibility statement"),
    "donnees-personnelles": ("Données personnelles", "Personal data"),
    "donner-mon-avis": ("Donner mon avis", "Give feedback"),
}


# ── Footer ────────────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
async def test_footer_on_every_page_leads_somewhere(
    city_api: InProcessServer, page: Any, viewport: dict[str, int]
) -> None:
    """On the directory, a facility, the complaint form, the results and a 404, the footer shows
    its seven links (démarches, give feedback, complain, results, legal notice, accessibility
    status, personal data) and the data credit, the page passes axe-core (colour contrast included);
    every link answers a page (200)."""
    await page.set_viewport_size(viewport)
    paths = ["/", f"/facilities/{POOL.id}", "/complaints", "/transparence", "/nulle-part"]
    hrefs: set[str] = set()
    for path in paths:
        response = await page.goto(city_api.http + path)
        assert response.status == (404 if path == "/nulle-part" else 200), path
        footer = page.locator("footer.site-footer")
        await scroll_to(footer)
        assert await footer.is_visible(), path
        links = footer.locator("a")
        assert await visible_count(links) == FOOTER_LINKS, path
        texts = " ".join(await links.all_inner_texts())
        for words in ("Donner mon avis", "Faire une réclamation", "Résultats", "Mentions légales",
                      "Accessibilité : non conforme", "Données personnelles"):  # fmt: skip
            assert words in texts, (path, words)
        credits = footer.locator(".credits")
        assert await credits.is_visible(), path
        for source in (
            "Ville de Paris — opendata.paris.fr (ODbL)",
            "Ministère des Sports — Data ES",
        ):
            assert source in await credits.inner_text(), (path, source)
        hrefs |= set(await links.evaluate_all("links => links.map(a => a.getAttribute('href'))"))
        name = f"identity-footer-{path.strip('/').replace('/', '-') or 'directory'}"
        name += f"-{viewport['width']}"
        await screenshot(page, name, full_page=False)
        serious = await run_axe(page, name)
        assert serious == [], (path, serious)
    assert f"/feedback/{POOL.id}?channel=web" in hrefs  # a facility's footer: its own survey
    async with httpx.AsyncClient(base_url=city_api.http, follow_redirects=True) as client:
        for href in sorted(hrefs):
            answer = await client.get(href, headers={"Accept": "text/html"})
            assert answer.status_code == 200, href
            assert answer.headers["content-type"].startswith("text/html"), href


async def test_give_feedback_leads_to_the_chosen_facility_survey(
    city_api: InProcessServer, page: Any
) -> None:
    """« Donner mon avis » outside a facility: pick the facility, then its survey opens."""
    await page.set_viewport_size(PHONE)
    await page.goto(city_api.http + "/donner-mon-avis")
    await page.get_by_label("Équipement").select_option(POOL.id)
    await page.get_by_role("button", name="Aller au questionnaire").click()
    await page.wait_for_url(f"**/feedback/{POOL.id}?channel=web")
    assert await page.get_by_text(POOL.name).first.is_visible()
    await screenshot(page, "identity-give-feedback-survey", full_page=False)


# ── Legal pages ───────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_legal_pages_read_in_both_languages_on_a_small_phone(
    city_api: InProcessServer, page: Any, lang: str
) -> None:
    """Each legal page shows its title in the page's language, passes axe-core (colour
    contrast included) and has no horizontal scroll at 320 px."""
    await page.set_viewport_size(NARROW)
    for path, titles in LEGAL_PAGES.items():
        response = await page.goto(f"{city_api.http}/{path}?lang={lang}")
        assert response.status == 200, path
        title = titles[0] if lang == "fr" else titles[1]
        assert await page.get_by_role("heading", level=1, name=title).is_visible(), path
        assert await page.evaluate("document.documentElement.lang") == lang
        assert await horizontal_overflow(page) == 0, path
        serious = await run_axe(page, f"identity-{path}-{lang}")
        assert serious == [], (path, serious)
        await screenshot(page, f"identity-{path}-{lang}-320")


async def test_accessibility_statement_states_the_measured_status(
    city_api: InProcessServer, page: Any
) -> None:
    """The statement has RGAA's parts and the status RGAA's rule gives: without a full audit,
    « non conforme », with the automated results as its measured basis and the Défenseur des
    droits as the way of redress."""
    await page.set_viewport_size(DESKTOP)
    await page.goto(city_api.http + "/accessibilite")
    for heading in ("État de conformité", "Résultats des tests", "Contenus non accessibles",
                    "Établissement de cette déclaration", "Retour d'information et contact",
                    "Voies de recours"):  # fmt: skip
        assert await page.get_by_role("heading", level=2, name=heading).is_visible(), heading
    status = page.locator(".status-line strong")
    assert await status.inner_text() == "non conforme"
    audit = load_audit()
    if audit.views:
        basis = f"{audit.clean_views} vues sur {audit.views}"
        assert await page.get_by_text(basis).is_visible()
    assert await page.get_by_role("link", name="Défenseur des droits").first.is_visible()
    await screenshot(page, "identity-accessibility-statement")


def test_rgaa_status_follows_the_rule() -> None:
    """No audit in force → non conforme, whatever the automated checks say; ≥ 50 % → partial;
    100 % → total."""
    base = Audit(None, "axe-core", 10, 10, (), (), ("/",), None, None, None)
    assert conformity(base) == "none"
    assert conformity(base.__class__(**{**_fields(base), "rgaa_rate": 49.0})) == "none"
    assert conformity(base.__class__(**{**_fields(base), "rgaa_rate": 75.0})) == "partial"
    assert conformity(base.__class__(**{**_fields(base), "rgaa_rate": 100.0})) == "total"


def _fields(audit: Audit) -> dict[str, Any]:
    return {name: getattr(audit, name) for name in audit.__slots__}


def test_retention_settings_are_the_purge_defaults() -> None:
    """The personal-data page reads the same settings (same environment variables) whose
    defaults the purge job applies."""
    import inspect

    defaults = inspect.signature(purge_personal_data).parameters
    settings = Settings()
    assert settings.feedback_complaint_retention_days == defaults["complaint_days"].default
    assert settings.feedback_survey_retention_days == defaults["survey_days"].default


@pytest.fixture
async def short_retention_api(
    settings: Settings, db: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[InProcessServer]:
    custom = settings.model_copy(
        update={"feedback_complaint_retention_days": 200, "feedback_survey_retention_days": 30}
    )
    server = await start_api(custom)
    yield server
    await server.stop()


async def test_personal_data_page_states_the_configured_retention(
    short_retention_api: InProcessServer,
) -> None:
    """Retention periods on the page are the settings in force, not a fixed text; the survey
    cookie's lifetime it states is the one the survey page sets."""
    async with httpx.AsyncClient(base_url=short_retention_api.http) as client:
        fr = (await client.get("/donnees-personnelles")).text
        en = (await client.get("/donnees-personnelles?lang=en")).text
        survey = await client.get(f"/feedback/{POOL.id}")
    cookie = survey.headers["set-cookie"].lower()
    assert f"max-age={DEVICE_COOKIE_DAYS * 86400}" in cookie
    assert f"valable {DEVICE_COOKIE_DAYS} jours" in fr
    assert "effacés 200 jours après la réponse" in fr
    assert "effacés 30 jours après votre réponse" in fr
    assert "erased 200 days after the answer" in en
    assert "erased 30 days after your answer" in en


# ── Error pages ───────────────────────────────────────────────────────────────────────────────


async def test_missing_page_is_the_site_404_and_api_errors_stay_json(
    city_api: InProcessServer, page: Any
) -> None:
    """A browser on an unknown address sees the styled 404 with useful links, in its language;
    an API client still gets the one JSON error shape."""
    await page.set_viewport_size(PHONE)
    for path, heading in (("/pas-de-page", "Page introuvable"),
                          ("/pas-de-page?lang=en", "Page not found"),
                          ("/facilities/inconnu", "Équipement inconnu")):  # fmt: skip
        response = await page.goto(city_api.http + path)
        assert response.status == 404, path
        assert await page.get_by_role("heading", level=1, name=heading).is_visible(), path
        main = page.locator("main")
        assert await visible_count(main.get_by_role("link")) == 3, path
    assert await horizontal_overflow(page) == 0
    await screenshot(page, "identity-404-phone")
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        for path, accept in (("/v1/nowhere", "text/html"), ("/pas-de-page", "application/json")):
            answer = await client.get(path, headers={"Accept": accept})
            assert answer.status_code == 404
            assert answer.json()["error"]["code"] == "not_found"


@pytest.fixture
async def failing_api(
    settings: Settings, db: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[InProcessServer]:
    """The API with a page and an API route that fail (test only)."""
    app = create_app(fast_hub(settings))

    async def broken() -> None:
        raise RuntimeError("secret-detail-of-the-failure")

    app.add_api_route("/page-en-panne", broken, include_in_schema=False)
    app.add_api_route("/v1/en-panne", broken, include_in_schema=False)
    server = InProcessServer(app, settings)
    await server.start()
    yield server
    await server.stop()


async def test_failing_page_is_the_site_500_and_leaks_nothing(
    failing_api: InProcessServer, page: Any
) -> None:
    """A page that fails shows the styled error page (title, retry, directory, footer) and no
    trace of the exception; an API route that fails keeps the JSON error shape."""
    await page.set_viewport_size(PHONE)
    response = await page.goto(failing_api.http + "/page-en-panne")
    assert response.status == 500
    heading = page.get_by_role("heading", level=1, name="Le service a rencontré une erreur")
    assert await heading.is_visible()
    assert await page.get_by_role("link", name="Réessayer").is_visible()
    assert await page.locator("footer.site-footer").is_visible()
    body = await page.content()
    assert "secret-detail" not in body and "Traceback" not in body and "RuntimeError" not in body
    await screenshot(page, "identity-500-phone")
    async with httpx.AsyncClient(base_url=failing_api.http) as client:
        answer = await client.get("/v1/en-panne", headers={"Accept": "text/html"})
    assert answer.status_code == 500
    assert answer.json()["error"]["code"] == "internal_error"
    assert "secret-detail" not in answer.text


# ── Performance: compression, inline stylesheet, meta ─────────────────────────────────────────


async def test_pages_and_assets_are_compressed_and_live_streams_are_not(
    city_api: InProcessServer,
) -> None:
    """HTML, JS and CSS answer gzip to ``Accept-Encoding: gzip``; the SSE live stream is not
    compressed (it would be held back) and still streams its snapshot."""
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        for path in ("/", f"/facilities/{POOL.id}", "/complaints", "/mentions-legales",
                     "/static/pages/directory.js", "/embed/card.js",
                     "/feedback-assets/feedback.css", "/static/pages/pages.css"):  # fmt: skip
            answer = await client.get(path, headers={"Accept-Encoding": "gzip"})
            assert answer.status_code == 200, path
            assert answer.headers.get("content-encoding") == "gzip", path
            assert "accept-encoding" in answer.headers.get("vary", "").lower(), path
        headers = {"Accept-Encoding": "gzip", "Accept": "text/event-stream"}
        async with client.stream(
            "GET", f"/v1/live/sse?facilities={POOL.id}", headers=headers, timeout=10
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers
            async for chunk in stream.aiter_text():
                if "snapshot" in chunk:
                    break


async def test_inline_stylesheet_is_allowed_by_the_csp_and_each_page_has_a_description(
    city_api: InProcessServer,
) -> None:
    """The pages carry their stylesheet inline (no render-blocking request), the CSP allows
    exactly that text by its hash, and every page has its own meta description."""
    descriptions = set()
    async with httpx.AsyncClient(base_url=city_api.http) as client:
        for path in ("/", f"/facilities/{POOL.id}", "/mentions-legales", "/accessibilite",
                     "/donnees-personnelles", "/donner-mon-avis"):  # fmt: skip
            answer = await client.get(path)
            style = re.search(r"<style>(.*?)</style>", answer.text, re.S)
            assert style is not None, path
            digest = hashlib.sha256(style.group(1).encode()).digest()
            source = "'sha256-" + base64.b64encode(digest).decode() + "'"
            assert source in answer.headers["content-security-policy"], path
            assert 'rel="stylesheet"' not in answer.text, path
            meta = re.search(r'<meta name="description" content="([^"]+)">', answer.text)
            assert meta is not None and len(meta.group(1)) > 50, path
            descriptions.add(meta.group(1))
        robots = await client.get("/robots.txt")
        assert robots.status_code == 200 and "Disallow: /agent" in robots.text
    assert len(descriptions) == 6
