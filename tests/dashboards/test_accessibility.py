"""axe-core (npm) in Chromium on every page: zero serious or critical violations. Each page is
also saved as a screenshot (``test-artifacts/screenshots/``) and its axe result kept
(``test-artifacts/axe/``)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from api.auth import issue_token
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import run_axe, screenshot
from tests.journeys.journeykit import visible_count

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PAGES = [
    ("directory-fr", "/", "#facilities li.facility"),
    ("directory-en", "/?lang=en", "#facilities li.facility"),
    ("facility-page-fr", "/facilities/mairie-15", "paris-facility-card article"),
    ("facility-page-en", "/facilities/mairie-15?lang=en", "paris-facility-card article"),
    ("screen-page-fr", "/screen/piscine-pontoise", "#hours h2"),
    ("screen-page-en", "/screen/mairie-15?lang=en", "#hours h2"),
    ("agent-signin", "/agent", "#token"),
    ("ops-signin", "/ops", "#token"),
]


@pytest.mark.parametrize(("name", "path", "ready"), PAGES, ids=[p[0] for p in PAGES])
async def test_page_has_no_serious_accessibility_violation(
    page: Any, city_api: InProcessServer, name: str, path: str, ready: str
) -> None:
    """The page, once live, has no serious or critical axe-core violation."""
    if path.startswith("/screen"):
        await page.set_viewport_size({"width": 1920, "height": 1080})
    await page.goto(city_api.http + path)
    await page.locator(ready).first.wait_for()
    await page.wait_for_load_state("networkidle")
    await screenshot(page, name, full_page=not path.startswith("/screen"))
    serious = await run_axe(page, name)
    assert not serious, serious


async def test_agent_console_signed_in_is_accessible(
    page: Any, city_api: InProcessServer, settings: Settings
) -> None:
    """The signed-in console (several facilities, a reason chosen, the preview card) has no
    serious or critical axe-core violation."""
    token = issue_token(settings, "supervisor-1", "supervisor", facility_types=["pool"])
    await page.goto(f"{city_api.http}/agent")
    await page.locator("#token").fill(token)
    await page.get_by_role("button", name="Se connecter").click()
    await page.get_by_role("button", name="Piscine Pontoise").click()
    await page.get_by_role("button", name="Qualité de l'eau").click()
    await page.locator("#preview li.closure").wait_for()
    await screenshot(page, "agent-console-supervisor")
    serious = await run_axe(page, "agent-console-supervisor")
    assert not serious, serious


async def test_directory_filters_live_and_shows_the_best_time_to_come(
    page: Any, city_api: InProcessServer, settings: Settings
) -> None:
    """Typing a search or ticking a filter narrows the list without reloading; the detail
    panel shows the live card and the "meilleur moment pour venir" chart from /typical."""
    from paris_live.db import connect
    from tests.dashboards.typical import fill_typical

    async with await connect(settings, autocommit=True) as conn:
        await fill_typical(conn, settings, "piscine-pontoise", capacity=350)
    # At 12:30 today (Paris), whatever the hour the test runs: the afternoon is still ahead.
    noon = dt.datetime.now(PARIS).replace(hour=12, minute=30, second=0, microsecond=0)
    await page.clock.set_fixed_time(noon)
    await page.goto(city_api.http + "/")
    count = page.locator("#count")
    settled = page.locator("#results[aria-busy='false']")

    async def shown() -> int:
        await settled.wait_for(state="attached")
        return int(re.sub(r"\D", "", await count.inner_text()))

    total = await shown()
    await page.locator("#q").fill("pontoise")
    assert await shown() == 1
    visible = page.locator("#facilities li.facility")
    assert await visible_count(visible) == 1
    assert "Piscine Pontoise" in await visible.inner_text()
    assert "q=pontoise" in page.url
    await page.locator("#q").fill("")
    await page.get_by_label("Type d'équipement").select_option("pool")
    pools = await shown()
    assert 0 < pools < total
    await page.locator("#q").fill("pontoise")
    assert await shown() == 1
    await visible.filter(has_text="Piscine Pontoise").get_by_role("button").click()
    await page.locator("#detail paris-facility-card article").wait_for()
    chart = page.locator("#detail .best-time svg.chart")
    await chart.wait_for()
    sentence = await page.locator("#detail .best-time .advice").inner_text()
    assert "le moment le plus calme encore à venir est vers" in sentence, sentence
    assert await page.locator("#detail").is_visible()
    await screenshot(page, "directory-detail-best-time", full_page=False)
    serious = await run_axe(page, "directory-detail")
    assert not serious, serious


@pytest.mark.parametrize(("name", "query", "button"), [("ops-fr", "", "Se connecter"),
                                                       ("ops-en", "?lang=en", "Sign in")])  # fmt: skip
async def test_ops_dashboard_signed_in_is_accessible(
    page: Any, city_api: InProcessServer, settings: Settings, name: str, query: str, button: str
) -> None:
    """The operations dashboard, signed in with an ops token and showing the summary, has no
    serious or critical axe-core violation."""
    await page.goto(f"{city_api.http}/ops{query}")
    await page.locator("#token").fill(issue_token(settings, "ops-1", "ops"))
    await page.get_by_role("button", name=button).click()
    await page.locator("#counters li").first.wait_for()
    await page.locator("#sparks .spark").first.wait_for()
    await page.wait_for_load_state("networkidle")
    await screenshot(page, name)
    serious = await run_axe(page, name)
    assert not serious, serious
