"""Complaints about a démarche (issue 17) on the real API, PostgreSQL, Redis and Kafka: a
procedure instead of (or besides) a facility, routed to the démarche's competent service with its
committed délai, refused when neither is named, and counted by /transparence and the exports."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import psycopg
import pytest

from api.auth import Role, issue_token
from paris_live.db import connect
from schemas import topics
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.parcours import load_parcours
from schemas.routing import load_routing
from tests.feedback.feedback_testkit import FeedbackApi, read_topic
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

FPS = "parking-fine-appeal"
FPS_SERVICE = "dvd-forfaits-post-stationnement"
TOWN_HALL = load_catalogue().by_type("town_hall")[0]
TEXT = "Recours RAPO déposé il y a deux mois, toujours aucune réponse de la Ville."


def complaint(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "procedure_id": FPS,
        "rule": "delays",
        "topic": "processing",
        "text": TEXT,
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


async def _count(api: FeedbackApi) -> int:
    async with await connect(api.settings) as conn:
        row = await (await conn.execute("SELECT count(*) FROM complaints")).fetchone()
    assert row is not None
    return int(row[0])


def test_every_demarche_has_a_competent_service_for_its_complaints() -> None:
    """Each of parcours.json's démarches routes to a known service; FPS to the parking fines."""
    routing = load_routing()
    assert sorted(routing.procedure_ids()) == sorted(p.parcours_id for p in load_parcours())
    route = routing.resolve_procedure(FPS, "welcome", None)
    assert route.service.service_id == FPS_SERVICE and route.answer_days == 30
    assert route.topic == "other" and route.procedure_id == FPS


async def test_a_complaint_about_a_demarche_needs_no_facility(feedback_api: FeedbackApi) -> None:
    """201 with the démarche's service and délai; the case record has no facility; the events
    are keyed by the procedure and re-keyed by the service."""
    before = dt.datetime.now(dt.UTC)
    response = await feedback_api.http.post("/v1/complaints", json=complaint())
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["facility_id"] is None
    assert receipt["procedure"]["procedure_id"] == FPS
    assert receipt["service"]["service_id"] == FPS_SERVICE and receipt["answer_days"] == 30
    route = load_routing().resolve_procedure(FPS, "delays", "processing")
    assert dt.datetime.fromisoformat(receipt["answer_due_at"]) == route.answer_due_at(before)
    async with await connect(feedback_api.settings) as conn:
        row = await (
            await conn.execute(
                "SELECT facility_id, facility_type, procedure_id, service_id FROM complaints"
            )
        ).fetchone()
    assert row == (None, None, FPS, FPS_SERVICE)
    filed = await read_topic(feedback_api.settings, topics.COMPLAINTS, expect=1)
    routed = await read_topic(feedback_api.settings, topics.COMPLAINTS_ROUTED, expect=1)
    assert [key for key, _ in filed] == [FPS] and [key for key, _ in routed] == [FPS_SERVICE]
    assert filed[0][1]["data"]["procedure_id"] == FPS
    status = (await feedback_api.http.get(f"/v1/complaints/{receipt['reference']}")).json()
    assert status["facility_name"] is None and status["procedure"]["title"]["fr"].startswith(
        "Contester un forfait post-stationnement"
    )
    assert status["answer_days"] == 30


async def test_a_demarche_at_a_facility_goes_to_the_demarches_service(
    feedback_api: FeedbackApi,
) -> None:
    """Naming both, the démarche decides the service; the facility is kept (and keys the event)."""
    body = complaint(procedure_id="identity-document", facility_id=TOWN_HALL.id)
    response = await feedback_api.http.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    receipt = response.json()
    assert receipt["facility_id"] == TOWN_HALL.id
    assert receipt["service"]["service_id"] == "ddct-mairies"
    filed = await read_topic(feedback_api.settings, topics.COMPLAINTS, expect=1)
    assert [key for key, _ in filed] == [TOWN_HALL.id]
    assert filed[0][1]["data"]["procedure_id"] == "identity-document"


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_neither_facility_nor_demarche_is_422_naming_both(
    feedback_api: FeedbackApi, lang: str
) -> None:
    """No facility, no démarche: 422 in the one error shape naming both fields, in the language
    asked for; nothing recorded."""
    response = await feedback_api.http.post(
        f"/v1/complaints?lang={lang}", json=complaint(procedure_id=None)
    )
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_input"
    assert set(error["fields"]) == {"facility_id", "procedure_id"}
    expected = "indiquez un équipement ou une démarche" if lang == "fr" else "a facility or"
    assert expected in error["fields"]["procedure_id"]
    assert await _count(feedback_api) == 0


@pytest.mark.parametrize("procedure", ["passeport-express", "Not A Slug"])
async def test_an_unknown_demarche_is_422_naming_procedure_id(
    feedback_api: FeedbackApi, procedure: str
) -> None:
    """An id parcours.json does not have (or not an id at all): 422 naming ``procedure_id``."""
    response = await feedback_api.http.post(
        "/v1/complaints", json=complaint(procedure_id=procedure)
    )
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["fields"]
    assert list(fields) == ["procedure_id"] and " / " in fields["procedure_id"]
    assert await _count(feedback_api) == 0


async def test_the_form_of_a_demarche_posts_without_javascript(feedback_api: FeedbackApi) -> None:
    """The form prefilled for FPS names the démarche and its service; posted as a plain form
    without a facility it lands on the status page naming the service and its délai."""
    page = await feedback_api.http.get(f"/complaints?procedure={FPS}")
    assert page.status_code == 200
    assert "Contester un forfait post-stationnement" in page.text
    assert "Si la démarche concerne un lieu précis" in page.text
    assert f'name="procedure_id" value="{FPS}"' in page.text
    form = {"procedure_id": FPS, "facility_id": "", "rule": "delays", "text": TEXT}
    posted = await feedback_api.http.post("/v1/complaints?lang=fr", data=form)
    assert posted.status_code == 303, posted.text
    status = await feedback_api.http.get(posted.headers["location"])
    assert "forfaits post-stationnement" in status.text and "30 jours" in status.text


async def test_the_migration_keeps_a_facility_or_a_demarche_on_every_complaint(
    feedback_api: FeedbackApi,
) -> None:
    """On the migrated PostgreSQL, a row with neither facility nor procedure is refused."""
    async with await connect(feedback_api.settings) as conn:
        with pytest.raises(psycopg.errors.CheckViolation):
            await conn.execute(
                "INSERT INTO complaints (reference, rule, topic, service_id, channel, language, "
                "filed_at, acknowledge_due_at, answer_due_at) VALUES ('REC-0000-AAAAA-AAAAA', "
                "'delays', 'other', 'relation-usagers', 'web', 'fr', now(), now(), now())"
            )


@pytest.fixture
def staff(feedback_api: FeedbackApi) -> Callable[..., dict[str, str]]:
    def headers(*services: str) -> dict[str, str]:
        token = issue_token(feedback_api.settings, "agent-dvd-42", Role.SERVICE, services=services)
        return {"Authorization": f"Bearer {token}"}

    return headers


async def test_transparency_counts_complaints_about_demarches(
    feedback_api: FeedbackApi, feedback_job: Any, staff: Callable[..., dict[str, str]]
) -> None:
    """A démarche's complaint and a facility's: both in the totals, the démarche's by procedure
    (page and export); the service's answer is counted without any facility."""
    http = feedback_api.http
    fps = (await http.post("/v1/complaints", json=complaint())).json()
    pool = load_catalogue().by_type("pool")[0]
    facility_body = {"facility_id": pool.id, "rule": "welcome", "text": TEXT}
    assert (await http.post("/v1/complaints", json=facility_body)).status_code == 201
    answer = {"answer": {"fr": "Votre recours a été traité, la réponse vous est envoyée."}}
    answered = await http.post(
        f"/v1/complaints/{fps['reference']}/answer", json=answer, headers=staff(FPS_SERVICE)
    )
    assert answered.status_code == 200, answered.text
    month = dt.datetime.fromisoformat(fps["filed_at"]).astimezone(PARIS).strftime("%Y-%m")
    report: dict[str, Any] = {}

    async def counted() -> bool:
        nonlocal report
        report = (await http.get(f"/v1/transparency?month={month}")).json()
        return bool(report["complaints"]["filed"] == 2 and report["complaints"]["answered"] == 1)

    await wait_until(counted, within=20, what="both complaints and the answer counted")
    figures = report["complaints"]
    assert figures["about_procedures"] == 1
    assert [(p["procedure_id"], p["filed"]) for p in figures["by_procedure"]] == [(FPS, 1)]
    [service] = [s for s in report["services"] if s["service_id"] == FPS_SERVICE]
    assert service["filed"] == 1 and service["answered"] == 1 and service["committed_days"] == 30
    rows = (await http.get(f"/v1/open-data/complaints.json?month={month}")).json()["rows"]
    [row] = [r for r in rows if r["procedure_id"] == FPS]
    assert row["facility_id"] is None and row["filed"] == 1 and row["answered"] == 1
    assert row["procedure_name"].startswith("Contester un forfait post-stationnement")
    csv = (await http.get(f"/v1/open-data/complaints.csv?month={month}")).text.splitlines()
    assert csv[0].endswith(",procedure_id,procedure_name")
    assert sum(1 for line in csv[1:] if f",{FPS}," in line) == 1
    page = await http.get(f"/transparence?month={month}")
    assert "Réclamations par démarche" in page.text


async def test_a_refused_form_leads_back_to_the_demarches_form(feedback_api: FeedbackApi) -> None:
    """Without JavaScript, a text too short is refused and the way back keeps the démarche."""
    form = {"procedure_id": FPS, "rule": "delays", "text": "court"}
    refused = await feedback_api.http.post("/v1/complaints?lang=fr", data=form)
    assert refused.status_code == 422
    assert f'href="/complaints?lang=fr&amp;procedure={FPS}"' in refused.text


async def test_the_routing_preview_names_the_demarches_service(feedback_api: FeedbackApi) -> None:
    """/v1/complaints/routing answers for a démarche alone; neither → 422 naming both."""
    http = feedback_api.http
    preview = await http.get(
        "/v1/complaints/routing", params={"procedure_id": FPS, "rule": "delays"}
    )
    assert preview.status_code == 200, preview.text
    route = preview.json()
    assert route["service"]["service_id"] == FPS_SERVICE and route["answer_days"] == 30
    assert route["procedure_id"] == FPS
    neither = await http.get("/v1/complaints/routing", params={"rule": "delays"})
    assert neither.status_code == 422
    message = neither.json()["error"]["message"]
    assert "facility_id" in message and "procedure_id" in message
    unknown = await http.get(
        "/v1/complaints/routing", params={"procedure_id": "crèche", "rule": "delays"}
    )
    assert unknown.status_code == 422
