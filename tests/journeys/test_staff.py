"""Staff journeys in Chromium on the real stack: an agent declares a closure with an absolute
reopening time in at most five actions and sees it on the public card, then declares another
with the form ready for it; wrong dates and refused declarations are explained in the page's
language; an operations user sees a stopped stream worker as an alert at the top of /ops, with its
consumer group, partition, seconds and events behind. Each journey leaves a screenshot per step
(``test-artifacts/journeys/<journey>/``); axe-core finds nothing on /agent and /ops on a phone and
a desktop, and neither page scrolls sideways at 320 px."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as aioredis
from playwright.async_api import expect

from api.auth import issue_token
from bench.pages import write_statuses
from paris_live.settings import Settings
from schemas.clock import PARIS
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import AXE_DIR, AXE_SUMMARY, run_axe, start_api
from tests.journeys.conftest import LiveStack
from tests.journeys.journeykit import (
    DESKTOP,
    NARROW,
    PHONE,
    Journey,
    horizontal_overflow,
    visible_count,
)
from tests.streams.streams_testkit import WorkerProcess, passage, seq
from tests.testkit import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

FACILITY = "piscine-pontoise"
CLOSURE = "paris-facility-card article li.closure"
WEEKDAYS = "lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche"


async def tab(browser: Any, viewport: dict[str, int]) -> AsyncIterator[Any]:
    """A page in Paris time and French at ``viewport``; JavaScript errors fail the test."""
    context = await browser.new_context(
        viewport=viewport, timezone_id="Europe/Paris", locale="fr-FR"
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
async def desk(browser: Any) -> AsyncIterator[Any]:
    """A desktop page (1280×800)."""
    async for page in tab(browser, DESKTOP):
        yield page


async def no_axe_violations(page: Any, name: str) -> None:
    """axe-core with colour contrast: no violation at all, whatever its impact."""
    await run_axe(page, name)
    found = sum(AXE_SUMMARY[name]["violations"].values())
    details = (AXE_DIR / f"{name}.json").read_text(encoding="utf-8")
    assert found == 0, details


WIDEST = """() => [...document.querySelectorAll("body *"), ...[...document.querySelectorAll("*")]
    .filter((el) => el.shadowRoot).flatMap((el) => [...el.shadowRoot.querySelectorAll("*")])]
  .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth)
  .slice(0, 8).map((el) => `${el.tagName}.${el.className}#${el.id}: ${Math.round(el.getBoundingClientRect().right)}`)"""


async def fits_narrow(page: Any) -> None:
    """No horizontal scroll on a 320 px wide phone."""
    await page.set_viewport_size(NARROW)
    wide = await page.evaluate(WIDEST)
    assert await horizontal_overflow(page) == 0, wide


async def live_status(redis_client: aioredis.Redis, settings: Settings) -> None:
    """The worker has written the facility's first status (so its group has committed)."""

    async def has_status() -> bool:
        return (await seq(redis_client, settings, FACILITY) or 0) > 0

    await wait_until(has_status, within=120, what="the worker's first status")


async def sign_in(page: Any, journey: Journey, token: str, label: str, button: str) -> None:
    await page.get_by_label(label).fill(token)
    journey.act()
    await page.get_by_role("button", name=button).click()
    journey.act()


# ── the agent ─────────────────────────────────────────────────────────────────────────────────


async def test_agent_declares_a_closure_with_an_absolute_time_in_five_actions(
    desk: Any, live_stack: LiveStack, redis_client: aioredis.Redis
) -> None:
    """Token, « Se connecter », « Panne technique », « Demain à l'ouverture (…) », « Publier »:
    five actions; the summary gives the full date; the public card shows the closure; the form
    is then empty and coherent, and a second declaration with a typed date and time works."""
    page = desk
    settings = live_stack.settings
    await live_stack.send([passage(FACILITY, "in", 2)])
    await live_status(redis_client, settings)
    public = await page.context.new_page()
    await public.goto(f"{live_stack.http}/facilities/{FACILITY}")
    await public.locator("paris-facility-card article").wait_for()

    journey = Journey("agent-absolute-closure", page)
    token = issue_token(settings, "agent-4821", "agent", facilities=[FACILITY])
    await page.goto(f"{live_stack.http}/agent")
    await journey.step("sign-in")
    await sign_in(page, journey, token, "Jeton d'agent", "Se connecter")
    await page.get_by_role("button", name="Panne technique").click()
    journey.act()
    absolute = page.locator("#etas button[data-preset]").first
    label = await absolute.inner_text()
    assert re.search(r"(à la fermeture|à l'ouverture)", label), label
    await absolute.click()
    journey.act()
    summary = page.locator("#summary")
    await expect(summary).to_be_visible()
    text = await summary.inner_text()
    when = re.search(rf"jusqu'au ({WEEKDAYS}) \d{{1,2}} \w+ à (\d{{1,2}} h \d{{2}})", text)
    assert when and when.group(2) in label, (label, text)
    await journey.step("preview with the full date")
    await page.get_by_role("button", name="Publier la fermeture").click()
    journey.act()
    assert journey.interactions <= 5

    shown = public.locator(CLOSURE)
    await expect(shown).to_be_visible(timeout=30_000)
    assert "Panne technique" in await shown.inner_text()
    assert "Réouverture prévue" in await shown.inner_text()
    await expect(page.locator("#confirm.done")).to_contain_text("Visible sur la fiche publique")
    await journey.step("published, form ready again")
    await Journey("agent-absolute-closure-public", public).step("public card with the closure")

    # the whole form starts again: no reason, no reopening, whole facility, no summary
    assert await visible_count(page.locator("#reasons button[aria-pressed=true]")) == 0
    assert await visible_count(page.locator("#etas button[aria-pressed=true]")) == 0
    assert await page.locator("#scopes button[aria-pressed=true]").all_inner_texts() == [
        "Tout l'équipement"
    ]
    assert await page.get_by_label("Message au public (français)").input_value() == ""
    today = dt.datetime.now(PARIS).date().isoformat()  # prefilled: the agent types a time
    assert await page.get_by_label("Date de réouverture", exact=True).input_value() == today
    assert await page.get_by_label("Heure de réouverture", exact=True).input_value() == ""
    await expect(summary).to_be_hidden()

    # a second declaration, with a typed Paris date and time
    tomorrow = (dt.datetime.now(PARIS) + dt.timedelta(days=1)).date()
    await page.get_by_role("button", name="Travaux").click()
    await page.get_by_label("Date de réouverture", exact=True).fill(tomorrow.isoformat())
    await page.get_by_label("Heure de réouverture", exact=True).fill("18:30")
    await expect(summary).to_contain_text("à 18 h 30")
    await expect(summary).to_contain_text(f" {tomorrow.day} ")
    await page.get_by_role("button", name="Publier la fermeture").click()
    await expect(public.locator(CLOSURE)).to_have_count(2, timeout=30_000)
    await expect(public.locator(CLOSURE).filter(has_text="Travaux")).to_be_visible()
    await expect(page.locator("#confirm.done")).to_be_visible(timeout=30_000)
    await journey.step("second declaration published")

    await no_axe_violations(page, "journey-agent-desktop")
    await page.set_viewport_size(PHONE)
    await no_axe_violations(page, "journey-agent-phone")
    await journey.step("phone")
    await fits_narrow(page)
    await journey.step("narrow")
    await public.close()


@pytest.fixture
async def one_closure_api(
    kafka_topics: Settings, db: Settings, redis_client: aioredis.Redis, city: list[bytes]
) -> AsyncIterator[tuple[InProcessServer, Settings]]:
    """The API over the simulated city, allowing one closure in force per facility (no worker:
    declarations are stored and published, nothing shows them)."""
    settings = kafka_topics.model_copy(update={"max_active_closures": 1})
    await write_statuses(redis_client, settings, city)
    server = await start_api(settings)
    yield server, settings
    await server.stop()


WORDS = {
    "fr": {
        "token": "Jeton d'agent",
        "signin": "Se connecter",
        "reason": "Météo",
        "other": "Sécurité",
        "date": "Date de réouverture",
        "time": "Heure de réouverture",
        "start_date": "Date de début",
        "start_time": "Heure de début",
        "unknown": "Réouverture inconnue",
        "publish": "Publier la fermeture",
        "before": "La réouverture prévue doit suivre le début de la fermeture.",
        "saved": "Enregistrée.",
        "too_many": "Trop de fermetures en cours pour cet équipement : terminez-en une d'abord.",
        "foreign": ["must", "expected_reopening_at", "starts_at", "Too many"],
    },
    "en": {
        "token": "Staff token",
        "signin": "Sign in",
        "reason": "Weather",
        "other": "Safety",
        "date": "Reopening date",
        "time": "Reopening time",
        "start_date": "Start date",
        "start_time": "Start time",
        "unknown": "Reopening unknown",
        "publish": "Publish the closure",
        "before": "The expected reopening must come after the start of the closure.",
        "saved": "Saved.",
        "too_many": "Too many closures in force for this facility: end one first.",
        "foreign": ["doit", "Trop de", "expected_reopening_at", "starts_at"],
    },
}


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_wrong_dates_and_refusals_are_explained_in_the_page_language(
    desk: Any, one_closure_api: tuple[InProcessServer, Settings], lang: str
) -> None:
    """A reopening before the start is refused before sending, in the page's language, the
    fields marked invalid; once fixed the closure is saved; a second one, over the facility's
    limit, is refused by the API and explained in that language too (never « fr / en »)."""
    page = desk
    words = WORDS[lang]
    server, settings = one_closure_api
    journey = Journey(f"agent-wrong-dates-{lang}", page)
    token = issue_token(settings, "agent-4821", "agent", facilities=[FACILITY])
    await page.goto(f"{server.http}/agent?lang={lang}")
    await sign_in(page, journey, token, words["token"], words["signin"])
    await page.get_by_role("button", name=words["reason"]).click()
    tomorrow = (dt.datetime.now(PARIS) + dt.timedelta(days=1)).date().isoformat()
    await page.get_by_label(words["start_date"], exact=True).fill(tomorrow)
    await page.get_by_label(words["start_time"], exact=True).fill("10:00")
    await page.get_by_label(words["date"], exact=True).fill(tomorrow)
    await page.get_by_label(words["time"], exact=True).fill("09:00")
    posts: list[int] = []
    page.on("request", lambda r: posts.append(1) if r.method == "POST" else None)
    await page.get_by_role("button", name=words["publish"]).click()
    confirm = page.locator("#confirm.failed")
    await expect(confirm).to_have_text(words["before"])
    assert (
        await page.get_by_label(words["date"], exact=True).get_attribute("aria-invalid") == "true"
    )
    await expect(page.locator("#eta-error")).to_have_text(words["before"])  # beside the field
    assert posts == []  # refused before sending
    await journey.step("reopening before the start")
    await no_axe_violations(page, f"journey-agent-error-{lang}")

    await page.get_by_label(words["time"], exact=True).fill("12:00")
    await page.get_by_role("button", name=words["publish"]).click()
    await expect(page.locator("#confirm.pending")).to_contain_text(words["saved"])
    await page.get_by_role("button", name=words["other"]).click()
    await page.get_by_role("button", name=words["unknown"]).click()
    await page.get_by_role("button", name=words["publish"]).click()
    await expect(confirm).to_have_text(words["too_many"])
    shown = await confirm.inner_text()
    assert " / " not in shown and not any(w in shown for w in words["foreign"]), shown
    await journey.step("refused by the API")


# ── operations ────────────────────────────────────────────────────────────────────────────────


async def test_ops_sees_a_stopped_worker_as_an_alert_with_its_seconds(
    desk: Any, live_stack: LiveStack, workers: list[WorkerProcess], redis_client: aioredis.Redis
) -> None:
    """While the stream worker keeps up, /ops says there is no alert; once it stops and events
    keep coming, /ops shows, at the top, an alert naming the consumer group, the topic and
    partition, the seconds and the events behind, and the partition in the lag table; in
    English with ``?lang=en``."""
    page = desk
    settings = live_stack.settings
    await live_stack.send([passage(FACILITY, "in", 2)])
    await live_status(redis_client, settings)
    sampler = live_stack.api.server.config.app.state.ops_sampler
    sampler.every = 0.5

    journey = Journey("ops-lagging-worker", page)
    await page.goto(f"{live_stack.http}/ops")
    await journey.step("sign-in")
    token = issue_token(settings, "ops-1", "ops")
    await sign_in(page, journey, token, "Jeton d'exploitation ou de superviseur", "Se connecter")
    healthy = page.locator("#alerts li[data-code=none]")
    await expect(healthy).to_have_text("Aucune alerte : le traitement est à jour.", timeout=60_000)
    await expect(page.locator(".spark[data-metric=lag_seconds] strong")).to_have_text("0 s")
    await journey.step("worker keeping up, no alert")

    assert workers[0].stop() in (0, -15)  # graceful: it commits what it processed
    await live_stack.send([passage(FACILITY, "in") for _ in range(120)])
    sampler.lag_alert_seconds = 3  # the deployment's 30 s would only make the test slower
    alert = page.locator("#alerts li[data-code=consumer_lag]")
    await expect(alert).to_be_visible(timeout=60_000)
    text = await alert.inner_text()
    group = settings.topic("paris-live-streams")
    found = re.search(
        rf"Traitement en retard de (\d+) s : groupe {re.escape(group)}, facility-passages "
        r"partition (\d+) \((\d[\d\u202f]*) événements en attente",
        text,
    )
    assert found, text
    assert int(found.group(1)) >= 3 and int(found.group(3).replace("\u202f", "")) == 120
    box = await alert.bounding_box()
    states = await page.get_by_role("heading", name="Équipements par état").bounding_box()
    assert box["y"] < states["y"] and box["y"] + box["height"] <= DESKTOP["height"]
    row = page.locator("#lagging tbody tr").filter(has_text="facility-passages")
    await expect(row).to_be_visible()
    assert await visible_count(page.locator("#alerts li.ok")) == 0  # no « Aucune alerte »
    ops_text = await page.locator(".ops").inner_text()
    assert "processing_lag_seconds" not in ops_text
    await journey.step("lag alert at the top")

    await no_axe_violations(page, "journey-ops-desktop")
    await page.set_viewport_size(PHONE)
    await no_axe_violations(page, "journey-ops-phone")
    await journey.step("phone")
    await fits_narrow(page)
    await journey.step("narrow")

    await page.set_viewport_size(DESKTOP)
    await page.goto(f"{live_stack.http}/ops?lang=en")  # the token stays in the tab
    alert = page.locator("#alerts li[data-code=consumer_lag]")
    await expect(alert).to_contain_text(re.compile(r"Processing \d+ s behind: group "))
    await journey.step("in English")
    assert journey.interactions == 2  # the token and « Se connecter »: the alert needs no search
