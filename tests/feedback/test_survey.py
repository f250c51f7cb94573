"""The QR survey on the real API, Redis and Kafka: what a visitor sees, what reaches Kafka, and
what the anti-abuse limits let through."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from schemas import topics
from schemas.catalogue import load_catalogue
from tests.feedback.feedback_testkit import FeedbackApi, read_topic

pytestmark = pytest.mark.integration

POOL = load_catalogue().by_type("pool")[0]
LIBRARY = load_catalogue().by_type("library")[0]


def answer(**changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "rating": 4,
        "rule_ratings": {"information": 5, "delays": 2, "welcome": 5},
        "liked": "Bassin propre",
        "went_wrong": "Vestiaires pleins",
        "comment": "Accueil aimable",
        "channel": "screen",
    }
    body.update(changes)
    return body


async def test_an_answer_is_published_on_feedback_surveys(feedback_api: FeedbackApi) -> None:
    """A posted answer is accepted (202) and lands on feedback-surveys keyed by the facility."""
    response = await feedback_api.http.post(f"/v1/facilities/{POOL.id}/feedback", json=answer())
    assert response.status_code == 202, response.text
    assert response.json()["response_id"].startswith("srv-")
    records = await read_topic(feedback_api.settings, topics.SURVEYS, expect=1)
    assert len(records) == 1
    key, event = records[0]
    assert key == POOL.id == event["subject"]
    assert event["type"] == "fr.paris.feedback.survey.submitted"
    data = event["data"]
    assert data["rating"] == 4
    assert data["rule_ratings"] == {
        "information": 5, "delays": 2, "orientation": None, "welcome": 5
    }  # fmt: skip
    assert data["rules_not_kept"] == ["delays"]  # rated 1 or 2
    assert data["went_wrong"] == "Vestiaires pleins"
    assert data["comment"] == "Accueil aimable"  # the page's one comment box


async def test_the_survey_page_is_french_first_labelled_and_self_contained(
    feedback_api: FeedbackApi,
) -> None:
    """The QR page: French by default, English on request, every control labelled, no CDN; five
    rating questions and one comment box."""
    page = await feedback_api.http.get(f"/feedback/{POOL.id}")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="fr">' in html and POOL.name in html
    assert re.findall(r'<textarea id="([^"]+)"', html) == ["f-comment"]
    assert '<label for="f-comment">' in html
    assert html.count("<legend>") == 5  # overall, four rules
    assert not re.search(r'(src|href)="(https?:)?//', html), "no external resource"
    assert "pl_device" in page.headers["set-cookie"] and "HttpOnly" in page.headers["set-cookie"]
    english = await feedback_api.http.get(f"/feedback/{POOL.id}?lang=en")
    assert '<html lang="en">' in english.text and "A comment? (optional)" in english.text
    for asset in ("feedback.css", "forms.js"):
        assert (await feedback_api.http.get(f"/feedback-assets/{asset}")).status_code == 200
    assert (await feedback_api.http.get("/feedback/piscine-inexistante")).status_code == 404


async def test_a_device_cools_down_per_facility(feedback_api: FeedbackApi) -> None:
    """The same phone answering twice for one facility gets 429 with Retry-After, not for another."""
    http = feedback_api.http
    await http.get(f"/feedback/{POOL.id}")  # sets the device cookie
    assert "pl_device" in http.cookies
    assert (await http.post(f"/v1/facilities/{POOL.id}/feedback", json=answer())).status_code == 202
    again = await http.post(f"/v1/facilities/{POOL.id}/feedback", json=answer())
    assert again.status_code == 429
    assert int(again.headers["retry-after"]) > 60
    assert again.json()["error"]["code"] == "rate_limited"
    assert "réessayez" in again.json()["error"]["message"]
    other = await http.post(f"/v1/facilities/{LIBRARY.id}/feedback", json=answer())
    assert other.status_code == 202


async def test_a_filled_honeypot_is_thanked_and_dropped(feedback_api: FeedbackApi) -> None:
    """A bot filling the hidden field sees a success, but only the person's answer is published."""
    bot = await feedback_api.http.post(
        f"/v1/facilities/{POOL.id}/feedback", json=answer(website="http://spam.example")
    )
    assert bot.status_code == 202
    person = await feedback_api.http.post(
        f"/v1/facilities/{POOL.id}/feedback", json=answer(rating=2)
    )
    assert person.status_code == 202
    records = await read_topic(feedback_api.settings, topics.SURVEYS, expect=1)
    assert [event["data"]["rating"] for _, event in records] == [2]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (answer(rating=7), "rating"),
        (answer(rating=None), "rating"),
        (answer(rule_ratings={"welcome": 0}), "rule_ratings.welcome"),
        (answer(rule_ratings={"speed": 3}), "rule_ratings.speed"),
        (answer(liked="x" * 1001), "liked"),
        (answer(channel="fax"), "channel"),
        (answer(nickname="bob"), "nickname"),
        (answer(service_id="no-such-desk"), "service_id"),
    ],
)
async def test_invalid_answers_get_422_tied_to_the_field(
    feedback_api: FeedbackApi, body: dict[str, object], field: str
) -> None:
    """Each invalid field is named in the 422, with a French then English message."""
    response = await feedback_api.http.post(f"/v1/facilities/{POOL.id}/feedback", json=body)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert field in error["fields"], error
    assert " / " in error["fields"][field]


async def test_malformed_oversized_or_misaddressed_bodies_get_4xx(
    feedback_api: FeedbackApi,
) -> None:
    """Not JSON → 422, a 40 kB body → 413, an unknown facility → 404, all in the error shape."""
    http = feedback_api.http
    url = f"/v1/facilities/{POOL.id}/feedback"
    bad = await http.post(url, content=b"{rating: 4", headers={"content-type": "application/json"})
    assert bad.status_code == 422 and "JSON" in bad.json()["error"]["message"]
    big = await http.post(url, json=answer(liked="é" * 20_000))
    assert big.status_code == 413
    assert big.json()["error"]["code"]
    unknown = await http.post("/v1/facilities/piscine-inexistante/feedback", json=answer())
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_facility"
    form = await http.post(url, data={"rating": "9"})
    assert form.status_code == 422 and "text/html" in form.headers["content-type"]
    assert "Revenir au questionnaire" in form.text


async def test_the_form_works_without_javascript(feedback_api: FeedbackApi) -> None:
    """A plain HTML form post is recorded and redirected to the thank-you page."""
    response = await feedback_api.http.post(
        f"/v1/facilities/{POOL.id}/feedback",
        data={"rating": "5", "rule_ratings.welcome": "4", "rule_ratings.delays": "", "liked": ""},
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"/feedback/{POOL.id}?merci=1&lang=fr"
    refused = await feedback_api.http.post(
        f"/v1/facilities/{POOL.id}/feedback?lang=en", data={"comment": "Bien"}
    )
    assert refused.status_code == 422 and "Overall satisfaction" in refused.text
    assert "required" in refused.text and "obligatoire" not in refused.text
    thanks = await feedback_api.http.get(response.headers["location"])
    assert "Merci pour votre avis" in thanks.text
    records = await read_topic(feedback_api.settings, topics.SURVEYS, expect=1)
    assert records[0][1]["data"]["rule_ratings"]["welcome"] == 4


async def test_a_burst_from_one_address_is_limited_without_losing_others(
    feedback_api: FeedbackApi,
) -> None:
    """1,000 posts from one address (new cookie each time) are cut to its budget, while 40
    visitors on other addresses, posting in the middle of the burst, all get through."""
    url = f"/v1/facilities/{POOL.id}/feedback"
    gate = asyncio.Semaphore(16)
    limits = httpx.Limits(max_connections=16)

    async def post(client: httpx.AsyncClient, address: str, device: str) -> int:
        async with gate:
            response = await client.post(
                url,
                json=answer(),
                headers={"X-Forwarded-For": address, "Cookie": f"pl_device={device}"},
            )
            return response.status_code

    async with httpx.AsyncClient(base_url=feedback_api.base, timeout=30.0, limits=limits) as client:
        burst = [post(client, "203.0.113.66", f"bot-{i}") for i in range(1000)]
        visitors = [post(client, f"198.51.100.{i + 1}", f"visitor-{i}") for i in range(40)]
        mixed = burst[:500] + visitors + burst[500:]
        codes = await asyncio.wait_for(asyncio.gather(*mixed), timeout=120)
    burst_codes = codes[:500] + codes[540:]
    visitor_codes = codes[500:540]
    assert visitor_codes == [202] * 40
    accepted = burst_codes.count(202)
    assert 20 <= accepted <= 25, accepted  # a burst of 20, then one a minute
    assert burst_codes.count(429) == 1000 - accepted
    records = await read_topic(feedback_api.settings, topics.SURVEYS, expect=accepted + 40)
    assert len(records) == accepted + 40  # every accepted answer reached Kafka, once
