"""The operations dashboard in Chromium: it asks for an ops or supervisor token, keeps it in the
tab (sessionStorage) like the agent console, polls ``/v1/ops/summary`` with it, and asks again
when the API refuses it."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from playwright.async_api import expect

from api.auth import issue_token
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.integration]

TOKEN_KEY = "paris-live-ops-token"


async def sign_in(page: Any, token: str) -> None:
    await page.locator("#token").fill(token)
    await page.get_by_role("button", name="Se connecter").click()


async def test_ops_asks_for_a_token_and_refuses_other_roles(
    page: Any, city_api: InProcessServer, settings: Settings
) -> None:
    """Without a token /ops shows a labelled sign-in form (focused, with the local hint) and no
    summary; an agent's token is refused with an explained alert and forgotten."""
    summaries: list[int] = []
    page.on(
        "response",
        lambda r: summaries.append(r.status) if r.url.endswith("/v1/ops/summary") else None,
    )
    await page.goto(f"{city_api.http}/ops")
    await page.locator("#token").wait_for()
    assert await page.evaluate("document.activeElement.id") == "token"
    assert await page.get_by_label("Jeton d'exploitation ou de superviseur").count() == 1
    assert "paris-live token --agent ops-1 --role ops" in await page.locator(".hint").inner_text()
    assert await page.locator("#counters").count() == 0 and summaries == []
    await screenshot(page, "ops-signin")
    await sign_in(page, issue_token(settings, "agent-1", "agent", facilities=["mairie-15"]))
    alert = page.get_by_role("alert")
    await alert.wait_for()
    assert "rôle exploitation ou superviseur requis" in await alert.inner_text()
    assert summaries == [403]
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert await page.locator("#counters").count() == 0
    await sign_in(page, "not-a-token")
    await page.get_by_text("Jeton absent, expiré ou invalide").wait_for()
    assert summaries == [403, 401]


async def test_ops_keeps_the_token_in_the_tab_polls_with_it_and_signs_out(
    page: Any, city_api: InProcessServer, settings: Settings
) -> None:
    """A supervisor signs in: the dashboard shows who is signed in, the summary and the live
    counters (facilities of the simulated city, live); a reload keeps the session (sessionStorage, never the URL); signing out forgets the
    token and shows the form again."""
    token = issue_token(settings, "s.durand", "supervisor", facility_types=["pool"])
    await page.goto(f"{city_api.http}/ops")
    await sign_in(page, token)
    await page.locator("#sparks .spark").first.wait_for()
    assert "Connecté : s.durand (supervisor)" in await page.locator(".ops").inner_text()
    await expect(page.locator("#live-count strong")).not_to_have_text("0")  # statuses came live
    counts = await page.eval_on_selector_all(
        "#counters li[data-state]:not([data-state=stale]) strong",
        "nodes => nodes.map(n => Number(n.textContent))",
    )
    assert sum(counts) == len(load_catalogue())  # every facility, in exactly one state
    # problems first: the alerts (here the stale sources of the simulated city) above the states
    problems = page.get_by_role("heading", name="Problèmes en cours")
    states = page.get_by_role("heading", name="Équipements par état")
    assert (await problems.bounding_box())["y"] < (await states.bounding_box())["y"]
    text = await page.locator(".ops").inner_text()
    assert "processing_lag_seconds" not in text and "Rejets (dead-letters)" not in text
    assert "Messages rejetés (lettres mortes, dead-letters)" in text
    # every facility is a named link with its state in words, not a bare icon
    arrondissement = page.locator("details.arr").first
    await arrondissement.locator("summary").click()
    links = arrondissement.locator(".facility-states li a")
    assert await links.count() > 0 and all(await links.all_inner_texts())
    assert await arrondissement.locator(".facility-states li .badge").first.is_visible()
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") == token
    assert token not in page.url
    await page.reload()
    await page.locator("#sparks .spark").first.wait_for()
    assert await page.locator("#token").count() == 0
    await page.get_by_role("button", name="Se déconnecter").click()
    await page.locator("#token").wait_for()
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert await page.locator("#counters").count() == 0


async def test_ops_asks_again_when_the_token_expires(
    page: Any, city_api: InProcessServer, settings: Settings
) -> None:
    """When the token expires (here after 1 s, plus the API's 10 s of clock leeway), the next
    poll gets 401 and the dashboard goes back to the sign-in form with the reason instead of
    polling on."""
    token = issue_token(settings, "ops-1", "ops", ttl=dt.timedelta(seconds=1))
    await page.goto(f"{city_api.http}/ops")
    await sign_in(page, token)
    await page.locator("#sparks .spark").first.wait_for()
    alert = page.get_by_role("alert")
    await alert.wait_for(timeout=30_000)
    assert "reconnectez-vous" in await alert.inner_text()
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    assert await page.locator("#counters").count() == 0
