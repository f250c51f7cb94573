"""Agents' routes: declare, update and end exceptional closures; audit trail; console helpers.

``POST /v1/facilities/{id}/closures`` (201 with the closure), ``PATCH /v1/closures/{closure_id}``,
``POST /v1/closures/{closure_id}/end``, ``GET /v1/audit?facility=``, ``GET /v1/me``,
``GET /v1/closure-templates``.

Every change is one PostgreSQL transaction — the ``closures`` row, an ``audit_log`` row (who,
when, facility, before/after, request id, client address), the ``Idempotency-Key`` and the
CloudEvent in ``closure_outbox`` — then the event is published to ``facility-closures`` (key: the
facility id) through the producers' :class:`~producers.publisher.Publisher`; the stream worker
applies it and the live hub pushes it. An event a crash left unpublished is re-sent by the
relay of any API process (consumers deduplicate on the event id).

Checks, in order: rate limit (429) → token (401) → role and facility (403; for a closure id, the
closure's facility) → known facility / closure (404) → body (422) → state (409, ended closure).
The public status only says which role declared a closure (« déclaré par l'équipe »); the agent's
id stays in the closures table and the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import uuid
from collections.abc import AsyncIterator
from functools import lru_cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Header, Path, Query, Request
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
)

from api.auth import Authenticated, Forbidden, Principal, Role
from api.closure_store import (
    COLUMNS,
    Closure,
    ClosureBus,
    audit,
    claim_key,
    event_source,
    fingerprint,
    from_row,
    outbox,
    state_event,
    store_key,
)
from api.context import AppContext, Ctx
from api.errors import (
    ERROR_RESPONSES,
    ApiError,
    ErrorResponse,
    InvalidParameter,
    UnknownFacilityError,
)
from api.inputs import ClosureMessage
from api.ratelimit import RATE_LIMITED, Rate, RateLimit
from api.routes.facilities import FacilityIdParam
from api.routes.history import pg
from api.templates import REASONS, declared_label, render_message
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import (
    AreaScope,
    ClosureEndData,
    ClosureReason,
    ClosureScope,
    CloudEvent,
    EventType,
    FacilityScope,
    LocalizedText,
    ServiceScope,
    make_event,
)
from schemas.text import LINE_PATTERN

__all__ = ["ClosureBus", "router"]

logger = logging.getLogger("paris_live.api.agents")

MAX_MESSAGE = 500
"""Characters of a closure message, per language."""
PAST_START = dt.timedelta(hours=24)
"""A closure may be declared up to this long after it started."""
HORIZON = dt.timedelta(days=366)
"""How far ahead a start or an expected reopening may be."""


# ── limits ────────────────────────────────────────────────────────────────────────────────────


@lru_cache(maxsize=32)
def _parse(text: str) -> Rate:
    return Rate.parse(text)


def _setting_rate(field: str) -> Any:
    """A rate from a deployment setting (``PARIS_LIVE_<FIELD>``)."""
    return lambda settings: _parse(getattr(settings, field))


WRITE_LIMIT = RateLimit(
    "agents-write",
    per_token=_setting_rate("rate_agent_write_per_token"),
    per_address=_setting_rate("rate_agent_write_per_address"),
)
READ_LIMIT = RateLimit(
    "agents-read",
    per_token=_setting_rate("rate_agent_read_per_token"),
    per_address=_setting_rate("rate_agent_read_per_address"),
)


# ── errors ────────────────────────────────────────────────────────────────────────────────────


class UnknownClosure(ApiError):
    status = 404
    code = "unknown_closure"

    def __init__(self, closure_id: str) -> None:
        super().__init__(f"Fermeture inconnue : {closure_id} / Unknown closure: {closure_id}")


class ClosureAlreadyEnded(ApiError):
    status = 409
    code = "closure_ended"

    def __init__(self, closure_id: str) -> None:
        super().__init__(
            f"Fermeture déjà terminée : {closure_id} / Closure already ended: {closure_id}"
        )


class TooManyClosures(ApiError):
    status = 409
    code = "too_many_closures"

    def __init__(self, facility_id: str, most: int) -> None:
        super().__init__(
            f"Trop de fermetures en cours pour {facility_id} (au plus {most}) : "
            f"terminez-en une d'abord / Too many closures in force for {facility_id} "
            f"(at most {most}): end one first"
        )


def _invalid(fr: str, en: str) -> InvalidParameter:
    return InvalidParameter(f"{fr} / {en}", code="invalid_closure")


def _doc(status: int, description: str, code: str, message: str) -> dict[int | str, Any]:
    return {
        status: {
            "model": ErrorResponse,
            "description": description,
            "content": {
                "application/json": {"example": {"error": {"code": code, "message": message}}}
            },
        }
    }


AUTH_ERRORS: dict[int | str, Any] = {
    **_doc(401, "Jeton absent ou invalide / Missing or invalid token", "unauthenticated", "…"),
    **_doc(403, "Rôle ou équipement non autorisé / Not allowed", "forbidden", "…"),
    **RATE_LIMITED,
}
AUTH_ERRORS[401]["headers"] = {"WWW-Authenticate": {"schema": {"type": "string"}}}
CLOSURE_ERRORS: dict[int | str, Any] = {
    **_doc(404, "Fermeture ou équipement inconnu / Unknown", "unknown_closure", "…"),
    **_doc(
        409,
        "Fermeture déjà terminée, ou trop de fermetures en cours / "
        "Already ended, or too many closures in force",
        "closure_ended",
        "…",
    ),
}


# ── request and response bodies ───────────────────────────────────────────────────────────────


def _reasonable(value: dt.datetime) -> dt.datetime:
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("date out of range") from None
    if not 2000 <= utc.year <= 2100:
        raise ValueError("date out of range (2000–2100)")
    return utc


When = Annotated[AwareDatetime, AfterValidator(_reasonable)]


class MessageIn(BaseModel):
    """What the public reads: French (required) and English, at most 500 characters each
    (line breaks allowed, other control characters refused: :mod:`schemas.text`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fr: ClosureMessage
    en: ClosureMessage | None = None


class DeclareClosure(BaseModel):
    """A new closure. Without ``message``, the reason's template is used (see
    ``GET /v1/closure-templates``); without ``starts_at``, it starts now."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scope": {"kind": "area", "name": "Bassin 50 m"},
                    "reason": "water_quality",
                    "expected_reopening_at": "2026-06-12T14:00:00+02:00",
                }
            ]
        },
    )

    scope: ClosureScope = Field(default_factory=FacilityScope)
    reason: ClosureReason
    message: MessageIn | None = None
    starts_at: When | None = None
    expected_reopening_at: When | None = None


class UpdateClosure(BaseModel):
    """New expected reopening (``null``: unknown), message or reason; absent fields are kept.
    A templated message follows the new reason and reopening time."""

    model_config = ConfigDict(extra="forbid")

    expected_reopening_at: When | None = None
    message: MessageIn | None = None
    reason: ClosureReason | None = None


class EndClosure(BaseModel):
    """Optional closing words (« Réouverture à 15 h, merci de votre patience »)."""

    model_config = ConfigDict(extra="forbid")

    message: MessageIn | None = None


class AuditEntry(BaseModel):
    audit_id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    facility_id: str
    closure_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    client_address: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next: str | None


class ServiceRef(BaseModel):
    service_id: str
    name: LocalizedText


class FacilityRef(BaseModel):
    id: str
    name: str
    type: str
    arrondissement: int
    areas: list[str]
    services: list[ServiceRef]


class Me(BaseModel):
    subject: str
    role: Role
    facilities: list[FacilityRef]
    facility_types: list[str]
    expires_at: dt.datetime
    may_manage_closures: bool
    may_read_audit: bool


class ReasonTemplateOut(BaseModel):
    reason: ClosureReason
    label: LocalizedText
    template: LocalizedText = Field(description="placeholders: {what}, {reopening}")


class TemplatePage(BaseModel):
    items: list[ReasonTemplateOut]
    next: str | None = None


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
ClosureIdPath = Annotated[
    str,
    Path(
        min_length=1,
        max_length=200,
        pattern=LINE_PATTERN,
        description="Identifiant de la fermeture / closure id",
    ),
]


# ── closure bus: outbox → Publisher → facility-closures ──────────────────────────────────────


async def _bus(request: Request) -> ClosureBus:
    state = request.app.state
    bus: ClosureBus | None = getattr(state, "closure_bus", None)
    if bus is None:
        lock: asyncio.Lock = state.__dict__.setdefault("closure_bus_lock", asyncio.Lock())
        async with lock:
            bus = getattr(state, "closure_bus", None)
            if bus is None:
                ctx: AppContext = request.state.ctx
                bus = ClosureBus(ctx.settings, ctx)
                await bus.start()
                state.closure_bus = bus
    return bus


Bus = Annotated[ClosureBus, Depends(_bus)]


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    yield
    bus: ClosureBus | None = getattr(app.state, "closure_bus", None)
    if bus is not None:
        app.state.closure_bus = None
        await bus.close()


router = APIRouter(prefix="/v1", lifespan=_lifespan)


# ── access ────────────────────────────────────────────────────────────────────────────────────


def _facility_type(ctx: AppContext, facility_id: str) -> str | None:
    return ctx.catalogue.get(facility_id).type if facility_id in ctx.catalogue else None


def _require_manager_role(principal: Principal) -> None:
    if principal.role not in (Role.AGENT, Role.SUPERVISOR):
        raise Forbidden(
            "Ce rôle ne peut pas gérer les fermetures / This role cannot manage closures"
        )


def _require_manager(principal: Principal, ctx: AppContext, facility_id: str) -> None:
    _require_manager_role(principal)
    if not principal.may_manage_closures(facility_id, _facility_type(ctx, facility_id)):
        raise Forbidden(
            f"Vous ne gérez pas l'équipement {facility_id} / "
            f"You do not manage facility {facility_id}"
        )


async def facility_manager(
    principal: Authenticated, ctx: Ctx, facility_id: FacilityIdParam
) -> tuple[Principal, Facility]:
    """The caller may manage closures of this (catalogue) facility."""
    _require_manager(principal, ctx, facility_id)
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    return principal, ctx.catalogue.get(facility_id)


async def closure_manager(
    principal: Authenticated, ctx: Ctx, closure_id: ClosureIdPath
) -> tuple[Principal, Facility]:
    """The caller may manage this closure (its facility's)."""
    _require_manager_role(principal)
    async with pg(ctx) as conn:
        cur = await conn.execute(
            "SELECT facility_id FROM closures WHERE closure_id = %s", (closure_id,)
        )
        row = await cur.fetchone()
    if row is None:
        raise UnknownClosure(closure_id)
    _require_manager(principal, ctx, row[0])
    if row[0] not in ctx.catalogue:
        raise UnknownClosure(closure_id)
    return principal, ctx.catalogue.get(row[0])


FacilityManager = Annotated[tuple[Principal, Facility], Depends(facility_manager)]
ClosureManager = Annotated[tuple[Principal, Facility], Depends(closure_manager)]


# ── persistence ───────────────────────────────────────────────────────────────────────────────


def _request_id(request: Request, given: str | None) -> str:
    if given and re.fullmatch(r"[A-Za-z0-9._:-]{1,128}", given):
        return given
    rid: str = getattr(request.state, "request_id", None) or uuid.uuid4().hex
    request.state.request_id = rid
    return rid


def _checked_times(
    starts_at: dt.datetime, reopening: dt.datetime | None, now: dt.datetime, *, new: bool
) -> None:
    if new and starts_at < now - PAST_START:
        raise _invalid(
            "Le début ne peut précéder maintenant de plus de 24 h",
            "starts_at cannot be more than 24 h ago",
        )
    if starts_at > now + HORIZON:
        raise _invalid("Début trop lointain (1 an au plus)", "starts_at more than a year ahead")
    if reopening is not None:
        if reopening <= starts_at:
            raise _invalid(
                "La réouverture prévue doit suivre le début",
                "expected_reopening_at must be after starts_at",
            )
        if reopening <= now:
            raise _invalid(
                "La réouverture prévue est déjà passée",
                "expected_reopening_at is already past",
            )
        if reopening > starts_at + HORIZON:
            raise _invalid(
                "Réouverture prévue trop lointaine (1 an au plus)",
                "expected_reopening_at more than a year after starts_at",
            )


def _checked_scope(facility: Facility, scope: object) -> None:
    if isinstance(scope, AreaScope) and scope.name not in facility.areas:
        known = ", ".join(facility.areas) or "aucun / none"
        raise _invalid(
            f"Espace inconnu pour {facility.id} : {scope.name} (espaces : {known})",
            f"Unknown area for {facility.id}: {scope.name} (areas: {known})",
        )
    if isinstance(scope, ServiceScope) and scope.service_id not in {
        s.service_id for s in facility.services
    }:
        known = ", ".join(s.service_id for s in facility.services)
        raise _invalid(
            f"Service inconnu pour {facility.id} : {scope.service_id} (services : {known})",
            f"Unknown service for {facility.id}: {scope.service_id} (services: {known})",
        )


def _message(given: MessageIn | None) -> LocalizedText | None:
    return LocalizedText(fr=given.fr, en=given.en) if given is not None else None


async def _check_room(conn: AsyncConnection[Any], facility_id: str, most: int) -> None:
    """409 when the facility already has ``most`` closures in force (``max_active_closures``).

    Declarations for one facility are serialised by a transaction-scoped advisory lock, so two
    concurrent ones cannot both take the last place."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('closures:' || %s))", (facility_id,))
    cur = await conn.execute(
        "SELECT count(*) FROM closures WHERE facility_id = %s AND ended_at IS NULL",
        (facility_id,),
    )
    row = await cur.fetchone()
    if row is not None and row[0] >= most:
        raise TooManyClosures(facility_id, most)


def _respond(closure: Closure, status: int, request_id: str) -> JSONResponse:
    return JSONResponse(
        closure.model_dump(mode="json"),
        status_code=status,
        headers={"Cache-Control": "no-store", "X-Request-ID": request_id},
    )


def _new_closure(
    principal: Principal, facility: Facility, body: DeclareClosure, now: dt.datetime
) -> tuple[Closure, CloudEvent, bool]:
    """The closure a declaration describes (validated), its event, and whether it is templated."""
    starts_at = body.starts_at or now
    _checked_scope(facility, body.scope)
    _checked_times(starts_at, body.expected_reopening_at, now, new=True)
    message = _message(body.message)
    templated = message is None
    if message is None:
        message = render_message(body.reason, facility, body.scope, body.expected_reopening_at, now)
    reopening = body.expected_reopening_at
    closure = Closure(
        closure_id=uuid.uuid4().hex,
        facility_id=facility.id,
        scope=body.scope,
        reason=body.reason,
        message=message,
        starts_at=starts_at.astimezone(PARIS),
        expected_reopening_at=reopening.astimezone(PARIS) if reopening else None,
        ended_at=None,
        declared_by=principal.subject,
        declared_at=now.astimezone(PARIS),
        updated_at=now.astimezone(PARIS),
        sequence=0,
        declared_label=declared_label(now, now),
    )
    event = state_event(EventType.CLOSURE_DECLARED, closure, principal.role, now)
    return closure, event, templated


# ── routes ────────────────────────────────────────────────────────────────────────────────────

WRITE_RESPONSES: dict[int | str, Any] = {**AUTH_ERRORS, **CLOSURE_ERRORS, **ERROR_RESPONSES}


@router.post(
    "/facilities/{facility_id}/closures",
    tags=["closures"],
    status_code=201,
    summary="Déclarer une fermeture exceptionnelle / Declare an exceptional closure",
    response_model=Closure,
    responses={**WRITE_RESPONSES, **_doc(422, "Invalide / Invalid", "invalid_closure", "…")},
    dependencies=[Depends(WRITE_LIMIT)],
)
async def declare_closure(
    request: Request,
    ctx: Ctx,
    manager: FacilityManager,
    bus: Bus,
    body: DeclareClosure,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """Agents of the facility and their supervisors only; answers 201 with the closure."""
    principal, facility = manager
    request_id = _request_id(request, request_id_header)
    now = dt.datetime.now(dt.UTC)
    async with pg(ctx) as conn, conn.transaction():
        if idempotency_key is not None:
            replay = await claim_key(conn, principal, idempotency_key, fingerprint(request, body))
            if replay is not None:
                return replay
        closure, event, templated = _new_closure(principal, facility, body, now)
        await _check_room(conn, facility.id, ctx.settings.max_active_closures)
        await conn.execute(
            f"INSERT INTO closures ({COLUMNS}) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                closure.closure_id,
                closure.facility_id,
                Jsonb(closure.scope.model_dump(mode="json")),
                closure.reason.value,
                Jsonb(closure.message.model_dump(mode="json", exclude_none=True)),
                closure.starts_at,
                closure.expected_reopening_at,
                None,
                closure.declared_by,
                closure.declared_at,
                closure.updated_at,
                0,
                templated,
            ),
        )
        await audit(conn, request, principal, request_id, "closure.declared", None, closure)
        await outbox(conn, event, closure.closure_id)
        await store_key(conn, principal, idempotency_key, 201, closure.model_dump(mode="json"))
    await bus.publish(event)
    return _respond(closure, 201, request_id)


async def _locked(
    conn: AsyncConnection[Any], closure_id: str, now: dt.datetime
) -> tuple[Closure, bool]:
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM closures WHERE closure_id = %s FOR UPDATE", (closure_id,)
        )
        row = await cur.fetchone()
    if row is None:  # pragma: no cover - closures are never deleted
        raise UnknownClosure(closure_id)
    closure = from_row(row, now)
    if closure.ended_at is not None:
        raise ClosureAlreadyEnded(closure_id)
    return closure, bool(row["templated"])


@router.patch(
    "/closures/{closure_id}",
    tags=["closures"],
    summary="Mettre à jour une fermeture / Update a closure",
    response_model=Closure,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(WRITE_LIMIT)],
)
async def update_closure(
    request: Request,
    ctx: Ctx,
    manager: ClosureManager,
    bus: Bus,
    closure_id: ClosureIdPath,
    body: UpdateClosure,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """New expected reopening (``null``: unknown), message or reason of an ongoing closure."""
    principal, facility = manager
    if not body.model_fields_set:
        raise _invalid("Rien à modifier", "Nothing to change")
    request_id = _request_id(request, request_id_header)
    now = dt.datetime.now(dt.UTC)
    async with pg(ctx) as conn, conn.transaction():
        if idempotency_key is not None:
            replay = await claim_key(conn, principal, idempotency_key, fingerprint(request, body))
            if replay is not None:
                return replay
        before, templated = await _locked(conn, closure_id, now)
        fields = body.model_fields_set
        reopening = (
            body.expected_reopening_at
            if "expected_reopening_at" in fields
            else before.expected_reopening_at
        )
        reason = body.reason or before.reason
        _checked_times(before.starts_at, reopening, now, new=False)
        message = _message(body.message)
        if message is not None:
            templated = False
        elif templated:
            message = render_message(reason, facility, before.scope, reopening, now)
        else:
            message = before.message
        after = before.model_copy(
            update={
                "reason": reason,
                "message": message,
                "expected_reopening_at": reopening.astimezone(PARIS) if reopening else None,
                "updated_at": now.astimezone(PARIS),
                "sequence": before.sequence + 1,
            }
        )
        await conn.execute(
            "UPDATE closures SET reason = %s, message = %s, expected_reopening_at = %s, "
            "updated_at = %s, sequence = %s, templated = %s WHERE closure_id = %s",
            (
                after.reason.value,
                Jsonb(after.message.model_dump(mode="json", exclude_none=True)),
                after.expected_reopening_at,
                after.updated_at,
                after.sequence,
                templated,
                closure_id,
            ),
        )
        event = state_event(EventType.CLOSURE_UPDATED, after, principal.role, now)
        await audit(conn, request, principal, request_id, "closure.updated", before, after)
        await outbox(conn, event, closure_id)
        await store_key(conn, principal, idempotency_key, 200, after.model_dump(mode="json"))
    await bus.publish(event)
    return _respond(after, 200, request_id)


@router.post(
    "/closures/{closure_id}/end",
    tags=["closures"],
    summary="Terminer une fermeture / End a closure",
    response_model=Closure,
    responses=WRITE_RESPONSES,
    dependencies=[Depends(WRITE_LIMIT)],
)
async def end_closure(
    request: Request,
    ctx: Ctx,
    manager: ClosureManager,
    bus: Bus,
    closure_id: ClosureIdPath,
    body: EndClosure | None = None,
    idempotency_key: IdempotencyKey = None,
    request_id_header: RequestIdHeader = None,
) -> JSONResponse:
    """The facility (or area, service) reopens now."""
    principal, _facility = manager
    request_id = _request_id(request, request_id_header)
    now = dt.datetime.now(dt.UTC)
    async with pg(ctx) as conn, conn.transaction():
        if idempotency_key is not None:
            replay = await claim_key(conn, principal, idempotency_key, fingerprint(request, body))
            if replay is not None:
                return replay
        before, _ = await _locked(conn, closure_id, now)
        after = before.model_copy(
            update={"ended_at": now.astimezone(PARIS), "updated_at": now.astimezone(PARIS)}
        )
        await conn.execute(
            "UPDATE closures SET ended_at = %s, updated_at = %s WHERE closure_id = %s",
            (after.ended_at, after.updated_at, closure_id),
        )
        end = ClosureEndData(
            closure_id=closure_id,
            ended_by=principal.role.value,
            message=_message(body.message) if body is not None else None,
        )
        event = make_event(
            EventType.CLOSURE_ENDED, after.facility_id, end, source=event_source(after), time=now
        )
        await audit(conn, request, principal, request_id, "closure.ended", before, after)
        await outbox(conn, event, closure_id)
        await store_key(conn, principal, idempotency_key, 200, after.model_dump(mode="json"))
    await bus.publish(event)
    return _respond(after, 200, request_id)


@router.get(
    "/audit",
    tags=["agents"],
    summary="Journal d'audit des fermetures / Closure audit trail",
    response_model=AuditPage,
    responses={**AUTH_ERRORS, **ERROR_RESPONSES},
    dependencies=[Depends(READ_LIMIT)],
)
async def audit_trail(
    ctx: Ctx,
    principal: Authenticated,
    facility: Annotated[
        str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="facility id")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(pattern=r"^[0-9]{1,18}$")] = None,
) -> JSONResponse:
    """Supervisors (their facilities) and operations staff (all); newest first."""
    if principal.role not in (Role.SUPERVISOR, Role.OPS):
        raise Forbidden(
            "Journal réservé aux superviseurs et à l'exploitation / "
            "Audit trail for supervisors and operations only"
        )
    if facility is not None:
        if not principal.may_read_audit(facility, _facility_type(ctx, facility)):
            raise Forbidden(
                f"Vous ne supervisez pas l'équipement {facility} / "
                f"You do not supervise facility {facility}"
            )
        scope: list[str] | None = [facility]
    elif principal.role is Role.OPS:
        scope = None
    else:
        scope = sorted(_facilities_of(ctx, principal))
    before_id = int(cursor) if cursor is not None else 2**62
    async with pg(ctx) as conn, conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT audit_id, at, actor, actor_role, action, facility_id, closure_id, before, "
            "after, request_id, client_address FROM audit_log WHERE audit_id < %s "
            "AND (%s::text[] IS NULL OR facility_id = ANY(%s::text[])) "
            "ORDER BY audit_id DESC LIMIT %s",
            (before_id, scope, scope, limit + 1),
        )
        rows = await cur.fetchall()
    more = len(rows) > limit
    rows = rows[:limit]
    items = [AuditEntry.model_validate({**r, "at": r["at"].astimezone(PARIS)}) for r in rows]
    page = AuditPage(items=items, next=str(rows[-1]["audit_id"]) if more else None)
    return JSONResponse(page.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


def _facilities_of(ctx: AppContext, principal: Principal) -> set[str]:
    ids = {f for f in principal.facilities if f in ctx.catalogue}
    for facility_type in principal.facility_types:
        ids.update(f.id for f in ctx.catalogue.by_type(facility_type))
    return ids


@router.get(
    "/me",
    tags=["agents"],
    summary="Qui suis-je ? / Who am I?",
    response_model=Me,
    responses={**AUTH_ERRORS, **ERROR_RESPONSES},
    dependencies=[Depends(READ_LIMIT)],
)
async def me(ctx: Ctx, principal: Authenticated) -> JSONResponse:
    """The caller's role and facilities (with their areas and services) for the agent console."""
    facilities = [ctx.catalogue.get(f) for f in _facilities_of(ctx, principal)]
    facilities.sort(key=lambda f: (f.type, f.name))
    manages = principal.role in (Role.AGENT, Role.SUPERVISOR)
    out = Me(
        subject=principal.subject,
        role=principal.role,
        facilities=[
            FacilityRef(
                id=f.id,
                name=f.name,
                type=f.type,
                arrondissement=f.arrondissement,
                areas=list(f.areas),
                services=[ServiceRef(service_id=s.service_id, name=s.name) for s in f.services],
            )
            for f in facilities
        ],
        facility_types=sorted(principal.facility_types),
        expires_at=principal.expires_at.astimezone(PARIS),
        may_manage_closures=manages,
        may_read_audit=principal.role in (Role.SUPERVISOR, Role.OPS),
    )
    return JSONResponse(out.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.get(
    "/closure-templates",
    tags=["closures"],
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
