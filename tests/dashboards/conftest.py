"""Page test fixtures: Debian's Chromium (Playwright), the real API on a Redis filled with a
simulated city, axe-core, and the artifacts the run leaves in ``test-artifacts/``:

- ``test-artifacts/screenshots/<page>.png`` — every page, as the tests saw it;
- ``test-artifacts/axe/<page>.json`` and ``test-artifacts/axe/summary.json`` — axe-core results.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis

from api.app import create_app
from bench.pages import CHROMIUM, CHROMIUM_ARGS, city_now, write_statuses
from paris_live.settings import Settings
from tests.api.conftest import InProcessServer, fast_hub

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_DIR = ARTIFACTS / "axe"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_SUMMARY: dict[str, dict[str, Any]] = {}


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


async def start_api(settings: Settings, port: int | None = None) -> InProcessServer:
    """The API in this event loop (on ``port`` when given, e.g. to come back where it was)."""
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    if port is not None:
        import uvicorn

        from api.server import uvicorn_config

        server.port = port
        server.server = uvicorn.Server(
            uvicorn_config(settings, app=server.server.config.app, port=port, log_level="warning")
        )
    await server.start()
    return server


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


async def screenshot(page: Any, name: str, *, full_page: bool = True) -> Path:
    """Save what the page shows now as ``test-artifacts/screenshots/<name>.png``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=full_page)
    return path


async def run_axe(page: Any, name: str) -> list[dict[str, Any]]:
    """axe-core (npm) in the page; every violation kept in ``test-artifacts/axe/<name>.json``,
    the counts per impact in the summary; returns the serious and critical ones."""
    assert AXE_SCRIPT.exists(), "run `npm ci` (axe-core is a devDependency)"
    # Evaluated through the DevTools protocol: the pages' CSP (script-src 'self') refuses an
    # injected inline <script>, and the audit must not need the policy loosened.
    await page.evaluate(AXE_SCRIPT.read_text(encoding="utf-8"))
    result = await page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations = [
        {
            "id": v["id"],
            "impact": v["impact"],
            "help": v["help"],
            "nodes": [n["target"] for n in v["nodes"]][:10],
        }
        for v in result["violations"]
    ]
    AXE_DIR.mkdir(parents=True, exist_ok=True)
    (AXE_DIR / f"{name}.json").write_text(
        json.dumps(violations, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    counts = {impact: 0 for impact in ("critical", "serious", "moderate", "minor")}
    for violation in violations:
        counts[violation["impact"] or "minor"] += 1
    AXE_SUMMARY[name] = {
        "url": page.url.split("?")[0].split("/", 3)[-1],
        "violations": counts,
        "passes_rules": len(result.get("passes", [])),
        "rules": sorted({v["id"] for v in violations}),
    }
    return [v for v in violations if v["impact"] in {"serious", "critical"}]
