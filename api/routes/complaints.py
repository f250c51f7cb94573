"""Complaints: one form for every service, routed to the competent one, followed by reference.

Public::

    GET  /complaints                       the form (facility search, rule, topic, text, contact)
    POST /v1/complaints                    201 {reference, service, acknowledge_due_at, answer_due_at}
    GET  /v1/complaints/routing            where a complaint would go, and the committed délai
    GET  /v1/complaints/{reference}        its status: received → acknowledged → answered
    GET  /complaints/{reference}           the same, as a page

Service inbox (bearer token of the competent service's staff, see :func:`staff_services`)::

    GET  /inbox                            the page
    GET  /v1/inbox/complaints              the service's complaints, with text and contact
    POST /v1/complaints/{reference}/acknowledge
    POST /v1/complaints/{reference}/answer {answer: {fr, en?}}

A complaint is a row of ``complaints`` (the case record, written in a transaction that checks
every transition), then events on ``feedback-complaints`` (keyed by facility) and
``complaints-routed`` (keyed by the competent service). Event ids are derived from the reference
(``<reference>:filed`` …), so a replay is deduplicated downstream. The contact never leaves the
case record: it is not put on Kafka, never shown on a public page, never logged; the retention job
(``paris-live feedback purge-personal-data``) erases it, the text and the answer.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Any, Literal

import structlog
from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.auth import Authenticated, Forbidden, Principal, Role
from api.context import AppContext, Ctx
from api.errors import ApiError, InvalidParameter, UnknownFacilityError
from api.inputs import AnswerText, ComplaintText, Contact, Honeypot, Topic
from api.ratelimit import Rate, client_address
from api.routes.feedback import (
    RULE_LABELS,
    InvalidInput,
    Lang,
    address_identity,
    api_error_response,
    errors_doc,
    esc,
    is_form,
    language,
    limit,
    page,
    parse,
    publish,
    read_body,
    template,
)
from api.routes.history import pg
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Facility, normalize_text
from schemas.events import CloudEvent, EventType, GoldenRule, LocalizedText, make_event
from schemas.routing import Route, RoutingError, load_routing

__all__ = ["ComplaintIn", "ComplaintStatus", "router", "staff_services"]

log = structlog.get_logger("api.complaints")
router = APIRouter()
COMPLAINTS_PER_ADDRESS = Rate(10, 3600, burst=5)
"""Per client address: 5 complaints at once, then one every 6 minutes."""
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
REFERENCE_PATTERN = r"^REC-[0-9]{4}-[A-Z0-9]{5}-[A-Z0-9]{5}$"

STATUS_WORDS = {
    "received": {"fr": "Reçue", "en": "Received"},
    "acknowledged": {"fr": "Prise en charge", "en": "Acknowledged"},
    "answered": {"fr": "Répondue", "en": "Answered"},
}


class ComplaintGone(ApiError):
    status = 404
    code = "unknown_complaint"

    def __init__(self) -> None:
        super().__init__("Réclamation inconnue / Unknown complaint")


class Conflict(ApiError):
    status = 409
    code = "conflict"


def new_reference(now: dt.datetime) -> str:
    """``REC-2506-7KQ2M-X9DPA``: year-month, then ~49 random bits (unguessable)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"REC-{now:%y%m}-{chars[:5]}-{chars[5:]}"


def check_reference(reference: str) -> str:
    import re

    if not re.fullmatch(REFERENCE_PATTERN, reference):
        raise ComplaintGone()
    return reference


# ── Models ────────────────────────────────────────────────────────────────────────────────────


class ComplaintIn(BaseModel):
    """A complaint as the form (or any client) posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    facility_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$", description="équipement")
    rule: GoldenRule = Field(description="la règle de la charte non respectée")
    topic: Topic | None = Field(default=None, description="nature (voir /routing)")
    text: ComplaintText = Field(description="ce qui s'est passé")
    contact: Contact | None = Field(
        default=None,
        description="facultatif : courriel, téléphone ou adresse postale pour la réponse",
    )
    channel: Literal["web", "screen", "on_site", "phone", "mail"] = "web"
    language: Literal["fr", "en"] = "fr"
    website: Honeypot | None = Field(default=None, description="laisser vide")

    @field_validator("contact", "topic", "website", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value


class ServiceOut(BaseModel):
    service_id: str
    name: LocalizedText


class RouteOut(BaseModel):
    facility_type: str
    rule: GoldenRule
    topic: str
    service: ServiceOut
    acknowledge_days: int
    answer_days: int


class ComplaintReceipt(BaseModel):
    reference: str
    status: Literal["received"]
    facility_id: str
    rule: GoldenRule
    topic: str
    service: ServiceOut
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    answer_due_at: dt.datetime
    answer_days: int
    status_url: str
    status_page: str
    message: str


class ComplaintStatus(BaseModel):
    """What anyone holding the reference may see: no text, no contact, no answer."""

    reference: str
    status: Literal["received", "acknowledged", "answered"]
    facility_id: str
    facility_name: str
    rule: GoldenRule
    topic: str
    service: ServiceOut
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    answer_due_at: dt.datetime
    answered_at: dt.datetime | None
    answered_on_time: bool | None


class ComplaintCase(ComplaintStatus):
    """The case as the competent service sees it in its inbox."""

    text: str | None
    contact: str | None
    answer: dict[str, str] | None
    channel: str
    language: str
    purged: bool


class CasePage(BaseModel):
    items: list[ComplaintCase]
    next: str | None


class AnswerTextIn(BaseModel):
    """A service's answer: French, and English when it has one (:mod:`schemas.text` rule)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fr: AnswerText
    en: AnswerText | None = None

    def localized(self) -> LocalizedText:
        return LocalizedText(fr=self.fr, en=self.en)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: AnswerTextIn


# ── Helpers ───────────────────────────────────────────────────────────────────────────────────

_CASE_COLUMNS = (
    "reference, facility_id, facility_type, rule, topic, service_id, channel, language, text, "
    "contact, filed_at, acknowledge_due_at, answer_due_at, acknowledged_at, answered_at, answer, "
    "purged_at"
)


def _service_out(service_id: str) -> ServiceOut:
    service = load_routing().services.get(service_id)
    name = service.name if service else LocalizedText(fr=service_id, en=service_id)
    return ServiceOut(service_id=service_id, name=LocalizedText(fr=name.fr, en=name.en))


def _case(ctx: AppContext, row: tuple[Any, ...]) -> ComplaintCase:
    (reference, facility_id, _ftype, rule, topic, service_id, channel, lang, text, contact,
     filed_at, ack_due, answer_due, acked_at, answered_at, answer, purged_at) = row  # fmt: skip
    status: Literal["received", "acknowledged", "answered"] = (
        "answered" if answered_at else "acknowledged" if acked_at else "received"
    )
    name = ctx.catalogue.get(facility_id).name if facility_id in ctx.catalogue else facility_id
    return ComplaintCase(
        reference=reference,
        status=status,
        facility_id=facility_id,
        facility_name=name,
        rule=GoldenRule(rule),
        topic=topic,
        service=_service_out(service_id),
        filed_at=filed_at,
        acknowledge_due_at=ack_due,
        acknowledged_at=acked_at,
        answer_due_at=answer_due,
        answered_at=answered_at,
        answered_on_time=None if answered_at is None else answered_at <= answer_due,
        text=text,
        contact=contact,
        answer=answer,
        channel=channel,
        language=lang,
        purged=purged_at is not None,
    )


def _public(case: ComplaintCase) -> ComplaintStatus:
    return ComplaintStatus.model_validate(
        case.model_dump(include=set(ComplaintStatus.model_fields))
    )


async def _load(ctx: AppContext, reference: str) -> ComplaintCase:
    async with pg(ctx) as conn:
        cur = await conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM complaints WHERE reference = %s", (reference,)
        )
        row = await cur.fetchone()
    if row is None:
        raise ComplaintGone()
    return _case(ctx, row)


def staff_services(principal: Principal) -> frozenset[str] | None:
    """The services whose complaints this caller handles; ``None`` = may read every service.

    Service staff carry ``role = service`` and a ``services`` claim; operations staff (``ops``)
    read every inbox but answer none.
    """
    if principal.role is Role.SERVICE:
        return frozenset(principal.services)
    if principal.role is Role.OPS:
        return None
    raise Forbidden("Réservé aux services compétents / Reserved to the competent services' staff")


def _may_act(principal: Principal, service_id: str) -> None:
    services = staff_services(principal)
    if services is None or service_id not in services:
        raise Forbidden(
            f"Cette réclamation relève d'un autre service ({service_id}) / "
            f"This complaint belongs to another service ({service_id})"
        )


def _route(facility: Facility, rule: GoldenRule, topic: str | None) -> Route:
    try:
        return load_routing().resolve(facility.type, rule, topic)
    except RoutingError:
        topics = ", ".join(load_routing().topics[rule])
        raise InvalidInput(
            {"topic": f"nature inconnue pour cette règle ({topics}) / unknown topic for this rule"}
        ) from None


def _route_out(route: Route) -> RouteOut:
    return RouteOut(
        facility_type=route.facility_type,
        rule=route.rule,
        topic=route.topic,
        service=_service_out(route.service.service_id),
        acknowledge_days=route.acknowledge_days,
        answer_days=route.answer_days,
    )


# ── Public API ────────────────────────────────────────────────────────────────────────────────


@router.get(
    "/v1/complaints/routing",
    tags=["feedback"],
    summary="Service compétent et délai de réponse / Competent service and response délai",
    response_model=RouteOut,
    responses=errors_doc(404, 422, 503),
)
async def routing_preview(
    ctx: Ctx,
    facility_id: Annotated[str, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,99}$")],
    rule: GoldenRule,
    topic: Annotated[str | None, Query(max_length=40)] = None,
) -> RouteOut:
    """Where a complaint about this facility and rule would go, before it is filed."""
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    try:
        route = load_routing().resolve(ctx.catalogue.get(facility_id).type, rule, topic)
    except RoutingError as exc:
        raise InvalidParameter(f"{exc} / {exc}", code="invalid_parameter") from None
    return _route_out(route)


@router.post(
    "/v1/complaints",
    tags=["feedback"],
    status_code=201,
    summary="Déposer une réclamation / File a complaint",
    response_model=ComplaintReceipt,
    responses=errors_doc(413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": ComplaintIn.model_json_schema()}},
        }
    },
)
async def file_complaint(request: Request, ctx: Ctx) -> Response:
    """Route the complaint to the competent service; answers its reference and délais at once."""
    form = is_form(request)
    try:
        complaint = parse(ComplaintIn, await read_body(request))
        if complaint.facility_id not in ctx.catalogue:
            raise InvalidInput({"facility_id": "équipement inconnu / unknown facility"})
        facility = ctx.catalogue.get(complaint.facility_id)
        route = _route(facility, complaint.rule, complaint.topic)
        if complaint.website:  # honeypot
            log.info("complaint_honeypot")
            raise _Honeypot()
        address = address_identity(ctx.settings, client_address(request))
        await limit(request, "complaint", ("addr", address, COMPLAINTS_PER_ADDRESS))
        receipt = await _file(request, ctx, complaint, facility, route)
    except _Honeypot:
        return _fake_receipt(form)
    except ApiError as exc:
        if form:
            return _form_error(exc, language(request, None))
        return api_error_response(exc)
    if form:
        return RedirectResponse(
            f"{receipt.status_page}?lang={complaint.language}&nouveau=1", status_code=303
        )
    return JSONResponse(
        receipt.model_dump(mode="json"),
        status_code=201,
        headers={"Location": receipt.status_url, "Cache-Control": "no-store"},
    )


class _Honeypot(Exception):
    pass


def _fake_receipt(form: bool) -> Response:
    if form:
        return RedirectResponse("/complaints?merci=1", status_code=303)
    return JSONResponse(
        {"status": "received", "message": "Réclamation reçue / Complaint received"},
        status_code=201,
    )


async def _file(
    request: Request, ctx: AppContext, complaint: ComplaintIn, facility: Facility, route: Route
) -> ComplaintReceipt:
    now = dt.datetime.now(dt.UTC)
    ack_due, answer_due = route.acknowledge_due_at(now), route.answer_due_at(now)
    service_id = route.service.service_id
    async with pg(ctx) as conn:
        for _ in range(3):
            reference = new_reference(now.astimezone(ack_due.tzinfo))
            cur = await conn.execute(
                "INSERT INTO complaints (reference, facility_id, facility_type, rule, topic, "
                "service_id, channel, language, text, contact, filed_at, acknowledge_due_at, "
                "answer_due_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
                "ON CONFLICT (reference) DO NOTHING RETURNING reference",
                (
                    reference,
                    facility.id,
                    facility.type,
                    complaint.rule.value,
                    route.topic,
                    service_id,
                    complaint.channel,
                    complaint.language,
                    complaint.text,
                    complaint.contact,
                    now,
                    ack_due,
                    answer_due,
                ),
            )
            if await cur.fetchone() is not None:
                break
        else:  # pragma: no cover - three collisions of 49 random bits
            raise Conflict("Référence déjà prise, réessayez / Reference taken, retry")
    event = make_event(
        EventType.COMPLAINT_FILED,
        facility.id,
        {
            "complaint_id": reference,
            "service_id": service_id,
            "rule": complaint.rule.value,
            "topic": route.topic,
            "channel": complaint.channel,
            "text": complaint.text,
            "language": complaint.language,
            "answer_due_at": answer_due,
        },  # no contact: it stays in the case record
        source=f"/complaints/{complaint.channel}",
        time=now,
        id=f"{reference}:filed",
    )
    await publish(request, [event], routed_to=service_id)
    log.info("complaint_filed", reference=reference, facility_id=facility.id, service=service_id)
    base = ctx.settings.public_base_url.rstrip("/")
    return ComplaintReceipt(
        reference=reference,
        status="received",
        facility_id=facility.id,
        rule=complaint.rule,
        topic=route.topic,
        service=_service_out(service_id),
        filed_at=now,
        acknowledge_due_at=ack_due,
        answer_due_at=answer_due,
        answer_days=route.answer_days,
        status_url=f"{base}/v1/complaints/{reference}",
        status_page=f"/complaints/{reference}",
        message=(
            f"Réclamation {reference} transmise à {route.service.name.fr} ; réponse au plus tard "
            f"le {answer_due:%d/%m/%Y}. / Complaint {reference} sent to {route.service.name.en}; "
            f"answer by {answer_due:%Y-%m-%d}."
        ),
    )


@router.get(
    "/v1/complaints/{reference}",
    tags=["feedback"],
    summary="Suivi d'une réclamation / Complaint status",
    response_model=ComplaintStatus,
    responses=errors_doc(404, 422, 503),
)
async def complaint_status(ctx: Ctx, reference: str) -> Response:
    """Received → acknowledged → answered, with the délais; nothing personal."""
    case = await _load(ctx, check_reference(reference))
    return JSONResponse(
        _public(case).model_dump(mode="json"), headers={"Cache-Control": "no-store"}
    )


# ── Service inbox API ─────────────────────────────────────────────────────────────────────────


@router.get(
    "/v1/inbox/complaints",
    tags=["feedback"],
    summary="Réclamations du service / The service's complaints",
    response_model=CasePage,
    responses=errors_doc(401, 403, 422, 503),
)
async def inbox(
    ctx: Ctx,
    principal: Authenticated,
    state: Literal["open", "answered", "all"] = "open",
    service: Annotated[str | None, Query(max_length=80)] = None,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
    limit_: Annotated[int, Query(alias="limit", ge=1, le=200)] = 50,
) -> Response:
    """Complaints routed to the caller's services, oldest open first, with text and contact."""
    services = staff_services(principal)
    wanted = sorted(services) if services is not None else load_routing().service_ids()
    if service is not None:
        if service not in wanted:
            raise Forbidden("Service non autorisé / Service not allowed")
        wanted = [service]
    where = {
        "open": "answered_at IS NULL",
        "answered": "answered_at IS NOT NULL",
        "all": "TRUE",
    }[state]
    async with pg(ctx) as conn:
        cur = await conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM complaints WHERE service_id = ANY(%s) AND {where} "
            "ORDER BY filed_at, reference OFFSET %s LIMIT %s",
            (wanted, offset, limit_ + 1),
        )
        rows = await cur.fetchall()
    items = [_case(ctx, row) for row in rows[:limit_]]
    page_ = CasePage(items=items, next=str(offset + limit_) if len(rows) > limit_ else None)
    return JSONResponse(page_.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


async def _transition(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    reference: str,
    answer: LocalizedText | None,
) -> ComplaintCase:
    now = dt.datetime.now(dt.UTC)
    events: list[CloudEvent] = []
    async with pg(ctx) as conn, conn.transaction():
        cur = await conn.execute(
            f"SELECT {_CASE_COLUMNS} FROM complaints WHERE reference = %s FOR UPDATE",
            (reference,),
        )
        row = await cur.fetchone()
        if row is None:
            raise ComplaintGone()
        case = _case(ctx, row)
        _may_act(principal, case.service.service_id)
        common = {"complaint_id": reference, "service_id": case.service.service_id}
        if case.acknowledged_at is None:
            await conn.execute(
                "UPDATE complaints SET acknowledged_at = %s, acknowledged_by = %s "
                "WHERE reference = %s",
                (now, principal.subject, reference),
            )
            events.append(
                make_event(
                    EventType.COMPLAINT_ACKNOWLEDGED,
                    case.facility_id,
                    {
                        **common,
                        "acknowledged_by": principal.subject,
                        "answer_due_at": case.answer_due_at,
                    },
                    source=f"/complaints/{case.service.service_id}",
                    time=now,
                    id=f"{reference}:acknowledged",
                )
            )
        if answer is not None:
            if case.answered_at is not None:
                raise Conflict("Réclamation déjà répondue / Complaint already answered")
            await conn.execute(
                "UPDATE complaints SET answered_at = %s, answered_by = %s, answer = %s "
                "WHERE reference = %s",
                (now, principal.subject, answer.model_dump_json(exclude_none=True), reference),
            )
            events.append(
                make_event(
                    EventType.COMPLAINT_ANSWERED,
                    case.facility_id,
                    {**common, "answered_by": principal.subject, "answer": answer},
                    source=f"/complaints/{case.service.service_id}",
                    time=now,
                    id=f"{reference}:answered",
                )
            )
    if events:
        await publish(request, events, routed_to=case.service.service_id)
        log.info(
            "complaint_updated",
            reference=reference,
            service=case.service.service_id,
            events=[e.type.rsplit(".", 1)[-1] for e in events],
        )
    return await _load(ctx, reference)


@router.post(
    "/v1/complaints/{reference}/acknowledge",
    tags=["feedback"],
    summary="Accuser réception / Acknowledge",
    response_model=ComplaintCase,
    responses=errors_doc(401, 403, 404, 422, 503),
)
async def acknowledge(
    request: Request, ctx: Ctx, principal: Authenticated, reference: str
) -> Response:
    """The competent service takes the complaint in charge (idempotent)."""
    case = await _transition(request, ctx, principal, check_reference(reference), None)
    return JSONResponse(case.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


@router.post(
    "/v1/complaints/{reference}/answer",
    tags=["feedback"],
    summary="Répondre / Answer",
    response_model=ComplaintCase,
    responses=errors_doc(401, 403, 404, 409, 413, 422, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": AnswerIn.model_json_schema()}},
        }
    },
)
async def answer_complaint(
    request: Request, ctx: Ctx, principal: Authenticated, reference: str
) -> Response:
    """The competent service answers (acknowledging it too, if it had not)."""
    try:
        body = parse(AnswerIn, await read_body(request))
    except InvalidInput as exc:
        return api_error_response(exc)
    case = await _transition(
        request, ctx, principal, check_reference(reference), body.answer.localized()
    )
    return JSONResponse(case.model_dump(mode="json"), headers={"Cache-Control": "no-store"})


# ── Pages ─────────────────────────────────────────────────────────────────────────────────────


def _form_error(exc: ApiError, lang: str) -> Response:
    fr = lang == "fr"
    items = ""
    if isinstance(exc, InvalidInput):
        items = "".join(f"<li>{esc(k)} : {esc(v)}</li>" for k, v in exc.fields.items())
    main = (
        f"<h1>{'Votre réclamation n’a pas été enregistrée' if fr else 'Your complaint was not recorded'}</h1>"
        f'<div role="alert"><p>{esc(exc.message)}</p><ul>{items}</ul></div>'
        f'<p><a href="/complaints?lang={lang}">{"Revenir au formulaire" if fr else "Back to the form"}</a></p>'
    )
    return page(
        lang,
        "Erreur / Error",
        main,
        path="/complaints",
        status_code=exc.status,
        headers=exc.headers or {},
    )


def _facility_options(ctx: AppContext, lang: str, selected: str | None) -> str:
    groups = []
    for kind in FACILITY_TYPES:
        facilities = sorted(ctx.catalogue.by_type(kind), key=lambda f: f.name)
        if not facilities:
            continue
        label = TYPE_LABELS[kind].fr if lang == "fr" else TYPE_LABELS[kind].en
        options = "".join(
            f'<option value="{esc(f.id)}" data-search="{esc(normalize_text(f.name + " " + f.address.one_line()))}"'
            f"{' selected' if f.id == selected else ''}>{esc(f.name)} ({f.arrondissement}e)</option>"
            for f in facilities
        )
        groups.append(f'<optgroup label="{esc(label)}">{options}</optgroup>')
    return "".join(groups)


@router.get("/complaints", include_in_schema=False)
async def complaint_page(
    request: Request,
    ctx: Ctx,
    lang: Lang = None,
    facility: Annotated[str | None, Query(max_length=100)] = None,
    merci: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    """The one complaint form for every service."""
    chosen = language(request, lang)
    fr = chosen == "fr"
    if merci:
        main = f"<h1>{'Réclamation reçue' if fr else 'Complaint received'}</h1>"
        return page(chosen, "Réclamation / Complaint", main, path="/complaints")
    routing = load_routing()
    rules = "".join(
        f'<label class="rating"><input type="radio" name="rule" value="{rule.value}"'
        f"{' required' if i == 0 else ''}><span>{esc(RULE_LABELS[rule.value][chosen])}</span></label>"
        for i, rule in enumerate(GoldenRule)
    )
    topics = "".join(
        f'<optgroup label="{esc(RULE_LABELS[rule.value][chosen])}" data-rule="{rule.value}">'
        + "".join(
            f'<option value="{esc(topic)}">{esc(label.fr if fr else label.en)}</option>'
            for topic, label in routing.topics[rule].items()
        )
        + "</optgroup>"
        for rule in GoldenRule
    )
    main = template("complaint.html").substitute(
        lang=chosen,
        title=esc("Faire une réclamation" if fr else "File a complaint"),
        intro=esc(
            "Un seul formulaire pour tous les services : nous transmettons votre réclamation au "
            "service compétent et vous indiquons tout de suite le délai de réponse."
            if fr
            else "One form for every service: we send your complaint to the competent service "
            "and tell you at once when it will answer."
        ),
        errors_title=esc("Le formulaire contient des erreurs" if fr else "The form has errors"),
        search_label=esc("Rechercher un équipement" if fr else "Search a facility"),
        facility_label=esc("Équipement concerné" if fr else "Facility"),
        choose=esc("— choisir —" if fr else "— choose —"),
        facility_options=_facility_options(ctx, chosen, facility),
        rule_legend=esc(
            "Quel engagement n’a pas été tenu ?" if fr else "Which commitment was not kept?"
        ),
        rules=rules,
        topic_label=esc("Nature (facultatif)" if fr else "Topic (optional)"),
        topics=topics,
        text_label=esc("Que s’est-il passé ?" if fr else "What happened?"),
        text_hint=esc(
            "10 à 4 000 caractères. Date, heure et service concernés nous aident."
            if fr
            else "10 to 4,000 characters. Date, time and service help us."
        ),
        contact_label=esc(
            "Vos coordonnées pour la réponse (facultatif)"
            if fr
            else "Your contact for the answer (optional)"
        ),
        contact_hint=esc(
            "Courriel, téléphone ou adresse postale. Utilisées uniquement pour vous répondre, "
            "visibles du seul service compétent, effacées un an après la réponse."
            if fr
            else "E-mail, phone or postal address. Used only to answer you, seen only by the "
            "competent service, deleted one year after the answer."
        ),
        honeypot=esc("Ne pas remplir ce champ" if fr else "Leave this field empty"),
        submit=esc("Envoyer la réclamation" if fr else "Send the complaint"),
        sending=esc("Envoi…" if fr else "Sending…"),
        mediator=esc(
            "Sans réponse satisfaisante, vous pourrez saisir le Médiateur de la Ville de Paris."
            if fr
            else "Without a satisfactory answer, you may refer it to the Médiateur de la Ville "
            "de Paris (the City's ombudsman)."
        ),
    )
    return page(
        chosen,
        "Réclamation / Complaint",
        main,
        path="/complaints",
        scripts=["/feedback-assets/forms.js"],
    )


def _date(value: dt.datetime | None, lang: str) -> str:
    if value is None:
        return "—"
    local = value.astimezone(load_routing_tz())
    return local.strftime("%d/%m/%Y %H:%M") if lang == "fr" else local.strftime("%Y-%m-%d %H:%M")


def load_routing_tz() -> dt.tzinfo:
    from schemas.clock import PARIS

    return PARIS


@router.get("/complaints/{reference}", include_in_schema=False)
async def status_page(
    request: Request,
    ctx: Ctx,
    reference: str,
    lang: Lang = None,
    nouveau: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    """The status of a complaint, by reference, without any personal data."""
    chosen = language(request, lang)
    fr = chosen == "fr"
    path = f"/complaints/{reference}"
    try:
        case = _public(await _load(ctx, check_reference(reference)))
    except ComplaintGone:
        main = (
            f"<h1>{'Réclamation inconnue' if fr else 'Unknown complaint'}</h1>"
            f"<p>{'Vérifiez la référence (REC-AAMM-XXXXX-XXXXX).' if fr else 'Check the reference (REC-YYMM-XXXXX-XXXXX).'}</p>"
        )
        return page(
            chosen, "Réclamation inconnue / Unknown complaint", main, path=path, status_code=404
        )
    order = ["received", "acknowledged", "answered"]
    reached = order.index(case.status)
    dates = [case.filed_at, case.acknowledged_at, case.answered_at]
    steps = ""
    for i, step in enumerate(order):
        kind = "current" if i == reached else "done" if i < reached else "todo"
        current = ' aria-current="step"' if i == reached else ""
        steps += (
            f'<li class="{kind}"{current}><span class="state">{STATUS_WORDS[step][chosen]}</span>'
            f"{_date(dates[i], chosen)}</li>"
        )
    topic_label = load_routing().topics[case.rule].get(case.topic)
    on_time = ""
    if case.answered_on_time is not None:
        on_time = (
            f'<p class="{"ok" if case.answered_on_time else "late"}">'
            + (
                ("Réponse dans le délai." if fr else "Answered on time.")
                if case.answered_on_time
                else ("Réponse hors délai." if fr else "Answered late.")
            )
            + "</p>"
        )
    created = ""
    if nouveau:
        created = (
            f'<div class="receipt" role="status"><p>{"Votre réclamation est enregistrée. Conservez sa référence :" if fr else "Your complaint is recorded. Keep its reference:"}</p>'
            f'<p class="reference">{esc(case.reference)}</p></div>'
        )
    main = (
        f'<h1>{"Suivi de la réclamation" if fr else "Complaint status"} <span class="facility-name">{esc(case.reference)}</span></h1>'
        f"{created}"
        f'<h2 class="visually-hidden">{"Étapes" if fr else "Steps"}</h2><ol class="steps">{steps}</ol>'
        f'<dl class="status">'
        f"<dt>{'Équipement' if fr else 'Facility'}</dt><dd>{esc(case.facility_name)}</dd>"
        f"<dt>{'Engagement concerné' if fr else 'Commitment'}</dt><dd>{esc(RULE_LABELS[case.rule.value][chosen])}"
        f"{' — ' + esc(topic_label.fr if fr else topic_label.en) if topic_label else ''}</dd>"
        f"<dt>{'Service compétent' if fr else 'Competent service'}</dt><dd>{esc(case.service.name.fr if fr else case.service.name.en or case.service.name.fr)}</dd>"
        f"<dt>{'Prise en charge au plus tard' if fr else 'Acknowledged by'}</dt><dd>{_date(case.acknowledge_due_at, chosen)}</dd>"
        f"<dt>{'Réponse au plus tard' if fr else 'Answer by'}</dt><dd>{_date(case.answer_due_at, chosen)}</dd>"
        f"</dl>{on_time}"
        f'<p class="note">{"La réponse vous est adressée directement si vous avez laissé vos coordonnées. Sans réponse satisfaisante, vous pouvez saisir le Médiateur de la Ville de Paris (voir" if fr else "The answer is sent to you directly if you left a contact. Without a satisfactory answer, you may refer it to the Médiateur de la Ville de Paris (see"} '
        f'<a href="/transparence?lang={chosen}#mediateur">/transparence</a>).</p>'
    )
    return page(chosen, f"{case.reference}", main, path=path)


@router.get("/inbox", include_in_schema=False)
async def inbox_page(request: Request, lang: Lang = None) -> Response:
    """The service inbox (the token stays in the browser tab: sessionStorage)."""
    chosen = language(request, lang)
    fr = chosen == "fr"
    main = template("inbox.html").substitute(
        lang=chosen,
        title=esc("Réclamations du service" if fr else "Service complaints"),
        token_label=esc("Jeton d'accès du service" if fr else "Service access token"),
        token_hint=esc(
            "Fourni par l'administrateur ; conservé dans cet onglet seulement."
            if fr
            else "Given by your administrator; kept in this tab only."
        ),
        connect=esc("Ouvrir la boîte" if fr else "Open the inbox"),
        state_label=esc("Afficher" if fr else "Show"),
        open=esc("À traiter" if fr else "To handle"),
        answered=esc("Répondues" if fr else "Answered"),
        all=esc("Toutes" if fr else "All"),
        empty=esc("Aucune réclamation." if fr else "No complaint."),
    )
    return page(
        chosen,
        "Boîte de réception / Inbox",
        main,
        path="/inbox",
        scripts=["/feedback-assets/inbox.js"],
    )
