"""Journeys through the feedback pages, in Debian's Chromium on the real API, PostgreSQL, Redis and
Kafka: a complaint whose contact is refused then fixed, the survey answered on a phone, the public
results with too few and with enough answers, and every page's accessibility and width.

Each journey leaves its screenshots in ``test-artifacts/journeys/<journey>/``.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.feedback.transparency import MIN_SAMPLE
from paris_live.settings import Settings
from producers.publisher import Publisher, PublisherOptions
from schemas import topics
from schemas.catalogue import load_catalogue
from streams.feedback.job import FeedbackJob
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.dashboards.dashboards_testkit import AXE_DIR, run_axe
from tests.feedback.feedback_testkit import read_topic
from tests.feedback.simulate import Month, simulate_month
from tests.journeys.journeykit import (
    DESKTOP,
    NARROW,
    PHONE,
    Journey,
    horizontal_overflow,
    scroll_to,
    visible_count,
    visible_texts,
)
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

POOL = load_catalogue().by_type("pool")[0]
TEXT = "Vestiaires sales le 3 juin vers 18 h, personne pour nettoyer malgré ma demande."
SURVEY_BEFORE = 2333
"""The survey's height on a phone before its redesign (CSS pixels)."""

# What each language writes where the other must not show through.
WORDS = {
    "fr": {
        "welcome": "Qualité de l'accueil",
        "contact_error": "indiquez une adresse électronique",
        "summary": "Le formulaire contient des erreurs",
        "kept": "Conservez sa référence",
        "few": "Pas assez de réponses ce mois-ci",
        "one": "(1 réponse)",
    },
    "en": {
        "welcome": "Quality of the welcome",
        "contact_error": "enter an e-mail address",
        "summary": "The form has errors",
        "kept": "Keep its reference",
        "few": "Not enough answers this month",
        "one": "(1 answer)",
    },
}


@dataclass
class FeedbackStack:
    """The API over this test's schema, topics and Redis prefix."""

    api: InProcessServer
    settings: Settings

    @property
    def base(self) -> str:
        return self.api.http


@pytest.fixture
async def feedback_stack(
    settings: Settings, db: Settings, kafka_topics: Settings, redis_client: Any, tmp_path: Path
) -> AsyncIterator[FeedbackStack]:
    """The whole API on a free loopback port (its spool in the test's tmp dir)."""
    isolated = fast_hub(settings).model_copy(update={"state_dir": tmp_path})
    server = InProcessServer(create_app(isolated), isolated)
    await server.start()
    yield FeedbackStack(server, isolated)
    await server.stop()


@pytest.fixture
async def feedback_job(feedback_stack: FeedbackStack) -> AsyncIterator[FeedbackJob]:
    """The feedback job (aggregates for /transparence) consuming this test's topics."""
    job = FeedbackJob(feedback_stack.settings)
    stop = asyncio.Event()
    task = asyncio.create_task(job.run(stop), name="feedback-job")
    yield job
    stop.set()
    await asyncio.wait_for(task, timeout=20)


async def axe_clean(page: Any, name: str) -> list[dict[str, Any]]:
    """Every axe-core violation (colour contrast included), whatever its impact."""
    await run_axe(page, name)
    violations: list[dict[str, Any]] = json.loads((AXE_DIR / f"{name}.json").read_text("utf-8"))
    return violations


async def page_height(page: Any) -> int:
    """How far a person scrolls through the page's content (the site footer, added to every
    page since the 2,333 px measure, is left out so the two compare)."""
    height: int = await page.evaluate(
        "() => Math.round(document.querySelector('main').getBoundingClientRect().bottom + scrollY)"
    )
    return height


# ── A complaint with a contact that is no contact ─────────────────────────────────────────────


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_a_bad_contact_is_refused_in_the_page_language_then_the_fixed_complaint_is_received(
    feedback_stack: FeedbackStack, page: Any, lang: str
) -> None:
    """« pas un email » is refused next to the field and in the summary, in the page's language
    only; the message goes as soon as a real address is typed; sent again, the complaint is
    received and its reference shown."""
    from playwright.async_api import expect

    words, other = WORDS[lang], WORDS["en" if lang == "fr" else "fr"]
    await page.set_viewport_size(PHONE)
    journey = Journey(f"complaint-bad-contact-{lang}", page)
    await page.goto(f"{feedback_stack.base}/complaints?facility={POOL.id}&lang={lang}")
    await expect(page.locator("#f-facility")).to_have_value(POOL.id)
    await journey.step("form opened with the facility chosen")

    await page.get_by_label(words["welcome"]).check()
    journey.act()
    await page.locator("#f-text").fill(TEXT)
    journey.act()
    contact = page.locator("#f-contact")
    await contact.fill("pas un email")
    journey.act()
    await page.locator("form.feedback-form button[type=submit]").click()
    journey.act()

    error = page.locator("#err-contact")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text(words["contact_error"])
    assert " / " not in await error.inner_text()
    await expect(contact).to_have_attribute("aria-invalid", "true")
    assert "err-contact" in (await contact.get_attribute("aria-describedby") or "")
    summary = page.locator(".error-summary")
    await expect(summary).to_be_visible()
    await expect(summary.get_by_role("heading")).to_have_text(words["summary"])
    links = summary.get_by_role("link")
    assert await visible_count(links) == 1  # only the contact is wrong
    linked = (await visible_texts(links))[0]
    assert words["contact_error"] in linked
    assert " — " in linked and " : " not in linked, linked  # no « ? : », no French colon in English
    assert await visible_count(page.get_by_text(other["contact_error"])) == 0
    assert await visible_count(page.get_by_text(other["summary"])) == 0
    await journey.step("refused, the error next to the field and in the summary", full_page=True)

    await links.first.click()
    journey.act()
    await expect(contact).to_be_focused()
    await contact.fill("claire.dupont@example.org")
    journey.act()
    await expect(error).to_be_hidden()
    await expect(summary).to_be_hidden()
    await expect(contact).not_to_have_attribute("aria-invalid", "true")
    await journey.step("the message gone once the address is fixed")

    await page.locator("form.feedback-form button[type=submit]").click()
    journey.act()
    reference = page.locator(".receipt .reference")
    await expect(reference).to_be_visible()
    await expect(reference).to_have_text(re.compile(r"^REC-\d{4}-[A-Z0-9]{5}-[A-Z0-9]{5}$"))
    await expect(page.get_by_text(words["kept"])).to_be_visible()
    await journey.step("received, with its reference")
    filed = await read_topic(feedback_stack.settings, topics.COMPLAINTS, expect=1)
    assert [event["id"] for _, event in filed] == [f"{await reference.inner_text()}:filed"]


# ── The survey on a phone ─────────────────────────────────────────────────────────────────────


async def test_the_survey_is_answered_in_at_most_twelve_interactions_on_a_phone(
    feedback_stack: FeedbackStack, page: Any
) -> None:
    """Five ratings, one comment, one send: each a tap on a large labelled button; the answer
    reaches Kafka with every rating the published figures count."""
    from playwright.async_api import expect

    await page.set_viewport_size(PHONE)
    journey = Journey("survey-phone", page)
    await page.goto(f"{feedback_stack.base}/feedback/{POOL.id}")
    height = await page_height(page)
    await journey.step(f"survey opened from the screen's QR code, {height} px tall")
    assert height < SURVEY_BEFORE * 0.75, f"{height} px tall on a phone"

    questions = page.locator("fieldset.scale")
    assert await visible_count(questions) == 5  # overall, then the four golden rules
    assert await visible_count(page.locator("textarea")) == 1
    choices = [4, 5, 2, 4, 5]
    for i, choice in enumerate(choices):
        question = questions.nth(i)
        button = question.locator("label.rating").nth(choice - 1)
        box = await button.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44, box
        await scroll_to(button)
        await button.click()
        journey.act()
        await expect(
            question.get_by_role("radio", name=re.compile(f"^{choice} sur 5"))
        ).to_be_checked()
        legend = (await question.locator("legend .question").inner_text()).strip()
        await journey.step(f"question {i + 1} rated {choice} - {legend[:30]}")

    comment = page.get_by_label("Un commentaire ? (facultatif)")
    await comment.click()
    journey.act()
    await comment.press_sequentially("Bassin très propre, vestiaires pleins à 18 h.")
    journey.act()  # the comment, typed in one go
    await journey.step("comment typed")
    await page.get_by_role("button", name="Envoyer mon avis").click()
    journey.act()
    thanks = page.get_by_role("heading", name="Merci pour votre avis !")
    await expect(thanks).to_be_visible()
    await journey.step("thanked")

    assert journey.interactions <= 12, journey.interactions
    assert journey.interactions == 8
    [(key, event)] = await read_topic(feedback_stack.settings, topics.SURVEYS, expect=1)
    data = event["data"]
    assert key == POOL.id and data["rating"] == 4
    assert data["rule_ratings"] == {"information": 5, "delays": 2, "orientation": 4, "welcome": 5}
    assert data["rules_not_kept"] == ["delays"]
    assert data["comment"] == "Bassin très propre, vestiaires pleins à 18 h."


async def test_a_survey_without_its_required_rating_says_so_in_english_and_recovers(
    feedback_stack: FeedbackStack, page: Any
) -> None:
    """Sent without the overall rating: the English page says so in English only, next to the
    question; one tap on a rating takes the message away; an optional rating given by mistake
    can be cleared, and is then not sent."""
    from playwright.async_api import expect

    await page.set_viewport_size(PHONE)
    journey = Journey("survey-required-en", page)
    await page.goto(f"{feedback_stack.base}/feedback/{POOL.id}?lang=en")
    await page.get_by_role("button", name="Send my feedback").click()
    journey.act()
    error = page.locator("#err-rating")
    await expect(error).to_have_text("required")
    assert await visible_count(page.get_by_text("obligatoire", exact=False)) == 0
    await journey.step("refused in English", full_page=False)
    await page.locator('fieldset[data-field="rating"] label.rating').nth(2).click()
    journey.act()
    await expect(error).to_be_hidden()
    await expect(page.locator(".error-summary")).to_be_hidden()
    await journey.step("the message gone after one tap")

    welcome = page.locator('fieldset[data-field="rule_ratings.welcome"]')
    clear = welcome.get_by_text("Clear my rating")
    await expect(clear).to_be_hidden()  # nothing to clear yet
    await welcome.locator("label.rating").nth(0).click()
    journey.act()
    await expect(clear).to_be_visible()
    await journey.step("an optional question rated, its rating can be cleared")
    await clear.click()
    journey.act()
    assert await welcome.locator(".options input:checked").count() == 0
    await expect(clear).to_be_hidden()
    await page.get_by_role("button", name="Send my feedback").click()
    journey.act()
    await expect(page.get_by_role("heading", name="Thank you for your feedback!")).to_be_visible()
    [(_, event)] = await read_topic(feedback_stack.settings, topics.SURVEYS, expect=1)
    assert event["data"]["rating"] == 3 and event["data"]["rule_ratings"] is None


# ── /transparence ─────────────────────────────────────────────────────────────────────────────


async def publish(settings: Settings, month: Month, name: str) -> None:
    """The month's events through a producer, as the API and the screens send them."""
    options = PublisherOptions(name=name, spool_path=Path(settings.state_dir) / f"{name}.sqlite3")
    async with Publisher(settings, options) as publisher:
        result = await publisher.publish_many(month.events)
        assert result.sent == len(month.events)


async def counted(stack: FeedbackStack, month: Month) -> dict[str, Any]:
    """The month's report once the feedback job counted every answer and complaint."""
    label = f"{month.start:%Y-%m}"
    report: dict[str, Any] = {}

    async def complete() -> bool:
        nonlocal report
        async with httpx.AsyncClient(base_url=stack.base) as http:
            report = (await http.get(f"/v1/transparency?month={label}")).json()
        overall = report["satisfaction"]["by_aspect"][0]["responses"]
        return bool(overall == month.surveys and report["complaints"]["filed"] == month.filed)

    await wait_until(complete, within=90, what=f"every answer and complaint of {label} counted")
    return report


async def test_transparency_shows_figures_only_from_enough_answers(
    feedback_stack: FeedbackStack, feedback_job: FeedbackJob, page: Any
) -> None:
    """A month with one answer says « pas assez de réponses ce mois-ci » (no « 2,0/5 (1
    réponses) »); a month with hundreds shows the averages and the délais, median and 90th
    percentile explained; no horizontal scroll at 320 px or 360 px, axe-core clean."""
    from playwright.async_api import expect

    few = simulate_month(2025, 4, surveys=1, complaints=3, seed=41)
    many = simulate_month(2025, 5, surveys=400, complaints=260, seed=42)
    await publish(feedback_stack.settings, few, "few")
    await publish(feedback_stack.settings, many, "many")
    await counted(feedback_stack, few)
    report = await counted(feedback_stack, many)
    published = [s for s in report["services"] if s["published"]]
    assert published, "the simulated month gives some service enough answers"

    for lang in ("fr", "en"):
        words = WORDS[lang]
        journey = Journey(f"transparency-{lang}", page)
        await page.set_viewport_size(PHONE)
        await page.goto(f"{feedback_stack.base}/transparence?month=2025-04&lang={lang}")
        kpi = page.locator(".kpis li").first
        await expect(kpi).to_contain_text(words["few"])
        await expect(kpi).to_contain_text(words["one"])
        await expect(page.locator("#min-sample")).to_contain_text(f" {MIN_SAMPLE} ")
        assert not re.search(r"\d[,.]\d/5", await kpi.inner_text())
        assert await visible_count(page.get_by_text(re.compile(r"1 (réponses|answers)\b"))) == 0
        await journey.step("a month with one answer", full_page=True)
        assert await horizontal_overflow(page) == 0

        await page.goto(f"{feedback_stack.base}/transparence?month=2025-05&lang={lang}")
        overall = report["satisfaction"]["by_aspect"][0]
        shown = f"{overall['average']:.1f}".replace(".", "," if lang == "fr" else ".")
        await expect(page.locator(".kpis li").first).to_contain_text(f"{shown}/5")
        median_word, p90_word = (
            ("Médiane", "90e centile") if lang == "fr" else ("Median", "90th percentile")
        )
        explain = page.locator("dl.explain")
        await expect(explain.get_by_text(median_word, exact=True)).to_be_visible()
        await expect(explain.get_by_text(p90_word, exact=True)).to_be_visible()
        assert await visible_count(explain.locator("dd")) == 2
        delays = page.locator("section[aria-labelledby=h-del] tbody tr")
        assert await visible_count(delays) == len(report["services"])
        first = published[0]
        median = f"{first['median_days']:.1f}".replace(".", "," if lang == "fr" else ".")
        row = delays.nth(report["services"].index(first))
        await expect(row.locator("td").nth(3)).to_have_text(median)
        await journey.step("a month with enough answers, on a phone", full_page=True)
        if lang == "fr":  # a direction written out the first time, its acronym alone after
            names = await visible_texts(page.locator("section[aria-labelledby=h-del] tbody th"))
            djs = [n for n in names if "DJS" in n]
            assert djs[0].endswith("Direction de la Jeunesse et des Sports (DJS)"), djs
            assert all(n.endswith("(DJS)") and "Direction" not in n for n in djs[1:]), djs
            assert await axe_clean(page, "feedback-transparency-figures-phone") == []
        for viewport in (NARROW, PHONE):
            await page.set_viewport_size(viewport)
            assert await horizontal_overflow(page) == 0, viewport
        await page.set_viewport_size(NARROW)
        await journey.step("at 320 px", full_page=True)
        await page.set_viewport_size(DESKTOP)
        await journey.step("on a desktop", full_page=True)
        assert await axe_clean(page, f"feedback-transparency-figures-desktop-{lang}") == []


# ── Every page: accessibility and width ───────────────────────────────────────────────────────


async def test_every_feedback_page_passes_axe_and_fits_320_px(
    feedback_stack: FeedbackStack, page: Any
) -> None:
    """Complaint form (empty and with its errors shown), survey, complaint status and
    /transparence: 0 axe-core violations on a phone and a desktop, no horizontal scroll at 320 px,
    the acronyms of the directions written out."""
    from playwright.async_api import expect

    async with httpx.AsyncClient(base_url=feedback_stack.base) as http:
        filed = await http.post(
            "/v1/complaints",
            json={"facility_id": POOL.id, "rule": "welcome", "text": TEXT},
        )
    reference = filed.json()["reference"]
    pages = {
        "complaint": f"/complaints?facility={POOL.id}",
        "complaint-errors": f"/complaints?facility={POOL.id}",
        "survey": f"/feedback/{POOL.id}",
        "status": f"/complaints/{reference}?nouveau=1",
        "transparency": "/transparence",
    }
    found: dict[str, list[dict[str, Any]]] = {}
    for name, path in pages.items():
        for lang in ("fr", "en"):
            url = f"{feedback_stack.base}{path}{'&' if '?' in path else '?'}lang={lang}"
            for label, viewport in (("phone", PHONE), ("desktop", DESKTOP), ("narrow", NARROW)):
                await page.set_viewport_size(viewport)
                await page.goto(url)
                if name == "complaint-errors":
                    await page.locator("#f-contact").fill("pas un email")
                    await page.locator("form.feedback-form button[type=submit]").click()
                    await expect(page.locator("#err-contact")).to_be_visible()
                if label == "narrow":
                    assert await horizontal_overflow(page) == 0, (name, lang, label)
                    continue
                violations = await axe_clean(page, f"feedback-{name}-{lang}-{label}")
                if violations:
                    found[f"{name}-{lang}-{label}"] = violations
    assert found == {}

    await page.goto(f"{feedback_stack.base}/complaints/{reference}")
    service = page.locator("dl.status dd").nth(2)
    await expect(service).to_have_text(
        "Service des piscines — Direction de la Jeunesse et des Sports (DJS)"
    )
