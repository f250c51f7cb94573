"""Helpers of the page tests: the API served in-process (on a given port when a test brings it
back), screenshots and axe-core audits kept in ``test-artifacts/``:

- ``test-artifacts/screenshots/<page>.png`` — every page, as the tests saw it;
- ``test-artifacts/axe/<page>.json`` and ``test-artifacts/axe/summary.json`` — axe-core results
  (the summary is written by the ``browser`` fixture in ``conftest.py`` at the end of the session).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, fast_hub

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"
AXE_DIR = ARTIFACTS / "axe"
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_SUMMARY: dict[str, dict[str, Any]] = {}


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
