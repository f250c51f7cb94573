"""A complaint about a démarche, in Debian's Chromium on the real API, PostgreSQL, Redis and Kafka
(issue 17): from the FPS démarche's page, « Ce délai n'a pas été tenu ? » opens the complaint form
naming the démarche, sent without a facility it is received by the parking-fines service with its
committed délai, and /transparence counts it by démarche.

Screenshots in ``test-artifacts/journeys/procedure-complaint-<lang>/``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from paris_live.settings import Settings
from schemas import topics
from streams.feedback.job import FeedbackJob
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe
from tests.feedback.feedback_testkit import read_topic
from tests.journeys.journeykit import NARROW, PHONE, Journey, horizontal_overflow, visible_count
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

FPS = "parking-fine-appeal"
TEXT = "Recours RAPO déposé il y a deux mois, toujours aucune réponse de la Ville."
WORDS = {
    "fr": {
        "not_kept": "Ce délai n'a pas été tenu ?",
        "procedure": "Contester un forfait post-stationnement (RAPO)",
        "optional": "Si la démarche concerne un lieu précis (facultatif)",
        "send": "Envoyer la réclamation",
        "service": "Service des forfaits post-stationnement (recours RAPO)",
        "delay": "30 jours",
        "by_procedure": "Réclamations par démarche",
    },
    "en": {
        "not_kept": "Was this time limit not met?",
        "procedure": "Contesting a parking fine (RAPO)",
        "optional": "If the procedure concerns a particular place (optional)",
        "send": "Send the complaint",
        "service": "Parking fines (FPS) appeals service",
        "delay": "30 days",
        "by_procedure": "Complaints by procedure",
    },
}


@dataclass
class Stack:
    api: InProcessServer
    settings: Settings


@pytest.fixture
async def stack(
    settings: Settings, db: Settings, kafka_topics: Settings, redis_client: Any, tmp_path: Path
) -> AsyncIterator[Stack]:
    """The whole API over this test's schema, topics and Redis prefix, with the feedback job."""
    isolated = fast_hub(settings).model_copy(update={"state_dir": tmp_path})
    server = InProcessServer(create_app(isolated), isolated)
    await server.start()
    job = FeedbackJob(isolated)
    stop = asyncio.Event()
    task = asyncio.create_task(job.run(stop), name="feedback-job")
    yield Stack(server, isolated)
    stop.set()
    await asyncio.wait_for(task, timeout=20)
    await server.stop()


async def every_axe_violation(page: Any, name: str) -> list[dict[str, Any]]:
    """Every axe-core violation (colour contrast included), whatever its impact."""
    await run_axe(page, name)
    found: list[dict[str, Any]] = json.loads((AXE_DIR / f"{name}.json").read_text("utf-8"))
    return found


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_a_delay_not_kept_on_a_demarche_is_sent_without_a_facility(
    stack: Stack, page: Any, lang: str
) -> None:
    """FPS page → « Ce délai n'a pas été tenu ? » → the form names the démarche, the facility
    optional; sent as is, the received page names the parking-fines service and its 30 days;
    /transparence then counts one complaint for that démarche."""
    from playwright.async_api import expect

    words = WORDS[lang]
    base = stack.api.http
    await page.set_viewport_size(PHONE)
    journey = Journey(f"procedure-complaint-{lang}", page)
    await page.goto(f"{base}/demarches/{FPS}?lang={lang}")
    link = page.get_by_role("link", name=words["not_kept"])
    await expect(link).to_be_visible()
    await journey.step("the démarche's page")
    await link.click()
    journey.act()

    await expect(page).to_have_url(re.compile(rf"/complaints\?procedure={FPS}"))
    heading = page.get_by_role("heading", level=2, name=re.compile(re.escape(words["procedure"])))
    await expect(heading).to_be_visible()
    await expect(page.get_by_text(words["service"]).first).to_be_visible()
    facility = page.get_by_label(words["optional"])
    await expect(facility).to_be_visible()
    await expect(facility).to_have_value("")
    assert await horizontal_overflow(page) == 0
    assert await every_axe_violation(page, f"procedure-complaint-form-{lang}") == []
    await journey.step("the form naming the démarche, the facility optional")
    await page.set_viewport_size(NARROW)
    assert await horizontal_overflow(page) == 0
    await page.set_viewport_size(PHONE)

    text = page.locator("#f-text")
    await text.fill(f"{await text.input_value()}{TEXT}")
    journey.act()
    await page.get_by_role("button", name=words["send"]).click()
    journey.act()

    reference = page.locator(".receipt .reference")
    await expect(reference).to_be_visible()
    await expect(reference).to_have_text(re.compile(r"^REC-\d{4}-[A-Z0-9]{5}-[A-Z0-9]{5}$"))
    receipt = page.locator(".receipt")
    await expect(receipt).to_contain_text(words["service"])
    await expect(receipt).to_contain_text(words["delay"])
    await expect(page.get_by_text(words["procedure"], exact=True)).to_be_visible()
    assert await every_axe_violation(page, f"procedure-complaint-received-{lang}") == []
    await journey.step("received by the parking-fines service, with its délai")
    filed = await read_topic(stack.settings, topics.COMPLAINTS, expect=1)
    assert [key for key, _ in filed] == [FPS]
    assert filed[0][1]["id"] == f"{await reference.inner_text()}:filed"

    async def counted() -> bool:
        await page.goto(f"{base}/transparence?lang={lang}")
        return await visible_count(page.get_by_text(words["by_procedure"])) == 1

    await wait_until(counted, within=20, what="the démarche's complaint counted")
    row = page.get_by_role("row", name=re.compile(re.escape(words["procedure"])))
    await expect(row).to_be_visible()
    await expect(row.get_by_role("cell")).to_have_text("1")
    await journey.step("counted by démarche on /transparence")
