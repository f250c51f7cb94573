"""Open311 GeoReport v2, driven as an Open311 client drives it (form-encoded POST, JSON reads),
on the real API, PostgreSQL, Redis and Kafka: services from the routing, a complaint filed and
followed to its answer, the same rules as /v1/complaints, errors in Open311's shape."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

import pytest

from api.auth import Role, issue_token
from api.feedback.labels import service_name
from schemas import topics
from schemas.catalogue import load_catalogue
from schemas.routing import load_routing
from tests.dashboards.dashboards_testkit import ARTIFACTS
from tests.feedback.feedback_testkit import FeedbackApi, read_topic

pytestmark = pytest.mark.integration

POOL = load_catalogue().by_type("pool")[0]
LIBRARY = load_catalogue().by_type("library")[0]
CONTACT = "claire.dupont.4821@example.org"
TEXT = "Vestiaires sales le 3 juin vers 18 h, personne pour nettoyer malgré ma demande."
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def request_form(**changes: str) -> dict[str, str]:
    form = {
        "jurisdiction_id": "paris.fr",
        "service_code": "welcome-cleanliness",
        "attribute[facility_id]": POOL.id,
        "description": TEXT,
        "email": CONTACT,
        "first_name": "Claire",
        "last_name": "Dupont",
    }
    form.update(changes)
    return form


async def test_services_list_every_rule_and_topic_of_the_routing(
    standards_api: FeedbackApi,
) -> None:
    """services.json has one service per rule × topic, French first, English on ?lang=en; its
    definition names the facility and démarche attributes; the XML says the same."""
    http = standards_api.http
    listed = (await http.get("/open311/v2/services.json")).json()
    table = load_routing()
    expected = {f"{rule.value}-{topic}" for rule in table.topics for topic in table.topics[rule]}
    assert {s["service_code"] for s in listed} == expected
    cleanliness = next(s for s in listed if s["service_code"] == "welcome-cleanliness")
    assert cleanliness["service_name"] == "Propreté, hygiène"
    assert cleanliness["metadata"] is True and cleanliness["type"] == "realtime"
    english = (await http.get("/open311/v2/services.json", params={"lang": "en"})).json()
    assert (
        next(s for s in english if s["service_code"] == "welcome-cleanliness")["service_name"]
        == "Cleanliness, hygiene"
    )
    definition = (await http.get("/open311/v2/services/welcome-cleanliness.json")).json()
    assert [a["code"] for a in definition["attributes"]] == [
        "facility_id",
        "procedure_id",
        "language",
    ]
    xml = await http.get("/open311/v2/services.xml")
    assert xml.headers["content-type"].startswith("text/xml")
    assert xml.text.count("<service>") == len(expected)
    unknown = await http.get("/open311/v2/services/welcome-nothing.json")
    assert unknown.status_code == 404
    assert unknown.json()[0]["code"] == 404


async def test_an_open311_client_files_a_complaint_and_follows_it_to_its_answer(
    standards_api: FeedbackApi,
) -> None:
    """POST form → 201 with a reference; the request reads back open with the competent service
    and expected_datetime = the committed délai; acknowledged then answered by the service's
    staff on /v1, it reads closed. Nothing personal is ever listed."""
    http = standards_api.http
    before = dt.datetime.now(dt.UTC)
    posted = await http.post("/open311/v2/requests.json", data=request_form(), headers=FORM)
    assert posted.status_code == 201, posted.text
    [receipt] = posted.json()
    reference = receipt["service_request_id"]
    assert re.fullmatch(r"REC-\d{4}-[A-Z0-9]{5}-[A-Z0-9]{5}", reference)
    assert "réponse au plus tard" in receipt["service_notice"]

    route = load_routing().resolve(POOL.type, "welcome", "cleanliness")
    [request] = (await http.get(f"/open311/v2/requests/{reference}.json")).json()
    assert request["status"] == "open" and request["status_notes"] == "Reçue"
    assert request["service_code"] == "welcome-cleanliness"
    assert request["agency_responsible"] == service_name("djs-piscines", "fr")
    assert route.service.service_id == "djs-piscines"
    expected = dt.datetime.fromisoformat(request["expected_datetime"])
    assert expected == route.answer_due_at(before)
    assert request["address_id"] == POOL.id and request["zipcode"] == POOL.address.postcode
    assert request["description"] is None

    # The same case as /v1/complaints sees it: one complaint service.
    v1 = (await http.get(f"/v1/complaints/{reference}")).json()
    assert v1["service"]["service_id"] == "djs-piscines" and v1["status"] == "received"
    filed = await read_topic(standards_api.settings, topics.COMPLAINTS, expect=1)
    assert [e["id"] for _, e in filed] == [f"{reference}:filed"]
    assert filed[0][1]["data"].get("contact") is None

    token = issue_token(
        standards_api.settings, "agent-djs-7", Role.SERVICE, services=["djs-piscines"]
    )
    staff = {"Authorization": f"Bearer {token}"}
    assert (
        await http.post(f"/v1/complaints/{reference}/acknowledge", headers=staff)
    ).status_code == 200
    [acked] = (await http.get(f"/open311/v2/requests/{reference}.json")).json()
    assert acked["status"] == "open" and acked["status_notes"] == "Prise en charge"
    answer = {"answer": {"fr": "Le nettoyage du soir a été renforcé. Merci."}}
    answered = await http.post(f"/v1/complaints/{reference}/answer", json=answer, headers=staff)
    assert answered.status_code == 200
    [closed] = (
        await http.get(f"/open311/v2/requests/{reference}.json", params={"lang": "en"})
    ).json()
    assert closed["status"] == "closed" and closed["status_notes"] == "Answered"

    exchange = {
        "POST /open311/v2/requests.json (form)": {k: v for k, v in request_form().items()},
        "201": posted.json(),
        "GET /open311/v2/requests/{id}.json (received)": request,
        "GET /open311/v2/requests/{id}.json?lang=en (answered)": closed,
    }
    (ARTIFACTS / "standards").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "standards" / "open311-exchange.json").write_text(
        json.dumps(exchange, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    listing = await http.get("/open311/v2/requests.json", params={"status": "closed"})
    assert [r["service_request_id"] for r in listing.json()] == [reference]
    text = listing.text
    for personal in (CONTACT, "Claire", "Dupont", "nettoyer", "renforcé"):
        assert personal not in text
    assert (await http.get("/open311/v2/requests.json", params={"status": "open"})).json() == []


async def test_a_request_located_by_coordinates_goes_to_the_facility_there(
    standards_api: FeedbackApi,
) -> None:
    """Without a facility id, lat/long at the library's door name the library (its service
    answers); far from any facility, the request is refused in Open311's shape."""
    http = standards_api.http
    near = request_form(
        **{
            "attribute[facility_id]": "",
            "lat": str(LIBRARY.location.lat),
            "long": str(LIBRARY.location.lon),
            "service_code": "information-opening_hours",
        }
    )
    posted = await http.post("/open311/v2/requests.json", data=near, headers=FORM)
    assert posted.status_code == 201, posted.text
    reference = posted.json()[0]["service_request_id"]
    [request] = (await http.get(f"/open311/v2/requests/{reference}.json")).json()
    assert request["address_id"] == LIBRARY.id
    route = load_routing().resolve(LIBRARY.type, "information", "opening_hours")
    assert request["agency_responsible"] == service_name(route.service.service_id, "fr")

    far = dict(near, lat="48.9000", long="2.2300")
    refused = await http.post("/open311/v2/requests.json", data=far, headers=FORM)
    assert refused.status_code == 400
    [error] = refused.json()
    assert error["code"] == 400 and "attribute[facility_id]" in error["description"]


@pytest.mark.parametrize(
    ("changes", "status", "names"),
    [
        ({"service_code": "welcome-nothing"}, 400, "service_code"),
        ({"description": ""}, 400, "description"),
        ({"email": "pas-une-adresse"}, 400, "email"),
        ({"attribute[facility_id]": "piscine-inexistante"}, 400, "attribute[facility_id]"),
        ({"jurisdiction_id": "lyon.fr"}, 404, "jurisdiction_id"),
    ],
)
async def test_bad_requests_answer_open311_errors(
    standards_api: FeedbackApi, changes: dict[str, str], status: int, names: str
) -> None:
    """Each bad field is refused with the same validation as /v1/complaints, answered
    ``[{"code", "description"}]`` naming the Open311 field, never echoing the input."""
    response = await standards_api.http.post(
        "/open311/v2/requests.json", data=request_form(**changes), headers=FORM
    )
    assert response.status_code == status, response.text
    [error] = response.json()
    assert error["code"] == status
    assert names in error["description"]
    assert "pas-une-adresse" not in error["description"]


@pytest.mark.parametrize(
    ("lat", "long"),
    [
        ("inf", "2.35"),
        ("1e999", "2.35"),
        ("nan", "nan"),
        ("91", "2.35"),
        ("48.85", "-181"),
        ("quarante-huit", "2.35"),
    ],
)
async def test_a_point_that_is_not_on_earth_is_refused_not_routed(
    standards_api: FeedbackApi, lat: str, long: str
) -> None:
    """lat/long that are not a point (infinite, not a number, out of range) answer an Open311
    400 naming them — infinity used to be a 500 and ``nan`` filed the complaint against an
    arbitrary pool (the review of issue 22)."""
    form = request_form(lat=lat, long=long)
    del form["attribute[facility_id]"]
    response = await standards_api.http.post("/open311/v2/requests.json", data=form, headers=FORM)
    assert response.status_code == 400, response.text
    [error] = response.json()
    assert error["code"] == 400 and "lat/long" in error["description"]


async def test_open311_shares_the_complaint_rate_limit(standards_api: FeedbackApi) -> None:
    """Five complaints from one address (three on /v1, two on Open311) use the burst; the sixth,
    on Open311, is refused 429 with Retry-After, in Open311's shape."""
    http = standards_api.http
    body: dict[str, Any] = {"facility_id": POOL.id, "rule": "welcome", "text": TEXT}
    for _ in range(3):
        assert (await http.post("/v1/complaints", json=body)).status_code == 201
    codes = [
        (
            await http.post("/open311/v2/requests.json", data=request_form(), headers=FORM)
        ).status_code
        for _ in range(3)
    ]
    assert codes == [201, 201, 429]
    limited = await http.post("/open311/v2/requests.json", data=request_form(), headers=FORM)
    assert limited.json()[0]["code"] == 429
    assert int(limited.headers["retry-after"]) > 0


async def test_listing_filters_and_bad_queries(standards_api: FeedbackApi) -> None:
    """The listing filters by service_code and ids; a bad date or status answers 400, an
    unknown request 404, each in Open311's shape."""
    http = standards_api.http
    first = await http.post("/open311/v2/requests.json", data=request_form(), headers=FORM)
    other = request_form(service_code="welcome-safety")
    second = await http.post("/open311/v2/requests.json", data=other, headers=FORM)
    ids = [first.json()[0]["service_request_id"], second.json()[0]["service_request_id"]]
    by_code = await http.get("/open311/v2/requests.json", params={"service_code": "welcome-safety"})
    assert [r["service_request_id"] for r in by_code.json()] == ids[1:]
    by_id = await http.get(
        "/open311/v2/requests.json", params={"service_request_id": ",".join(ids)}
    )
    assert sorted(r["service_request_id"] for r in by_id.json()) == sorted(ids)
    for params in ({"start_date": "hier"}, {"status": "pending"}, {"service_code": "x"}):
        bad = await http.get("/open311/v2/requests.json", params=params)
        assert bad.status_code == 400 and bad.json()[0]["code"] == 400, params
    missing = await http.get("/open311/v2/requests/REC-2601-AAAAA-BBBBB.json")
    assert missing.status_code == 404 and missing.json()[0]["code"] == 404


async def test_a_request_body_past_the_public_limit_is_413(standards_api: FeedbackApi) -> None:
    """An Open311 body larger than a complaint may be is refused before it is read, as on
    /v1/complaints."""
    huge = request_form(description="x" * (standards_api.settings.body_limit_public + 1))
    response = await standards_api.http.post("/open311/v2/requests.json", data=huge, headers=FORM)
    assert response.status_code == 413
