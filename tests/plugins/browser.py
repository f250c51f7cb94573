"""Browser fixtures (tests/dashboards, tests/journeys): Debian's Chromium (Playwright), the real
API on a Redis filled with a simulated city, and a fresh page per test; the axe-core summary
written at the end of the session. Declared once, in ``tests/conftest.py``. The helpers (``start_api``, ``screenshot``, ``run_axe``) are in
:mod:`tests.dashboards.dashboards_testkit`.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from bench.pages import CHROMIUM, CHROMIUM_ARGS, city_now, write_statuses
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import AXE_DIR, AXE_SUMMARY, start_api


@pytest.fixture(scope="session")
def city() -> list[bytes]:
    """Statuses of every facility after the simulator ran the last 3 hours (computed once)."""
    _city, statuses = city_now(3.0)
    return statuses


CHROMIUM_INSTALLED = Path(CHROMIUM).exists()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, driven by Playwright (never a downloaded browser)."""
    if not CHROMIUM_INSTALLED:
        pytest.skip(f"{CHROMIUM} is not installed")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()
    if AXE_SUMMARY:
        AXE_DIR.mkdir(parents=True, exist_ok=True)
        summary = json.dumps(AXE_SUMMARY, indent=2, ensure_ascii=False, sort_keys=True)
        (AXE_DIR / "summary.json").write_text(summary + "\n", encoding="utf-8")


@pytest.fixture
async def city_api(
    settings: Settings, db: Settings, redis_client: aioredis.Redis, city: list[bytes]
) -> AsyncIterator[InProcessServer]:
    """The API over this test's Redis prefix, filled with the simulated city first."""
    await write_statuses(redis_client, settings, city)
    server = await start_api(settings)
    yield server
    await server.stop()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser page in Paris time and French; JavaScript errors fail the test."""
    context = await browser.new_context(
        viewport={"width": 1366, "height": 900}, timezone_id="Europe/Paris", locale="fr-FR"
    )
    tab = await context.new_page()
    errors: list[str] = []
    tab.on("pageerror", lambda error: errors.append(str(error)))
    yield tab
    await context.close()
    assert not errors, f"JavaScript errors on the page: {errors}"
