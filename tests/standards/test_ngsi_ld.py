"""NGSI-LD on the real API and Redis: every entity emitted — each facility as a PointOfInterest,
each live crowd as a CrowdFlowObserved — validates against its Smart Data Model's JSON Schema;
queries, content negotiation, @context and problem-details errors as ETSI GS CIM 009 says."""

from __future__ import annotations

import datetime as dt
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from api.ngsi_ld.entities import key_values
from schemas.catalogue import load_catalogue
from tests.api.api_testkit import make_status, put_status
from tests.dashboards.dashboards_testkit import ARTIFACTS
from tests.feedback.feedback_testkit import FeedbackApi

pytestmark = pytest.mark.integration

MODELS = Path(__file__).resolve().parents[2] / "schemas" / "data" / "smartdatamodels"
CATALOGUE = load_catalogue()
POOLS = CATALOGUE.by_type("pool")
LD = "application/ld+json"
CORE_TERMS = {"id", "type", "location", "@context"}


def _date_time(value: object) -> bool:
    if not isinstance(value, str) or "T" not in value:
        return False
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    return parsed.tzinfo is not None


def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return bool(parts.scheme) and (bool(parts.netloc) or parts.scheme == "urn")


@cache
def validator(model: str) -> Draft202012Validator:
    """The model's schema, its $refs resolved from the vendored copies (never fetched), with
    date-time and uri formats checked."""
    resources = []
    for name in ("common-schema.json", f"{model}.schema.json"):
        doc = json.loads((MODELS / name).read_text())
        resources.append(
            (doc["$id"], Resource.from_contents(doc, default_specification=DRAFT202012))
        )
    registry = Registry().with_resources(resources)
    checker = FormatChecker()
    checker.checks("date-time")(_date_time)
    checker.checks("uri")(_uri)
    schema = json.loads((MODELS / f"{model}.schema.json").read_text())
    return Draft202012Validator(schema, registry=registry, format_checker=checker)


def assert_valid(entity: dict[str, Any]) -> None:
    simple = key_values(entity) if isinstance(entity.get("name"), dict) else entity
    simple = {k: v for k, v in simple.items() if k != "@context"}
    errors = sorted(validator(simple["type"]).iter_errors(simple), key=str)
    assert not errors, f"{simple['id']}: {[e.message for e in errors[:3]]}"


def test_the_vendored_schemas_refuse_what_the_models_refuse() -> None:
    """The check is real: a PointOfInterest without category, a crowd with a negative count or a
    date without offset, a point given as text are each refused."""
    poi = {"id": "urn:ngsi-ld:PointOfInterest:x", "type": "PointOfInterest", "name": "X"}
    assert not validator("PointOfInterest").is_valid(poi)
    assert validator("PointOfInterest").is_valid({**poi, "category": ["pool"]})
    located = {**poi, "category": ["pool"], "location": {"type": "Point", "coordinates": "2.3"}}
    assert not validator("PointOfInterest").is_valid(located)
    crowd = {
        "id": "urn:ngsi-ld:CrowdFlowObserved:x",
        "type": "CrowdFlowObserved",
        "dateObserved": "2026-06-01T10:00:00+02:00",
        "peopleCount": 3,
    }
    assert validator("CrowdFlowObserved").is_valid(crowd)
    assert not validator("CrowdFlowObserved").is_valid({**crowd, "peopleCount": -1})
    assert not validator("CrowdFlowObserved").is_valid(
        {**crowd, "dateModified": "2026-06-01 10:00"}
    )


async def _live(api: FeedbackApi, redis: Any, count: int) -> list[str]:
    """Live statuses with an occupancy for the first ``count`` pools (as the sinks write them)."""
    ids = []
    for seq, pool in enumerate(POOLS[:count], start=1):
        occupancy = {
            "count": 40 * seq,
            "capacity": 200,
            "ratio": 0.2 * seq,
            "level": "high" if seq > 1 else "low",
            "trend": "steady",
            "measured_at": dt.datetime.now(dt.UTC).isoformat(),
            "source": "turnstile",
        }
        raw = make_status(pool, seq, occupancy=occupancy, open_state="open")
        await put_status(redis, api.settings, raw)
        ids.append(pool.id)
    return ids


async def test_every_emitted_entity_validates_against_its_model(
    standards_api: FeedbackApi, redis_client: Any
) -> None:
    """Every facility of the catalogue is a valid PointOfInterest and every live crowd a valid
    CrowdFlowObserved, read page by page as a broker client would."""
    live = await _live(standards_api, redis_client, 3)
    http = standards_api.http
    seen: dict[str, int] = {}
    offset = 0
    while True:
        page = await http.get("/ngsi-ld/v1/entities", params={"limit": 500, "offset": offset})
        assert page.status_code == 200 and page.headers["content-type"] == LD
        entities = page.json()
        for entity in entities:
            assert_valid(entity)
            seen[entity["type"]] = seen.get(entity["type"], 0) + 1
        if len(entities) < 500:
            break
        offset += 500
    assert seen == {"PointOfInterest": len(CATALOGUE), "CrowdFlowObserved": len(live)}
    simple = await http.get(
        "/ngsi-ld/v1/entities",
        params={"type": "CrowdFlowObserved", "options": "keyValues"},
    )
    crowds = simple.json()
    assert [c["id"] for c in crowds] == sorted(f"urn:ngsi-ld:CrowdFlowObserved:{i}" for i in live)
    for crowd in crowds:
        assert_valid(crowd)
    sample = {
        "PointOfInterest": (
            await http.get(f"/ngsi-ld/v1/entities/urn:ngsi-ld:PointOfInterest:{live[0]}")
        ).json(),
        "CrowdFlowObserved": (
            await http.get(f"/ngsi-ld/v1/entities/urn:ngsi-ld:CrowdFlowObserved:{live[0]}")
        ).json(),
        "validated": seen,
    }
    (ARTIFACTS / "standards").mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "standards" / "ngsi-ld-entities.json").write_text(
        json.dumps(sample, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    first = next(c for c in crowds if c["refPointOfInterest"].endswith(POOLS[0].id))
    assert first["peopleCount"] == 40 and first["congested"] is False


async def test_one_entity_in_both_forms_with_its_context(standards_api: FeedbackApi) -> None:
    """GET /entities/{id}: ld+json with @context in the body; Accept: application/json gets the
    same entity with the context in a Link header; the context document is served and names
    every attribute the entity carries."""
    http = standards_api.http
    pool = POOLS[0]
    entity_id = f"urn:ngsi-ld:PointOfInterest:{pool.id}"
    ld = await http.get(f"/ngsi-ld/v1/entities/{entity_id}")
    assert ld.status_code == 200 and ld.headers["content-type"] == LD
    body = ld.json()
    assert body["id"] == entity_id and body["type"] == "PointOfInterest"
    assert body["name"] == {"type": "Property", "value": pool.name}
    assert body["location"]["value"]["coordinates"] == [pool.location.lon, pool.location.lat]
    assert body["category"]["value"] == ["pool"]
    assert body["openState"]["value"] == "unknown"
    assert_valid(body)
    plain = await http.get(
        f"/ngsi-ld/v1/entities/{entity_id}", headers={"Accept": "application/json"}
    )
    assert plain.headers["content-type"] == "application/json"
    assert "@context" not in plain.json()
    assert 'rel="http://www.w3.org/ns/json-ld#context"' in plain.headers["link"]
    context_url = body["@context"]
    assert plain.headers["link"].startswith(f"<{context_url}>")
    context = (await http.get(urlsplit(context_url).path)).json()["@context"]
    terms, core = context
    assert core.startswith("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context")
    assert set(body) - CORE_TERMS <= set(terms)
    assert {"PointOfInterest", "CrowdFlowObserved"} <= set(terms)
    simple = (
        await http.get(f"/ngsi-ld/v1/entities/{entity_id}", params={"options": "keyValues"})
    ).json()
    assert simple["name"] == pool.name and simple["address"]["postalCode"] == pool.address.postcode


async def test_queries_by_type_id_q_and_attrs(
    standards_api: FeedbackApi, redis_client: Any
) -> None:
    """type, id, q (==, lists, ranges, compound keys, ; and |), attrs, limit/offset and count
    select what they say."""
    await _live(standards_api, redis_client, 2)
    http = standards_api.http

    async def ids(**params: Any) -> list[str]:
        response = await http.get("/ngsi-ld/v1/entities", params={"limit": 1000, **params})
        assert response.status_code == 200, response.text
        return [e["id"] for e in response.json()]

    pools = await ids(type="PointOfInterest", q='category=="pool"')
    assert pools == sorted(f"urn:ngsi-ld:PointOfInterest:{p.id}" for p in POOLS)
    postcode = POOLS[0].address.postcode
    in_district = await ids(type="PointOfInterest", q=f'address[postalCode]=="{postcode}"')
    assert len(in_district) == sum(1 for f in CATALOGUE if f.address.postcode == postcode)
    open_now = await ids(q='openState=="open"')
    assert open_now == sorted(f"urn:ngsi-ld:PointOfInterest:{p.id}" for p in POOLS[:2])
    either = await ids(q='category=="pool","library";capacity>=0|peopleCount>60')
    assert f"urn:ngsi-ld:CrowdFlowObserved:{POOLS[1].id}" in either
    assert f"urn:ngsi-ld:CrowdFlowObserved:{POOLS[0].id}" not in either
    ranged = await ids(type="CrowdFlowObserved", q="peopleCount==30..50")
    assert ranged == [f"urn:ngsi-ld:CrowdFlowObserved:{POOLS[0].id}"]
    wanted = f"urn:ngsi-ld:PointOfInterest:{POOLS[3].id}"
    assert await ids(id=wanted) == [wanted]
    projected = await http.get("/ngsi-ld/v1/entities", params={"id": wanted, "attrs": "name"})
    assert set(projected.json()[0]) == {"id", "type", "name", "@context"}
    counted = await http.get(
        "/ngsi-ld/v1/entities",
        params={"type": "PointOfInterest", "limit": 2, "offset": 3, "count": "true"},
    )
    assert counted.headers["ngsild-results-count"] == str(len(CATALOGUE))
    assert len(counted.json()) == 2
    assert await ids(type="Museum") == []


@pytest.mark.parametrize(
    ("path", "params", "headers", "status", "kind"),
    [
        (
            "/ngsi-ld/v1/entities/urn:ngsi-ld:PointOfInterest:nowhere",
            {},
            {},
            404,
            "ResourceNotFound",
        ),
        ("/ngsi-ld/v1/entities/not-a-uri", {}, {}, 400, "BadRequestData"),
        ("/ngsi-ld/v1/entities", {"q": "category=pool"}, {}, 400, "BadRequestData"),
        ("/ngsi-ld/v1/entities", {"q": 'name=="x'}, {}, 400, "BadRequestData"),
        ("/ngsi-ld/v1/entities", {"limit": "5000"}, {}, 400, "BadRequestData"),
        ("/ngsi-ld/v1/entities", {"options": "everything"}, {}, 400, "BadRequestData"),
        ("/ngsi-ld/v1/entities", {"idPattern": ".*"}, {}, 422, "OperationNotSupported"),
        ("/ngsi-ld/v1/entities", {"q": "(a==1)"}, {}, 422, "OperationNotSupported"),
        ("/ngsi-ld/v1/entities", {}, {"Accept": "text/html"}, 406, "NotAcceptable"),
    ],
)
async def test_errors_answer_ngsi_ld_problem_details(
    standards_api: FeedbackApi,
    path: str,
    params: dict[str, str],
    headers: dict[str, str],
    status: int,
    kind: str,
) -> None:
    """Each bad request answers the ETSI error type, a title and a detail."""
    response = await standards_api.http.get(path, params=params, headers=headers)
    assert response.status_code == status, response.text
    problem = response.json()
    assert problem["type"] == f"https://uri.etsi.org/ngsi-ld/errors/{kind}"
    assert problem["title"] and problem["detail"]


async def test_a_path_no_route_matches_answers_problem_details(standards_api: FeedbackApi) -> None:
    """An entity id the router cannot match (a line feed first) still answers NGSI-LD problem
    details (ResourceNotFound), not the /v1 error shape — found by the OpenAPI fuzz test."""
    answer = await standards_api.http.get("/ngsi-ld/v1/entities/%0Aabc")
    assert answer.status_code == 404
    assert answer.json()["type"] == "https://uri.etsi.org/ngsi-ld/errors/ResourceNotFound"
    assert "error" not in answer.json()
