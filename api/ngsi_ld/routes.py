"""The NGSI-LD routes (see :mod:`api.ngsi_ld`): thin — read the request, build entities from the
catalogue and the live statuses, filter, answer in the negotiated form."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel

from api.caching import cached
from api.context import AppContext, Ctx
from api.errors import ApiError, ErrorResponse
from api.ngsi_ld import entities
from api.ngsi_ld.context import context_document, context_url, link_header
from api.ngsi_ld.errors import BadRequestData, NgsiLdError, NotAcceptable, ResourceNotFound
from api.ngsi_ld.query import Query, parse_query

__all__ = ["router"]


class ProblemDetails(BaseModel):
    """An NGSI-LD error (RFC 7807 problem details, ETSI error type)."""

    type: str
    title: str
    detail: str


_PROBLEM = {"model": ProblemDetails, "description": "NGSI-LD problem details"}
ERRORS_DOC: dict[int | str, dict[str, Any]] = {
    400: _PROBLEM,
    404: _PROBLEM,
    406: _PROBLEM,
    # OperationNotSupported, or a control character refused by the whole API in its own shape.
    422: {"model": ProblemDetails | ErrorResponse, "description": "NGSI-LD problem details"},
    503: _PROBLEM,
}
ENTITIES_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/ld+json": {"schema": {}}, "application/json": {"schema": {}}}}
}

router = APIRouter(prefix="/ngsi-ld/v1", tags=["ngsi-ld"], responses=ERRORS_DOC)

LD = "application/ld+json"
JSON = "application/json"
MAX_AGE = 5
"""Seconds a client may keep an answer: the live parts change every few seconds."""


def _media(request: Request) -> str:
    """``application/ld+json`` unless the client asks for JSON only; 406 for neither."""
    accept = request.headers.get("accept", "").lower()
    if not accept or LD in accept or "*/*" in accept or "application/*" in accept:
        return LD
    if JSON in accept:
        return JSON
    raise NotAcceptable("Accept: application/ld+json or application/json")


def _answer(request: Request, ctx: AppContext, body: Any, media: str, **headers: str) -> Response:
    base = ctx.settings.public_base_url
    if media == LD:
        url = context_url(base)
        if isinstance(body, list):
            body = [{**item, "@context": url} for item in body]
        else:
            body = {**body, "@context": url}
    else:
        headers["Link"] = link_header(base)
    return cached(request, orjson.dumps(body), media, max_age=MAX_AGE, headers=headers)


async def _statuses(ctx: AppContext, facility_ids: list[str]) -> dict[str, dict[str, Any]]:
    raws = await ctx.statuses(facility_ids)
    return {fid: orjson.loads(raw) for fid, raw in raws.items()}


def _entities(
    ctx: AppContext, query: Query, statuses: dict[str, dict[str, Any]]
) -> list[dict[str, Any]]:
    base = ctx.settings.public_base_url
    facilities = sorted(ctx.catalogue, key=lambda f: f.id)
    found: list[dict[str, Any]] = []
    if query.wants_type(entities.POI):
        found += [
            entities.point_of_interest(f, statuses.get(f.id), base_url=base) for f in facilities
        ]
    if query.wants_type(entities.CROWD):
        for facility in facilities:
            crowd = entities.crowd_flow(facility, statuses.get(facility.id), base_url=base)
            if crowd is not None:
                found.append(crowd)
    return [e for e in found if query.matches(entities.key_values(e))]


@router.get(
    "/entities",
    summary="Entités NGSI-LD / NGSI-LD entities",
    response_class=Response,
    responses=ENTITIES_DOC,
)
async def query_entities(request: Request, ctx: Ctx) -> Response:
    """Facilities as ``PointOfInterest`` and their live crowd as ``CrowdFlowObserved`` (Smart
    Data Models), filtered by ``type``, ``id``, ``q`` (subset: see :mod:`api.ngsi_ld.query`),
    ``attrs``; paged by ``limit``/``offset``; ``options=keyValues`` for the simplified form."""
    try:
        media = _media(request)
        params = dict(request.query_params)
        query = parse_query(params, list(request.query_params.keys()))
        wanted = list(ctx.catalogue.ids)
        if query.ids is not None:
            wanted = [pair[1] for i in query.ids if (pair := entities.facility_of(i))]
        statuses = await _statuses(ctx, sorted(set(wanted) & ctx.catalogue.ids))
    except NgsiLdError as exc:
        return exc.response()
    except ApiError as exc:
        return _unavailable(exc)
    matched = _entities(ctx, query, statuses)
    page = [query.project(e) for e in matched[query.offset : query.offset + query.limit]]
    body = [entities.key_values(e) for e in page] if query.key_values else page
    headers = {"NGSILD-Results-Count": str(len(matched))} if query.count else {}
    return _answer(request, ctx, body, media, **headers)


@router.get(
    "/entities/{entity_id:path}",
    summary="Une entité NGSI-LD / One NGSI-LD entity",
    response_class=Response,
    responses=ENTITIES_DOC,
)
async def retrieve_entity(request: Request, ctx: Ctx, entity_id: str) -> Response:
    """One entity by id (``urn:ngsi-ld:PointOfInterest:piscine-pontoise``); ``attrs`` and
    ``options=keyValues`` as for the query."""
    try:
        media = _media(request)
        if ":" not in entity_id or len(entity_id) > 256:
            raise BadRequestData("the entity id is a URI (urn:ngsi-ld:...)")
        query = parse_query(dict(request.query_params), list(request.query_params.keys()))
        known = entities.facility_of(entity_id)
        if known is None or known[1] not in ctx.catalogue:
            raise ResourceNotFound(f"no entity {entity_id[:120]}")
        kind, facility_id = known
        statuses = await _statuses(ctx, [facility_id])
    except NgsiLdError as exc:
        return exc.response()
    except ApiError as exc:
        return _unavailable(exc)
    facility = ctx.catalogue.get(facility_id)
    base = ctx.settings.public_base_url
    status = statuses.get(facility_id)
    entity = (
        entities.point_of_interest(facility, status, base_url=base)
        if kind == entities.POI
        else entities.crowd_flow(facility, status, base_url=base)
    )
    if entity is None:
        return ResourceNotFound(f"no live crowd observed at {facility_id}").response()
    entity = query.project(entity)
    return _answer(request, ctx, entities.key_values(entity) if query.key_values else entity, media)


@router.get(
    "/jsonldContexts/paris-live.jsonld", summary="@context JSON-LD", response_class=Response
)
async def json_ld_context(request: Request, ctx: Ctx) -> Response:
    """The @context every entity names."""
    body = orjson.dumps(context_document(ctx.settings.public_base_url))
    return cached(request, body, LD, max_age=86400)


def _unavailable(exc: ApiError) -> Response:
    """Redis down (or another API error) in the problem-details shape."""
    problem = ProblemDetails(
        type="https://uri.etsi.org/ngsi-ld/errors/InternalError",
        title="Internal error",
        detail=exc.message,
    )
    return Response(
        problem.model_dump_json(),
        status_code=exc.status,
        media_type=JSON,
        headers={"Cache-Control": "no-store", **(exc.headers or {})},
    )
