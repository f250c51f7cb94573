"""Complaints, the domain rules: routing to the competent service, references, who may act, and
the transitions of the case record (received → acknowledged → answered).

A complaint names a facility, a démarche (``procedure_id``, an id of ``parcours.json``), or both;
a démarche's complaint goes to the service competent for it (:meth:`RoutingTable.resolve_procedure`),
a facility's alone to the facility type's route. It is a row of ``complaints`` (the case record,
written in a transaction that checks every transition), then events on ``feedback-complaints``
(keyed by facility, or by the procedure when it names no facility) and ``complaints-routed``
(keyed by the competent service). Event ids are derived from the reference
(``<reference>:filed`` …), so a replay is deduplicated downstream. The contact never leaves the
case record: it is not put on Kafka, never shown on a public page, never logged; the retention job
(``paris-live feedback purge-personal-data``) erases it, the text and the answer.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from typing import Literal

import structlog
from fastapi import Request

from api.auth import Forbidden, Principal, Role
from api.context import AppContext
from api.errors import InvalidParameter, UnknownFacilityError
from api.feedback import labels, store
from api.feedback.abuse import COMPLAINTS_PER_ADDRESS, address_identity, limit
from api.feedback.errors import ComplaintGone, Conflict, InvalidInput
from api.feedback.models import (
    CasePage,
    ComplaintCase,
    ComplaintIn,
    ComplaintReceipt,
    ProcedureOut,
    RouteOut,
    ServiceOut,
    Status,
)
from api.feedback.runtime import record_events, send
from api.i18n import LANGUAGES, N_, bilingual, translator
from api.ratelimit import client_address
from api.routes.history import FEEDBACK_UNAVAILABLE, pg
from schemas.catalogue import Catalogue, Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, GoldenRule, LocalizedText, make_event
from schemas.parcours import Parcours, load_parcours
from schemas.routing import Route, RoutingError, load_routing

__all__ = [
    "REFERENCE_PATTERN",
    "check_reference",
    "file_complaint",
    "inbox",
    "load",
    "new_reference",
    "preview_route",
    "staff_services",
    "transition",
]

log = structlog.get_logger("api.complaints")
REFERENCE_ALPHABET = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
REFERENCE_PATTERN = r"^REC-[0-9]{4}-[A-Z0-9]{5}-[A-Z0-9]{5}$"


def new_reference(now: dt.datetime) -> str:
    """``REC-2506-7KQ2M-X9DPA``: year-month, then ~49 random bits (unguessable)."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(10))
    return f"REC-{now:%y%m}-{chars[:5]}-{chars[5:]}"


def check_reference(reference: str) -> str:
    """``reference`` when it has the shape of one; otherwise the complaint is unknown (404)."""
    if not re.fullmatch(REFERENCE_PATTERN, reference):
        raise ComplaintGone()
    return reference


# ── Routing ───────────────────────────────────────────────────────────────────────────────────


def service_out(service_id: str) -> ServiceOut:
    service = load_routing().services.get(service_id)
    name = service.name if service else LocalizedText(fr=service_id, en=service_id)
    return ServiceOut(
        service_id=service_id,
        name=LocalizedText(fr=name.fr, en=name.en),
        full_name=LocalizedText(
            fr=labels.service_name(service_id, "fr"), en=labels.service_name(service_id, "en")
        ),
    )


def route_out(route: Route) -> RouteOut:
    return RouteOut(
        facility_type=route.facility_type,
        rule=route.rule,
        topic=route.topic,
        service=service_out(route.service.service_id),
        acknowledge_days=route.acknowledge_days,
        answer_days=route.answer_days,
        procedure_id=route.procedure_id,
    )


def preview_route(
    catalogue: Catalogue,
    facility_id: str | None,
    rule: GoldenRule,
    topic: str | None,
    procedure_id: str | None = None,
) -> RouteOut:
    """Where a complaint about this facility or démarche and rule would go, before it is filed
    (as :func:`file_complaint` routes it: the démarche's service when one is named)."""
    if facility_id is None and procedure_id is None:
        missing = bilingual("indiquez un équipement ou une démarche")
        raise InvalidInput({"facility_id": missing, "procedure_id": missing})
    if facility_id is not None and facility_id not in catalogue:
        raise UnknownFacilityError(facility_id)
    if procedure_id is not None and procedure_id not in load_routing().procedure_ids():
        raise InvalidInput({"procedure_id": bilingual("démarche inconnue")})
    try:
        if procedure_id is not None:
            route = load_routing().resolve_procedure(procedure_id, rule, topic)
        else:
            assert facility_id is not None
            route = load_routing().resolve(catalogue.get(facility_id).type, rule, topic)
    except RoutingError as exc:
        raise InvalidParameter(f"{exc} / {exc}", code="invalid_parameter") from None
    return route_out(route)


def _route(
    facility: Facility | None, procedure: Parcours | None, rule: GoldenRule, topic: str | None
) -> Route:
    """The démarche's service when one is named, else the facility type's route."""
    try:
        if procedure is not None:
            return load_routing().resolve_procedure(procedure.parcours_id, rule, topic)
        assert facility is not None, "a complaint names a facility or a démarche"
        return load_routing().resolve(facility.type, rule, topic)
    except RoutingError:
        topics = ", ".join(load_routing().topics[rule])
        # Translators: the English text of this one names no topic (as the API always did).
        unknown = bilingual("nature inconnue pour cette règle (%(topics)s)", topics=topics)
        raise InvalidInput({"topic": unknown}) from None


def find_procedure(procedure_id: str | None) -> Parcours | None:
    """The démarche of ``parcours.json`` with this id (``None`` for none or an unknown one)."""
    return next((p for p in load_parcours() if p.parcours_id == procedure_id), None)


def procedure_out(procedure_id: str | None) -> ProcedureOut | None:
    """The démarche as a complaint names it (its id alone when ``parcours.json`` lost it)."""
    if procedure_id is None:
        return None
    found = find_procedure(procedure_id)
    title = found.title if found else LocalizedText(fr=procedure_id, en=procedure_id)
    return ProcedureOut(procedure_id=procedure_id, title=LocalizedText(fr=title.fr, en=title.en))


def _about(ctx: AppContext, complaint: ComplaintIn) -> tuple[Facility | None, Parcours | None]:
    """The facility and the démarche the complaint names: at least one, each known (else 422
    naming the field, or both fields when neither is given)."""
    if complaint.facility_id is None and complaint.procedure_id is None:
        missing = bilingual("indiquez un équipement ou une démarche")
        raise InvalidInput({"facility_id": missing, "procedure_id": missing})
    facility = procedure = None
    if complaint.facility_id is not None:
        if complaint.facility_id not in ctx.catalogue:
            raise InvalidInput({"facility_id": bilingual("équipement inconnu")})
        facility = ctx.catalogue.get(complaint.facility_id)
    if complaint.procedure_id is not None:
        procedure = find_procedure(complaint.procedure_id)
        if procedure is None or procedure.parcours_id not in load_routing().procedure_ids():
            raise InvalidInput({"procedure_id": bilingual("démarche inconnue")})
    return facility, procedure


# ── Who may act ───────────────────────────────────────────────────────────────────────────────


def staff_services(principal: Principal) -> frozenset[str] | None:
    """The services whose complaints this caller handles; ``None`` = may read every service.

    Service staff carry ``role = service`` and a ``services`` claim; operations staff (``ops``)
    read every inbox but answer none.
    """
    if principal.role is Role.SERVICE:
        return frozenset(principal.services)
    if principal.role is Role.OPS:
        return None
    raise Forbidden(bilingual("Réservé aux services compétents"))


def _may_act(principal: Principal, service_id: str) -> None:
    services = staff_services(principal)
    if services is None or service_id not in services:
        raise Forbidden(
            bilingual(
                "Cette réclamation relève d'un autre service (%(service)s)", service=service_id
            )
        )


# ── The case record ───────────────────────────────────────────────────────────────────────────


def case_of(catalogue: Catalogue, record: store.CaseRecord) -> ComplaintCase:
    """The case as the competent service sees it (status derived from the dates)."""
    status: Status = (
        "answered"
        if record.answered_at
        else "acknowledged"
        if record.acknowledged_at
        else "received"
    )
    facility_id = record.facility_id
    name = (
        None
        if facility_id is None
        else catalogue.get(facility_id).name
        if facility_id in catalogue
        else facility_id
    )
    return ComplaintCase(
        reference=record.reference,
        status=status,
        facility_id=facility_id,
        facility_name=name,
        procedure=procedure_out(record.procedure_id),
        rule=GoldenRule(record.rule),
        topic=record.topic,
        service=service_out(record.service_id),
        filed_at=record.filed_at,
        acknowledge_due_at=record.acknowledge_due_at,
        acknowledged_at=record.acknowledged_at,
        answer_due_at=record.answer_due_at,
        answered_at=record.answered_at,
        answered_on_time=(
            None if record.answered_at is None else record.answered_at <= record.answer_due_at
        ),
        answer_days=_days_between(record.filed_at, record.answer_due_at),
        text=record.text,
        contact=record.contact,
        answer=record.answer,
        channel=record.channel,
        language=record.language,
        purged=record.purged_at is not None,
    )


def _days_between(start: dt.datetime, due: dt.datetime) -> int:
    """Calendar days (Paris time) from ``start`` to ``due``: the délai the service committed to."""
    return (due.astimezone(PARIS).date() - start.astimezone(PARIS).date()).days


async def load(ctx: AppContext, reference: str) -> ComplaintCase:
    """The case of ``reference`` (404 :class:`ComplaintGone` when there is none)."""
    async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn:
        record = await store.fetch_case(conn, reference)
    if record is None:
        raise ComplaintGone()
    return case_of(ctx.catalogue, record)


async def file_complaint(
    request: Request, ctx: AppContext, complaint: ComplaintIn
) -> ComplaintReceipt | None:
    """Route the complaint, record it and publish it; ``None`` when the honeypot caught it (the
    caller answers as if it were received)."""
    facility, procedure = _about(ctx, complaint)
    route = _route(facility, procedure, complaint.rule, complaint.topic)
    if complaint.website:  # honeypot
        log.info("complaint_honeypot")
        return None
    address = address_identity(ctx.settings, client_address(request))
    await limit(request, "complaint", ("addr", address, COMPLAINTS_PER_ADDRESS))
    return await _file(request, ctx, complaint, facility, route)


async def _file(
    request: Request,
    ctx: AppContext,
    complaint: ComplaintIn,
    facility: Facility | None,
    route: Route,
) -> ComplaintReceipt:
    now = dt.datetime.now(dt.UTC)
    ack_due, answer_due = route.acknowledge_due_at(now), route.answer_due_at(now)
    service_id = route.service.service_id
    procedure_id = route.procedure_id
    facility_id = facility.id if facility else None
    key = facility.id if facility else procedure_id
    assert key is not None, "a complaint names a facility or a démarche"
    new = store.NewComplaint(
        facility_id=facility_id,
        facility_type=facility.type if facility else None,
        procedure_id=procedure_id,
        rule=complaint.rule.value,
        topic=route.topic,
        service_id=service_id,
        channel=complaint.channel,
        language=complaint.language,
        text=complaint.text,
        contact=complaint.contact,
        filed_at=now,
        acknowledge_due_at=ack_due,
        answer_due_at=answer_due,
    )
    async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn, conn.transaction():
        for _ in range(3):
            reference = new_reference(now.astimezone(ack_due.tzinfo))
            if await store.insert_complaint(conn, reference, new):
                break
        else:  # pragma: no cover - three collisions of 49 random bits
            raise Conflict(bilingual("Référence déjà prise, réessayez"))
        event = make_event(
            EventType.COMPLAINT_FILED,
            key,
            {
                "complaint_id": reference,
                "service_id": service_id,
                "rule": complaint.rule.value,
                "topic": route.topic,
                "channel": complaint.channel,
                "text": complaint.text,
                "language": complaint.language,
                "answer_due_at": answer_due,
                "procedure_id": procedure_id,
            },  # no contact: it stays in the case record
            source=f"/complaints/{complaint.channel}",
            time=now,
            id=f"{reference}:filed",
        )
        await record_events(conn, [event], about=reference, routed_to=service_id)
    await send(request, [event], routed_to=service_id)
    log.info(
        "complaint_filed",
        reference=reference,
        facility_id=facility_id,
        procedure_id=procedure_id,
        service=service_id,
    )
    base = ctx.settings.public_base_url.rstrip("/")
    return ComplaintReceipt(
        reference=reference,
        status="received",
        facility_id=facility_id,
        procedure=procedure_out(procedure_id),
        rule=complaint.rule,
        topic=route.topic,
        service=service_out(service_id),
        filed_at=now,
        acknowledge_due_at=ack_due,
        answer_due_at=answer_due,
        answer_days=route.answer_days,
        status_url=f"{base}/v1/complaints/{reference}",
        status_page=f"/complaints/{reference}",
        message=_receipt_message(reference, route, answer_due),
    )


RECEIPT = N_(
    "Réclamation %(reference)s transmise à %(service)s ; réponse au plus tard le %(date)s."
)
"""What a citizen reads when the complaint is filed (the e-mail to come will say it too)."""
DATE_FORMATS = {"fr": "%d/%m/%Y", "en": "%Y-%m-%d"}


def _receipt_message(reference: str, route: Route, answer_due: dt.datetime) -> str:
    """« français / English », each half with the service's name and the date in its language."""
    return " / ".join(
        translator(lang).gettext(
            RECEIPT,
            reference=reference,
            service=labels.service_name(route.service.service_id, lang),
            date=answer_due.strftime(DATE_FORMATS[lang]),
        )
        for lang in LANGUAGES
    )


# ── The service inbox ─────────────────────────────────────────────────────────────────────────


async def inbox(
    ctx: AppContext,
    principal: Principal,
    state: Literal["open", "answered", "all"],
    service: str | None,
    offset: int,
    limit_: int,
) -> CasePage:
    """Complaints routed to the caller's services, oldest open first, with text and contact."""
    services = staff_services(principal)
    wanted = sorted(services) if services is not None else load_routing().service_ids()
    if service is not None:
        if service not in wanted:
            raise Forbidden(bilingual("Service non autorisé"))
        wanted = [service]
    async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn:
        records = await store.list_cases(conn, wanted, state, offset, limit_ + 1)
    items = [case_of(ctx.catalogue, record) for record in records[:limit_]]
    return CasePage(items=items, next=str(offset + limit_) if len(records) > limit_ else None)


async def transition(
    request: Request,
    ctx: AppContext,
    principal: Principal,
    reference: str,
    answer: LocalizedText | None,
) -> ComplaintCase:
    """Acknowledge (idempotent) and, with ``answer``, answer (once: 409 after); the events go
    out once the transaction committed."""
    now = dt.datetime.now(dt.UTC)
    events: list[CloudEvent] = []
    async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn, conn.transaction():
        record = await store.fetch_case(conn, reference, for_update=True)
        if record is None:
            raise ComplaintGone()
        case = case_of(ctx.catalogue, record)
        service_id = case.service.service_id
        _may_act(principal, service_id)
        common = {
            "complaint_id": reference,
            "service_id": service_id,
            "procedure_id": record.procedure_id,
        }
        key = case.facility_id or record.procedure_id
        assert key is not None, "a case names a facility or a démarche"
        if case.acknowledged_at is None:
            await store.set_acknowledged(conn, reference, now, principal.subject)
            events.append(
                make_event(
                    EventType.COMPLAINT_ACKNOWLEDGED,
                    key,
                    {
                        **common,
                        "acknowledged_by": principal.subject,
                        "answer_due_at": case.answer_due_at,
                    },
                    source=f"/complaints/{service_id}",
                    time=now,
                    id=f"{reference}:acknowledged",
                )
            )
        if answer is not None:
            if case.answered_at is not None:
                raise Conflict(bilingual("Réclamation déjà répondue"))
            await store.set_answered(
                conn, reference, now, principal.subject, answer.model_dump_json(exclude_none=True)
            )
            events.append(
                make_event(
                    EventType.COMPLAINT_ANSWERED,
                    key,
                    {**common, "answered_by": principal.subject, "answer": answer},
                    source=f"/complaints/{service_id}",
                    time=now,
                    id=f"{reference}:answered",
                )
            )
        await record_events(conn, events, about=reference, routed_to=service_id)
    if events:
        await send(request, events, routed_to=service_id)
        log.info(
            "complaint_updated",
            reference=reference,
            service=service_id,
            events=[e.type.rsplit(".", 1)[-1] for e in events],
        )
    return await load(ctx, reference)
