"""/transparence and the open-data exports over a simulated month, computed by the feedback job
from real Kafka into real PostgreSQL; a screenshot and an axe-core check in Debian's Chromium."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from api.feedback.datasets import DATASETS
from api.feedback.transparency import MIN_SAMPLE
from paris_live.settings import Settings
from producers.publisher import Publisher, PublisherOptions
from streams.feedback.job import FeedbackJob
from tests.feedback.feedback_testkit import SCREENSHOTS, FeedbackApi
from tests.feedback.simulate import Month, median_days, simulate_month
from tests.testkit import wait_until

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
needs_chromium = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is not installed"
)


async def publish(settings: Settings, month: Month, name: str) -> None:
    options = PublisherOptions(name=name, spool_path=Path(settings.state_dir) / f"{name}.sqlite3")
    async with Publisher(settings, options) as publisher:
        result = await publisher.publish_many(month.events)
        assert result.sent == len(month.events)


async def month_report(feedback_api: FeedbackApi, month: Month, job: FeedbackJob) -> dict[str, Any]:
    label = f"{month.start:%Y-%m}"

    report: dict[str, Any] = {}

    async def complete() -> bool:
        nonlocal report
        report = (await feedback_api.http.get(f"/v1/transparency?month={label}")).json()
        overall = report["satisfaction"]["by_aspect"][0]["responses"]
        return bool(overall == month.surveys and report["complaints"]["answered"] == month.answered)

    await wait_until(complete, within=60, what=f"every answer and complaint of {label} counted")
    return report


@needs_chromium
async def test_a_simulated_month_gives_the_published_figures(
    feedback_api: FeedbackApi, feedback_job: FeedbackJob
) -> None:
    """600 answers and 90 complaints of May 2025: totals, averages, median délais and exports
    match the simulation; a replay changes nothing; the page shows it and the Médiateur."""
    month = simulate_month()
    await publish(feedback_api.settings, month, "sim-1")
    report = await month_report(feedback_api, month, feedback_job)
    overall = report["satisfaction"]["by_aspect"][0]
    assert overall["average"] == round(month.rating_sum / month.surveys, 2)
    complaints = report["complaints"]
    assert (complaints["filed"], complaints["acknowledged"], complaints["answered"]) == (
        month.filed,
        month.acknowledged,
        month.answered,
    )
    assert complaints["answered_on_time"] == month.on_time
    assert complaints["overdue_unanswered"] == month.filed - month.answered  # all past due now
    for service in report["services"]:
        assert service["published"] == (service["answered"] >= MIN_SAMPLE)
        if service["published"]:
            expected = median_days(month, service["service_id"])
            assert abs(service["median_days"] - expected) < 0.01, service["service_id"]
    assert report["months"] == ["2025-05"]

    # at-least-once delivery: the same events again change no figure
    await publish(feedback_api.settings, month, "sim-2")

    async def replayed() -> bool:
        return feedback_job.stats.records >= 2 * len(month.events)

    await wait_until(replayed, within=60, what="the replayed events consumed")
    again = (await feedback_api.http.get("/v1/transparency?month=2025-05")).json()
    assert again["satisfaction"] == report["satisfaction"]
    assert again["complaints"] == report["complaints"]

    # open data: documented columns, the same totals
    http = feedback_api.http
    for name, dataset in DATASETS.items():
        columns = dataset.columns
        raw = (await http.get(f"/v1/open-data/{name}.csv?month=2025-05")).content
        rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
        assert rows and list(rows[0]) == [c.name for c in columns]
        doc = (await http.get(f"/v1/open-data/{name}.json?month=2025-05")).json()
        assert [c["name"] for c in doc["columns"]] == [c.name for c in columns]
        assert all(c["description"]["fr"] and c["description"]["en"] for c in doc["columns"])
        assert len(doc["rows"]) == len(rows)
    satisfaction = (await http.get("/v1/open-data/satisfaction.json?month=2025-05")).json()
    assert sum(r["responses"] for r in satisfaction["rows"] if r["aspect"] == "overall") == 600
    filed = (await http.get("/v1/open-data/complaints.json?month=2025-05")).json()
    assert sum(r["filed"] for r in filed["rows"]) == month.filed
    index = (await http.get("/v1/open-data")).json()
    assert index["months"] == ["2025-05"] and len(index["datasets"]) == 3

    page = await http.get("/transparence?month=2025-05")
    assert page.status_code == 200 and "mai 2025" in page.text
    assert "Médiateur de la Ville de Paris" in page.text
    assert "/v1/open-data/complaints.csv?month=2025-05" in page.text
    english = (await http.get("/transparence?month=2025-05&lang=en")).text
    assert "délai" not in english and " : <a" not in english  # no French word, no French colon
    await _screenshot_and_axe(feedback_api.base)


async def _screenshot_and_axe(base: str) -> None:
    from playwright.async_api import async_playwright

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900})
            audit = await browser.new_page(bypass_csp=True)  # lets axe-core be injected
            for path, shot in (
                ("/transparence?month=2025-05", "transparence.png"),
                ("/feedback/piscine-suzanne-berlioux", "feedback-survey.png"),
                ("/complaints", "feedback-complaint.png"),
            ):
                response = await page.goto(base + path)
                assert response is not None and response.ok
                await page.screenshot(path=str(SCREENSHOTS / shot), full_page=True)
                if AXE.exists():
                    await audit.goto(base + path)
                    await audit.add_script_tag(path=str(AXE))
                    result = await audit.evaluate("async () => await axe.run(document)")
                    serious = [
                        v["id"]
                        for v in result["violations"]
                        if v["impact"] in ("serious", "critical")
                    ]
                    assert serious == [], (path, json.dumps(result["violations"])[:2000])
            assert (SCREENSHOTS / "transparence.png").stat().st_size > 20_000
        finally:
            await browser.close()


@needs_chromium
async def test_the_survey_page_submits_and_thanks_in_the_browser(
    feedback_api: FeedbackApi,
) -> None:
    """Keyboard only: pick a rating, type a comment, send; errors first point at the field."""
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page()
            await page.goto(feedback_api.base + "/feedback/piscine-suzanne-berlioux")
            await page.click("button[type=submit]")  # nothing chosen: the rating is required
            summary = page.locator(".error-summary")
            await summary.wait_for(state="visible")
            assert (
                "rating" in (await summary.inner_text())
                or "Satisfait" in (await summary.inner_text())
                or "obligatoire" in (await summary.inner_text())
            )
            assert await page.evaluate("document.activeElement.classList.contains('error-summary')")
            await page.check("input[name=rating][value='4']")
            await page.fill("#f-comment", "Bassin très propre")
            await page.keyboard.press("Tab")
            await page.click("button[type=submit]")
            await page.locator(".done h2").wait_for(state="visible")
            assert await page.evaluate("document.activeElement.tagName") == "H2"
        finally:
            await browser.close()
