"""Closures' routes: read the request, call the service, answer.

``POST /v1/facilities/{id}/closures`` (201 with the closure), ``PATCH /v1/closures/{closure_id}``,
``POST /v1/closures/{closure_id}/end`` (agents of the facility and their supervisors),
``GET /v1/closure-templates``, ``GET /v1/facilities/{id}/closures.ics``; and equipment outages by
the same service — ``POST /v1/facilities/{id}/equipment-outages`` (201 new, 200 updated) and
``POST /v1/facilities/{id}/equipment-outages/end`` (agents, supervisors, and devices of the
facility; events on ``facility-equipment``).

Every change is one PostgreSQL transaction, then its event goes to ``facility-closures``
(:mod:`api.closures.service`); the stream worker applies it and the live hub pushes it. The
public status only says which role declared a closure (« déclaré par l'équipe »); the agent's id
stays in the closures table and the audit trail.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import uuid
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.auth import Principal
from api.caching import cached
from api.closures import store
from api.closures.access import (
    AUTH_ERRORS,
    CLOSURE_ERRORS,
    WRITE_LIMIT,
    ClosureIdPath,
    ClosureManager,
    EquipmentReporter,
    FacilityManager,
    error_doc,
)
from api.closures.calendar import KEEP_ENDED, ClosureRecord, closures_calendar, from_live
from api.closures.models import (
    Closure,
    DeclareClosure,
    EndClosure,
    ReasonTemplateOut,
    TemplatePage,
    UpdateClosure,
)
from api.closures.outages import DeclareOutage, EndOutage, Outage
from api.closures.rules import invalid
from api.closures.service import (
    ClosureService,
    DeclarationService,
    EquipmentService,
    Outcome,
    Submission,
    fingerprint,
)
from api.context import Ctx
from api.errors import ERROR_RESPONSES, NOT_FOUND
from api.i18n import bilingual
from api.ratelimit import client_address
from api.routes.facilities import FacilityIdParam, require_facility
from api.routes.history import pg
from api.templates import REASONS

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["closures"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Même clé, même requête : la première réponse est rejouée / "
        "same key, same request: the first response is replayed (24 h)",
    ),
]
RequestIdHeader = Annotated[
    str | None, Header(alias="X-Request-ID", max_length=200, include_in_schema=False)
]
WRITE_RESPONSES: dict[int | str, Any] = {**AUTH_ERRORS, **CLOSURE_ERRORS, **ERROR_RESPONSES}


def closure_service(ctx: Ctx) -> ClosureService:
    """The closures' service over this process's pool and closure bus."""
    declarations = DeclarationService(functools.partial(pg, ctx), ctx.closure_bus)
    return ClosureService(declarations, ctx.settings.max_active_closures)


def equipment_service(ctx: Ctx) -> EquipmentService:
    """The equipment outages' service: the same declarations' service as closures."""
    return EquipmentService(DeclarationService(functools.partial(pg, ctx), ctx.closure_bus))


Service = Annotated[ClosureService, Depends(closure_service)]
Equipment = Annotated[EquipmentService, Depends(equipment_service)]


def _request_id(request: Request, given: str | None) -> str:
    if given and re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", given):
        return given
    rid: str = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    request.state.request_id = rid
    return rid


def _submission(
    request: Request,
    principal: Principal,
    body: BaseModel | None,
    key: str | None,
    request_id: str | None,
) -> Submission:
    return Submission(
        principal=principal,
        request_id=_request_id(request, request_id),
        client_address=client_address(request),
        key=key,
        fingerprint=fingerprint(request.method, request.url.path, body),
        now=dt.datetime.now(dt.UTC),
    )


def _answer(outcome: Outcome, sub: Submission) -> JSONResponse:
    if outcome.replayed:
        headers = {"Idempotent-Replayed": "true", "Cache-Control": "no-store"}
    else:
        headers = {"Cache-Control": "no-store", "X-Request-ID": sub.request_id}
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


@router.get(
    "/facilities/{facility_id}/closures.ics",
    summary="Fermetures exceptionnelles (iCalendar) / Exceptional closures (iCalendar)",
    response_class=Response,
    responses={
        200: {
            "content": {"text/calendar": {"schema": {"type": "string"}}},
            "description": "RFC 5545 calendar, one VEVENT per closure",
        },
        **NOT_FOUND,
        **ERROR_RESPONSES,
    },
)
async def closures_ics(request: Request, ctx: Ctx, facility_id: FacilityIdParam) -> Response:
    """Exceptional closures of the last 90 days and to come; subscribe to it in any calendar."""
    facility, raw = await require_facility(ctx, facility_id)
    now = dt.datetime.now(dt.UTC)
    status: dict[str, Any] = orjson.loads(raw) if raw else {}
    async with pg(ctx) as conn:
        rows = await store.recent_closures(conn, facility_id, since=now - KEEP_ENDED)
    records = [ClosureRecord(*row) for row in rows]
    known = {r.closure_id for r in records}
    records += [from_live(c) for c in status.get("closures") or [] if c["closure_id"] not in known]
    name = facility.name if facility else status.get("name", facility_id)
    address = facility.address.one_line() if facility else None
    body = closures_calendar(name, address, records, base_url=ctx.settings.public_base_url, now=now)
    return cached(
        request,
        body,
        "text/calendar; charset=utf-8",
        max_age=300,
        headers={"Content-Disposition": f'inline; filename="{facility_id}-closures.ics"'},
    )


@router.post(
    "/facilities/{facility_id}/closures",
    status_code=201,
    summary="Déclarer une fermeture exceptionnelle / Declare an exceptional closure",
    response_model=Closure,
    responses={**WRITE_RESPONSES, **error_doc(422, "Invalide / Invalid", "invalid_closure", "…")},
    dependencies=[Depends(WRITE_LIMIT)],
)
async def declare_closure(
    request: Request,
    manager: FacilityManager,
    service: Service,
    body: DeclareClosure,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """Agents of the facility and their supervisors only; answers 201 with the closure."""
    principal, facility = manager
    sub = _submission(request, principal, body, idempotency_key, request_id_header)
    return _answer(await service.declare(sub, facility, body), sub)


@router.patch(
    "/closures/{closure_id}",
    summary="Mettre à jour une fermeture / Update a closure",
    response_model=Closure,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(WRITE_LIMIT)],
)
async def update_closure(
    request: Request,
    manager: ClosureManager,
    service: Service,
    closure_id: ClosureIdPath,
    body: UpdateClosure,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """New expected reopening (``null``: unknown), message or reason of an ongoing closure."""
    if not body.model_fields_set:
        raise invalid(bilingual("Rien à modifier"))
    principal, facility = manager
    sub = _submission(request, principal, body, idempotency_key, request_id_header)
    return _answer(await service.update(sub, facility, closure_id, body), sub)


@router.post(
    "/closures/{closure_id}/end",
    summary="Terminer une fermeture / End a closure",
    response_model=Closure,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(WRITE_LIMIT)],
)
async def end_closure(
    request: Request,
    manager: ClosureManager,
    service: Service,
    closure_id: ClosureIdPath,
    body: EndClosure | None = None,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """The facility (or area, service) reopens now."""
    sub = _submission(request, manager[0], body, idempotency_key, request_id_header)
    return _answer(await service.end(sub, closure_id, body), sub)


OUTAGE_RESPONSES: dict[int | str, Any] = {
    **AUTH_ERRORS,
    **ERROR_RESPONSES,
    **error_doc(
        409,
        "Aucune panne en cours / No outage in force",
        "no_outage",
        "Aucune panne en cours pour l'équipement lift / No outage in force for equipment lift",
    ),
    **error_doc(
        422,
        "Équipement ou type inconnu / Unknown equipment or kind",
        "unknown_equipment",
        "Équipement inconnu pour mairie-paris-centre : lift-9 (équipements : lift, …)",
    ),
}


@router.post(
    "/facilities/{facility_id}/equipment-outages",
    status_code=201,
    summary="Déclarer un équipement hors service / Declare an equipment out of order",
    response_model=Outage,
    responses={
        200: {"model": Outage, "description": "Panne en cours mise à jour / updated"},
        **OUTAGE_RESPONSES,
    },
    dependencies=[Depends(WRITE_LIMIT)],
)
async def declare_outage(
    request: Request,
    reporter: EquipmentReporter,
    service: Equipment,
    body: DeclareOutage,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """A lift, ramp, pool hoist… out of service or degraded now (201); declared again while the
    outage is in force, it is updated (200). Agents and supervisors of the facility, and devices
    whose token names it."""
    principal, facility = reporter
    sub = _submission(request, principal, body, idempotency_key, request_id_header)
    return _answer(await service.declare(sub, facility, body), sub)


@router.post(
    "/facilities/{facility_id}/equipment-outages/end",
    summary="Équipement remis en service / Equipment back in service",
    response_model=Outage,
    responses=OUTAGE_RESPONSES,
    dependencies=[Depends(WRITE_LIMIT)],
)
async def end_outage(
    request: Request,
    reporter: EquipmentReporter,
    service: Equipment,
    body: EndOutage,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """The equipment works again; 409 ``no_outage`` when it had no outage in force."""
    principal, facility = reporter
    sub = _submission(request, principal, body, idempotency_key, request_id_header)
    return _answer(await service.end(sub, facility, body), sub)


@router.get(
    "/closure-templates",
    summary="Modèles de message par motif / Message templates per reason",
    response_model=TemplatePage,
    responses={**ERROR_RESPONSES},
)
async def closure_templates() -> JSONResponse:
    """Reasons with their label and message template (French first, English second).
    Declaring a closure without ``message`` uses the template of its reason."""
    page = TemplatePage(
        items=[
            ReasonTemplateOut(reason=t.reason, label=t.label, template=t.template)
            for t in REASONS.values()
        ]
    )
    return JSONResponse(
        page.model_dump(mode="json"), headers={"Cache-Control": "public, max-age=3600"}
    )
