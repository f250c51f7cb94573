"""The agent console in Chromium, keyboard only, on the whole real path: console → API (JWT,
PostgreSQL, outbox) → Kafka ``facility-closures`` → stream worker → Redis → /v1/live → the
public card."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from api.auth import issue_token
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import run_axe, screenshot, start_api
from tests.streams.streams_testkit import WorkerProcess, passage, produce, seq
from tests.testkit import wait_until

pytestmark = [pytest.mark.browser, pytest.mark.integration]

FACILITY = "piscine-pontoise"
CARD = "paris-facility-card article"


@pytest.fixture
async def live_platform(
    kafka_topics: Settings, db: Settings, redis_client: aioredis.Redis, tmp_path: Path
) -> AsyncIterator[InProcessServer]:
    """A stream worker and the API on this test's topics, schema and Redis prefix; the facility
    has a live status written by the worker before the test starts."""
    settings = kafka_topics
    worker = WorkerProcess(settings, tmp_path)
    server = await start_api(settings)
    try:
        await produce(settings, [passage(FACILITY, "in", 2)])

        async def has_status() -> bool:
            return (await seq(redis_client, settings, FACILITY) or 0) > 0

        await wait_until(has_status, within=120, what="the worker's first status")
        yield server
    finally:
        await server.stop()
        if worker.stop() not in (0, -15):
            print(worker.tail(60))


async def focus_on(page: Any, condition: str) -> None:
    """Wait until ``condition`` (a JavaScript expression about the focus) holds (evaluated
    through the DevTools protocol: the pages' CSP forbids ``wait_for_function``'s eval)."""

    async def holds() -> bool:
        return bool(await page.evaluate(condition))

    await wait_until(holds, within=10, every=0.05, what=condition)


async def press(page: Any, *keys: str) -> None:
    for key in keys:
        await page.keyboard.press(key)


async def tab_to(page: Any, text: str, limit: int = 80) -> None:
    """Tab (keyboard only) until the focused element's text contains ``text``."""
    for _ in range(limit):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement?.textContent || ''")
        if text in focused:
            return
    raise AssertionError(f"no focusable element with {text!r} within {limit} Tab presses")


async def test_agent_declares_and_ends_a_closure_with_the_keyboard_only(
    page: Any, browser: Any, live_platform: InProcessServer, settings: Settings
) -> None:
    """Sign in, reason, an absolute reopening, publish — keyboard only, three activations for
    the closure, the summary giving the full date — the public card shows it with its reason and « déclaré par l'équipe », the console confirms
    it live; ending it the same way removes it from the card."""
    base = live_platform.http
    public = await page.context.new_page()
    await public.goto(f"{base}/facilities/{FACILITY}")
    await public.locator(CARD).wait_for()

    token = issue_token(settings, "agent-4821", "agent", facilities=[FACILITY])
    await page.goto(f"{base}/agent")
    await page.locator("#token").wait_for()
    await screenshot(page, "agent-signin")
    assert await page.evaluate("document.activeElement.id") == "token"
    await page.keyboard.insert_text(token)
    await tab_to(page, "Se connecter")
    await press(page, "Enter")
    await page.locator("#reasons button[aria-pressed]").first.wait_for()
    await focus_on(page, "document.activeElement?.dataset?.reason === 'staff_shortage'")

    await press(page, "Tab", "Enter")  # 1: reason « Panne technique »
    await focus_on(page, "document.activeElement?.dataset?.preset === '0'")
    reopening = (await page.evaluate("document.activeElement.textContent")).strip()
    await press(page, "Enter")  # 2: the first absolute reopening (« Ce soir à la fermeture (…) »)
    await focus_on(page, "document.activeElement?.id === 'publish'")
    preview = page.locator("#preview article")
    assert "Panne technique" in await preview.inner_text()
    assert "Réouverture prévue" in await preview.inner_text()
    summary = await page.locator("#summary").inner_text()
    assert "Panne technique" in summary and "jusqu'au" in summary, (reopening, summary)
    await screenshot(page, "agent-preview")
    began = time.perf_counter()
    await press(page, "Enter")  # 3: publish

    shown = public.locator(f"{CARD} li.closure")
    await shown.wait_for(timeout=30_000)
    latency = time.perf_counter() - began
    text = await shown.inner_text()
    assert "Panne technique" in text and "Réouverture prévue" in text
    assert "déclaré par l'équipe à" in text
    confirm = page.locator("#confirm.done")
    await confirm.wait_for(timeout=10_000)
    assert "Visible sur la fiche publique" in await confirm.inner_text()
    print(f"agent publish → public card: {latency * 1000:.0f} ms")
    await screenshot(page, "agent-confirmed")
    await screenshot(public, "facility-with-agent-closure")
    serious = await run_axe(page, "agent-console")
    assert not serious, serious

    await tab_to(page, "Terminer la fermeture")
    await press(page, "Enter")
    await page.locator("#confirm.done").filter(has_text="Fin de fermeture").wait_for(timeout=30_000)
    await shown.wait_for(state="detached", timeout=10_000)
    await public.close()
