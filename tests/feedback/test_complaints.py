"""Complaints on the real API, PostgreSQL, Redis and Kafka: routing, reference and délai, the
public status, the service inbox, and where personal data may (not) go."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from typing import Any

import pytest

from api.auth import Role, issue_token
from paris_live.db import connect
from schemas import topics
from schemas.catalogue import load_catalogue
from schemas.routing import load_routing
from tests.feedback.feedback_testkit import FeedbackApi, read_topic
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

POOL = load_catalogue().by_type("pool")[0]
TOWN_HALL = load_catalogue().by_type("town_hall")[0]
CONTACT = "claire.dupont.4821@example.org"
TEXT = "Vestiaires sales le 3 juin vers 18 h, personne pour nettoyer malgré ma demande."


def complaint(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "facility_id": POOL.id,
        "rule": "welcome",
        "topic": "cleanliness",
        "text": TEXT,
        "contact": CONTACT,
    }
    body.update(changes)
    return body


@pytest.fixture
def staff(feedback_api: FeedbackApi) -> Callable[..., dict[str, str]]:
    """Authorization headers of a service's staff: a real ``role=service`` token naming the
    competent services, checked by the API like any other."""

    def headers(*services: str) -> dict[str, str]:
        token = issue_token(
            feedback_api.settings, "agent-djs-1207", Role.SERVICE, services=services
        )
        return {"Authorization": f"Bearer {token}"}

    return headers


async def test_a_complaint_gets_a_reference_the_competent_service_and_its_delai(
    feedback_api: FeedbackApi,
) -> None:
    """201 at once: reference, the service of the routing table, due dates from its délais."""
    before = dt.datetime.now(dt.UTC)
    response = await feedback_api.http.post("/v1/complaints", json=complaint())
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert re.fullmatch(r"REC-\d{4}-[A-Z0-9]{5}-[A-Z0-9]{5}", receipt["reference"])
    route = load_routing().resolve("pool", "welcome", "cleanliness")
    assert receipt["service"]["service_id"] == route.service.service_id == "djs-piscines"
    assert receipt["answer_days"] == route.answer_days == 15
    assert dt.datetime.fromisoformat(receipt["answer_due_at"]) == route.answer_due_at(before)
    assert receipt["status"] == "received"
    assert response.headers["location"].endswith(f"/v1/complaints/{receipt['reference']}")
    assert "réponse au plus tard" in receipt["message"]
    filed = await read_topic(feedback_api.settings, topics.COMPLAINTS, expect=1)
    routed = await read_topic(feedback_api.settings, topics.COMPLAINTS_ROUTED, expect=1)
    assert [key for key, _ in filed] == [POOL.id]
    assert [key for key, _ in routed] == ["djs-piscines"]
    event = filed[0][1]
    assert event["id"] == f"{receipt['reference']}:filed" == routed[0][1]["id"]
    assert event["data"]["topic"] == "cleanliness" and event["data"]["text"] == TEXT
    assert event["data"]["contact"] is None  # the contact stays in the case record


async def test_a_city_wide_topic_goes_to_the_city_wide_service(feedback_api: FeedbackApi) -> None:
    """Wrong information on Paris.fr about a town hall goes to the information service."""
    response = await feedback_api.http.post(
        "/v1/complaints",
        json=complaint(facility_id=TOWN_HALL.id, rule="information", topic="online_info"),
    )
    assert response.json()["service"]["service_id"] == "dicom-information"
    preview = await feedback_api.http.get(
        "/v1/complaints/routing",
        params={"facility_id": TOWN_HALL.id, "rule": "information", "topic": "online_info"},
    )
    assert preview.json()["answer_days"] == 10


async def test_the_public_status_shows_progress_and_nothing_personal(
    feedback_api: FeedbackApi,
) -> None:
    """Status API and page: received, the service and the délais; no text, no contact."""
    reference = (await feedback_api.http.post("/v1/complaints", json=complaint())).json()[
        "reference"
    ]
    status = await feedback_api.http.get(f"/v1/complaints/{reference}")
    assert status.status_code == 200
    body = status.json()
    assert body["status"] == "received" and body["facility_name"] == POOL.name
    assert "text" not in body and "contact" not in body
    page = await feedback_api.http.get(f"/complaints/{reference}?nouveau=1")
    assert page.status_code == 200
    assert reference in page.text and "Reçue" in page.text and 'aria-current="step"' in page.text
    # the Médiateur's page is named in words, not by its path
    assert ">comment le saisir</a>" in page.text and ">/transparence<" not in page.text
    for secret in (CONTACT, TEXT, "claire"):
        assert secret not in status.text and secret not in page.text
    assert (await feedback_api.http.get("/v1/complaints/REC-0000-AAAAA-AAAAA")).status_code == 404
    assert (await feedback_api.http.get("/v1/complaints/../etc")).status_code == 404


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"rule": None}, "rule"),
        ({"rule": "speed"}, "rule"),
        ({"topic": "queue"}, "topic"),  # a délais topic under the welcome rule
        ({"text": "court"}, "text"),
        ({"text": "x" * 4001}, "text"),
        ({"contact": "a@b"}, "contact"),
        ({"contact": "pas un email"}, "contact"),
        ({"contact": "06 12 34"}, "contact"),
        ({"contact": "12 rue de Vaugirard"}, "contact"),  # no code postal
        ({"facility_id": "piscine-inexistante"}, "facility_id"),
        ({"facility_id": "Not A Slug"}, "facility_id"),
        ({"priority": "urgent"}, "priority"),
    ],
)
async def test_invalid_complaints_get_422_tied_to_the_field(
    feedback_api: FeedbackApi, changes: dict[str, Any], field: str
) -> None:
    """Each invalid field is named, in French then English, and nothing is recorded."""
    body = {k: v for k, v in complaint(**changes).items() if v is not None}
    response = await feedback_api.http.post("/v1/complaints", json=body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert field in error["fields"] and " / " in error["message"]
    assert CONTACT not in response.text and TEXT not in response.text  # input never echoed
    async with await connect(feedback_api.settings) as conn:
        count = await (await conn.execute("SELECT count(*) FROM complaints")).fetchone()
    assert count == (0,)


@pytest.mark.parametrize(
    ("contact", "kept"),
    [
        ("  Claire.Dupont@Example.ORG ", "Claire.Dupont@example.org"),
        ("06.12.34.56.78", "06 12 34 56 78"),
        ("+33 1 23 45 67 89", "01 23 45 67 89"),
        ("+44 20 7946 0958", "+44 20 7946 0958"),
        ("Claire Dupont, 12 rue de Vaugirard, 75006 Paris", None),
    ],
)
async def test_a_usable_contact_is_kept_normalized(
    feedback_api: FeedbackApi,
    staff: Callable[..., dict[str, str]],
    contact: str,
    kept: str | None,
) -> None:
    """An e-mail address, a French or foreign phone number, a postal address with its code
    postal: accepted, and the service reads one form of each."""
    response = await feedback_api.http.post("/v1/complaints", json=complaint(contact=contact))
    assert response.status_code == 201, response.text
    inbox = await feedback_api.http.get(
        "/v1/inbox/complaints?state=all", headers=staff("djs-piscines")
    )
    [case] = inbox.json()["items"]
    assert case["contact"] == (kept or contact.strip())


async def test_errors_come_in_the_language_asked_for(feedback_api: FeedbackApi) -> None:
    """``?lang=`` (what the pages send): the message and each field's in that language only."""
    body = complaint(contact="pas un email", text="court")
    english = (await feedback_api.http.post("/v1/complaints?lang=en", json=body)).json()["error"]
    french = (await feedback_api.http.post("/v1/complaints?lang=fr", json=body)).json()["error"]
    assert english["fields"]["contact"].startswith("enter an e-mail address")
    assert english["fields"]["text"] == "too short" and " / " not in english["message"]
    assert french["fields"]["contact"].startswith("indiquez une adresse électronique")
    assert french["fields"]["text"] == "trop court" and "too" not in french["message"]


async def test_the_form_without_javascript_is_refused_in_its_own_language(
    feedback_api: FeedbackApi,
) -> None:
    """A plain form post from the English page with « pas un email »: an English page naming the
    field by its label, with no French message in it."""
    form = await feedback_api.http.post(
        "/v1/complaints?lang=en",
        data={"facility_id": POOL.id, "rule": "delays", "text": TEXT, "contact": "pas un email"},
    )
    assert form.status_code == 422 and '<html lang="en">' in form.text
    assert "Your contact details for the answer" in form.text
    assert "enter an e-mail address" in form.text and "indiquez" not in form.text
    assert "Back to the form" in form.text


async def test_oversized_complaints_get_413_and_the_form_posts_without_javascript(
    feedback_api: FeedbackApi,
) -> None:
    """A 40 kB body → 413 in the error shape; a plain form post redirects to the status page."""
    big = await feedback_api.http.post("/v1/complaints", json=complaint(text="é" * 20_000))
    assert big.status_code == 413 and big.json()["error"]["code"] == "too_large"
    form = await feedback_api.http.post(
        "/v1/complaints",
        data={"facility_id": POOL.id, "rule": "delays", "topic": "", "text": TEXT},
    )
    assert form.status_code == 303
    assert re.fullmatch(r"/complaints/REC-[^?]+\?lang=fr&nouveau=1", form.headers["location"])
    assert "Conservez sa référence" in (await feedback_api.http.get(form.headers["location"])).text


async def test_complaints_are_rate_limited_per_address(feedback_api: FeedbackApi) -> None:
    """Five complaints at once from one address, the sixth waits; another address is served."""
    codes = [
        (
            await feedback_api.http.post(
                "/v1/complaints", json=complaint(), headers={"X-Forwarded-For": "203.0.113.5"}
            )
        ).status_code
        for _ in range(6)
    ]
    assert codes == [201] * 5 + [429]
    other = await feedback_api.http.post(
        "/v1/complaints", json=complaint(), headers={"X-Forwarded-For": "203.0.113.6"}
    )
    assert other.status_code == 201


async def test_the_complaint_form_is_one_form_for_every_service(feedback_api: FeedbackApi) -> None:
    """Every facility of the catalogue and every rule's topics are offered, each labelled."""
    page = await feedback_api.http.get("/complaints")
    html = page.text
    assert page.status_code == 200 and '<html lang="fr">' in html
    assert html.count('<option value="') >= len(load_catalogue()) + 17
    for control in ("f-facility", "f-topic", "f-text", "f-contact"):
        assert f'<label for="{control}">' in html
    assert "Médiateur de la Ville de Paris" in html
    assert "File a complaint" in (await feedback_api.http.get("/complaints?lang=en")).text


async def test_the_service_inbox_acknowledges_and_answers(
    feedback_api: FeedbackApi, staff: Callable[..., dict[str, str]]
) -> None:
    """Only the competent service sees the contact and acts; the public status follows."""
    http, settings = feedback_api.http, feedback_api.settings
    reference = (await http.post("/v1/complaints", json=complaint())).json()["reference"]
    assert (await http.get("/v1/inbox/complaints")).status_code == 401
    inbox = await http.get("/v1/inbox/complaints", headers=staff("djs-piscines"))
    assert inbox.status_code == 200
    [case] = inbox.json()["items"]
    assert (case["contact"], case["text"]) == (CONTACT, TEXT)
    other = staff("dac-bibliotheques")
    assert (await http.get("/v1/inbox/complaints", headers=other)).json()["items"] == []
    denied = await http.post(f"/v1/complaints/{reference}/acknowledge", headers=other)
    assert denied.status_code == 403
    mine = staff("djs-piscines")
    acked = await http.post(f"/v1/complaints/{reference}/acknowledge", headers=mine)
    assert acked.status_code == 200 and acked.json()["status"] == "acknowledged"
    assert (await http.get(f"/v1/complaints/{reference}")).json()["status"] == "acknowledged"
    answer = {"answer": {"fr": "Le nettoyage a été renforcé le soir. Merci."}}
    answered = await http.post(f"/v1/complaints/{reference}/answer", json=answer, headers=mine)
    assert answered.status_code == 200
    assert answered.json()["status"] == "answered" and answered.json()["answered_on_time"]
    again = await http.post(f"/v1/complaints/{reference}/answer", json=answer, headers=mine)
    assert again.status_code == 409
    empty = await http.post(f"/v1/complaints/{reference}/answer", json={}, headers=mine)
    assert empty.status_code == 422
    events = await read_topic(settings, topics.COMPLAINTS, expect=3)
    assert [e["type"].rsplit(".", 1)[-1] for _, e in events] == [
        "filed", "acknowledged", "answered"
    ]  # fmt: skip


async def test_acknowledging_and_answering_update_the_statistics(
    feedback_api: FeedbackApi, feedback_job: Any, staff: Callable[..., dict[str, str]]
) -> None:
    """Two complaints filed, one acknowledged, one answered: /v1/transparency counts them; one
    answer is too few for a published délai, the open data still carries it."""
    http = feedback_api.http
    mine = staff("djs-piscines")
    first = (await http.post("/v1/complaints", json=complaint())).json()["reference"]
    second = (await http.post("/v1/complaints", json=complaint(topic="staff_behaviour"))).json()
    month = (
        dt.datetime.fromisoformat(second["filed_at"])
        .astimezone(load_routing_tz())
        .strftime("%Y-%m")
    )

    report: dict[str, Any] = {}

    async def figures() -> bool:
        nonlocal report
        report = (await http.get(f"/v1/transparency?month={month}")).json()
        return bool(report["complaints"]["filed"] == 2)

    await wait_until(figures, within=20, what="both complaints counted")
    assert report["complaints"]["acknowledged"] == 0 and report["complaints"]["answered"] == 0
    await http.post(f"/v1/complaints/{second['reference']}/acknowledge", headers=mine)
    await http.post(
        f"/v1/complaints/{first}/answer", json={"answer": {"fr": "Merci."}}, headers=mine
    )

    async def updated() -> bool:
        nonlocal report
        report = (await http.get(f"/v1/transparency?month={month}")).json()
        return bool(report["complaints"]["answered"] == 1)

    await wait_until(updated, within=20, what="the answer counted")
    assert report["complaints"]["acknowledged"] == 2
    assert report["complaints"]["answered_on_time"] == 1
    [service] = [s for s in report["services"] if s["service_id"] == "djs-piscines"]
    assert service["answered"] == 1 and service["committed_days"] == 15
    assert not service["published"] and service["median_days"] is None  # 1 < MIN_SAMPLE
    assert report["complaints"]["on_time_rate"] is None
    rows = (await http.get(f"/v1/open-data/response-delays.json?month={month}")).json()["rows"]
    [row] = [r for r in rows if r["service_id"] == "djs-piscines" and r["rule"] == "*"]
    assert row["median_days"] is not None and row["median_days"] < 0.1


def load_routing_tz() -> dt.tzinfo:
    from schemas.clock import PARIS

    return PARIS


async def test_personal_data_never_reaches_logs_public_pages_or_exports(
    feedback_api: FeedbackApi,
    feedback_job: Any,
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    """The contact, the text and the client address appear in no log line, public page,
    open-data export or rate-limit key — while the job has counted the complaint."""
    caplog.set_level(logging.DEBUG)
    http = feedback_api.http
    address = "192.0.2.77"
    filed = await http.post(
        "/v1/complaints", json=complaint(), headers={"X-Forwarded-For": address}
    )
    reference = filed.json()["reference"]
    survey = {"rating": 2, "went_wrong": TEXT, "liked": CONTACT}
    await http.post(f"/v1/facilities/{POOL.id}/feedback", json=survey,
                    headers={"X-Forwarded-For": address})  # fmt: skip
    await http.post(
        "/v1/complaints", json=complaint(text="x"), headers={"X-Forwarded-For": address}
    )
    month = reference[4:8]
    month = f"20{month[:2]}-{month[2:]}"

    async def counted() -> bool:
        body = (await http.get(f"/v1/transparency?month={month}")).json()
        return bool(
            body["complaints"]["filed"] == 1
            and body["satisfaction"]["by_aspect"][0]["responses"] == 1
        )

    await wait_until(counted, within=20, what="the complaint and the survey counted")
    public = [
        await http.get("/transparence"),
        await http.get(f"/transparence?month={month}&lang=en"),
        await http.get(f"/v1/transparency?month={month}"),
        await http.get("/v1/open-data"),
        await http.get(f"/complaints/{reference}"),
        await http.get(f"/v1/complaints/{reference}"),
    ] + [
        await http.get(f"/v1/open-data/{name}.{fmt}?month={month}")
        for name in ("satisfaction", "complaints", "response-delays")
        for fmt in ("csv", "json")
    ]
    assert all(r.status_code == 200 for r in public)
    assert any(POOL.id in r.text for r in public)  # the exports are not empty
    logs = caplog.text + "".join(capfd.readouterr())
    assert reference in logs  # the logs do tell what happened
    for secret in (CONTACT, TEXT, "claire.dupont", address):
        for response in public:
            assert secret not in response.text, (secret, str(response.url))
        assert secret not in logs, secret
    keys = [k async for k in _redis_keys(feedback_api)]
    assert keys and not any(address in k for k in keys)


async def _redis_keys(api: FeedbackApi) -> Any:
    import redis.asyncio as aioredis

    client = aioredis.from_url(api.settings.redis, decode_responses=True)
    try:
        async for key in client.scan_iter(match=f"{api.settings.redis_prefix}*"):
            yield key
    finally:
        await client.aclose()


async def test_the_inbox_page_is_labelled_and_keeps_the_token_out_of_the_url(
    feedback_api: FeedbackApi,
) -> None:
    """The inbox page asks for the token in a labelled password field and loads its script."""
    page = await feedback_api.http.get("/inbox")
    assert page.status_code == 200
    assert '<label for="f-token">' in page.text and 'type="password"' in page.text
    assert "/feedback-assets/inbox.js" in page.text
    assert (await feedback_api.http.get("/feedback-assets/inbox.js")).status_code == 200
    assert (await feedback_api.http.get("/feedback-assets/../app.py")).status_code == 404
    ops = issue_token(feedback_api.settings, "ops-1", "ops")
    listing = await feedback_api.http.get(
        "/v1/inbox/complaints", headers={"Authorization": f"Bearer {ops}"}
    )
    assert listing.status_code == 200 and listing.json() == {"items": [], "next": None}
    agent = issue_token(feedback_api.settings, "agent-1", "agent", facilities=[POOL.id])
    denied = await feedback_api.http.get(
        "/v1/inbox/complaints", headers={"Authorization": f"Bearer {agent}"}
    )
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "forbidden"
