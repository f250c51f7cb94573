"""The Open311 GeoReport v2 routes (see :mod:`api.open311`); errors in Open311's shape."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from xml.etree import ElementTree

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from api.context import Ctx
from api.errors import ApiError, ErrorResponse
from api.feedback import complaints
from api.feedback.body import parse, read_body
from api.feedback.errors import InvalidInput
from api.feedback.models import ComplaintIn
from api.i18n import N_, Lang, bilingual, language
from api.inputs import YEARS
from api.open311 import mapping, store
from api.open311.mapping import JURISDICTION, BadLocation, ServiceCode, UnknownService
from api.routes.history import FEEDBACK_UNAVAILABLE, pg

__all__ = ["router"]


class Open311ErrorItem(BaseModel):
    """One error of Open311's error list."""

    code: int
    description: str


def _errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI responses: Open311's error list; a control character in a parameter is refused
    by the whole API first, in its own shape (422)."""
    docs: dict[int | str, dict[str, Any]] = {
        status: {"model": list[Open311ErrorItem], "description": "Open311 errors"}
        for status in statuses
    }
    docs[422] = {"model": ErrorResponse, "description": "Paramètre invalide / Invalid parameter"}
    return docs


router = APIRouter(prefix="/open311/v2", tags=["open311"], responses=_errors_doc(400, 404, 503))

LangParam = Annotated[str | None, Query(description="fr (défaut) ou en")]
_UNKNOWN_SERVICE = N_("service_code inconnu (voir services.json)")
_UNKNOWN_JURISDICTION = N_("jurisdiction_id inconnu (seul paris.fr est servi)")
_UNKNOWN_REQUEST = N_("Réclamation inconnue")
_BAD_LOCATION = N_("lat/long : des degrés décimaux (lat entre -90 et 90, long entre -180 et 180)")
_BAD_DATE = N_("date invalide (W3C, ex. 2026-06-01T00:00:00+02:00)")
_DATE_OUT_OF_YEARS = N_("date hors des années %(first)s à %(last)s")
_BAD_STATUS = N_("status : open ou closed")
_TOO_MANY_IDS = N_("au plus 50 service_request_id")
DEFAULT_WINDOW = dt.timedelta(days=90)
"""A listing without dates covers the last 90 days (Open311's default)."""


class Open311Error(Exception):
    """An error answered ``[{"code": status, "description": ...}]``."""

    def __init__(self, status: int, description: str, headers: dict[str, str] | None = None):
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = headers or {}


def _errors(exc: Open311Error) -> Response:
    return JSONResponse(
        [{"code": exc.status, "description": exc.description}],
        status_code=exc.status,
        headers={"Cache-Control": "no-store", **exc.headers},
    )


def _from_api_error(exc: ApiError) -> Open311Error:
    """The complaint service's error, in Open311's shape (fields named as the client sent them)."""
    if isinstance(exc, InvalidInput):
        described = "; ".join(
            f"{mapping.FIELD_NAMES.get(name, name)} : {text}" for name, text in exc.fields.items()
        )
        return Open311Error(400, described, exc.headers)
    return Open311Error(exc.status, exc.message, exc.headers)


def _check_jurisdiction(value: str | None) -> None:
    if value not in (None, "", JURISDICTION):
        raise Open311Error(404, bilingual(_UNKNOWN_JURISDICTION))


def _json(body: Any, *, cache: str = "no-store", status: int = 200) -> Response:
    return JSONResponse(body, status_code=status, headers={"Cache-Control": cache})


@router.get("/services.json", summary="Services Open311 / Open311 services")
async def services_json(jurisdiction_id: str | None = None, lang: LangParam = None) -> Response:
    """One service per golden rule × topic; the competent service is chosen per request."""
    try:
        _check_jurisdiction(jurisdiction_id)
    except Open311Error as exc:
        return _errors(exc)
    return _json(mapping.services(language(lang)), cache="public, max-age=3600")


@router.get(
    "/services.xml",
    summary="Services Open311 (XML) / Open311 services (XML)",
    response_class=Response,
    responses={200: {"content": {"text/xml": {"schema": {"type": "string"}}}}},
)
async def services_xml(jurisdiction_id: str | None = None, lang: LangParam = None) -> Response:
    """The same list in Open311's XML (``<services><service>…``)."""
    try:
        _check_jurisdiction(jurisdiction_id)
    except Open311Error as exc:
        return _errors(exc)
    root = ElementTree.Element("services")
    for item in mapping.services(language(lang)):
        node = ElementTree.SubElement(root, "service")
        for name, value in item.items():
            child = ElementTree.SubElement(node, name)
            child.text = str(value).lower() if isinstance(value, bool) else str(value)
    body = ElementTree.tostring(root, encoding="utf-8", xml_declaration=True)
    return Response(
        body,
        media_type="text/xml; charset=utf-8",
        headers={"Cache-Control": "public, max-age=3600"},
    )


@router.get("/services/{service_code}.json", summary="Définition d'un service / Service definition")
async def service_definition(
    service_code: str, jurisdiction_id: str | None = None, lang: LangParam = None
) -> Response:
    """The attributes a request for this service may carry."""
    try:
        _check_jurisdiction(jurisdiction_id)
        code = ServiceCode.parse(service_code)
    except UnknownService:
        return _errors(Open311Error(404, bilingual(_UNKNOWN_SERVICE)))
    except Open311Error as exc:
        return _errors(exc)
    return _json(mapping.service_definition(code, language(lang)), cache="public, max-age=3600")


@router.post(
    "/requests.json",
    status_code=201,
    summary="Déposer une réclamation (Open311) / File a complaint (Open311)",
    responses={
        **_errors_doc(429),
        413: {"model": ErrorResponse, "description": "Contenu trop volumineux / Content too large"},
    },
)
async def post_request(request: Request, ctx: Ctx) -> Response:
    """Form-encoded, as Open311 clients send it; filed by the same complaint service as
    ``POST /v1/complaints``. Answers ``[{"service_request_id", "service_notice", "account_id"}]``."""
    try:
        fields = await read_body(request)
        _check_jurisdiction(fields.get("jurisdiction_id"))
        doc = mapping.complaint_document(fields, ctx.catalogue)
        receipt = await complaints.file_complaint(request, ctx, parse(ComplaintIn, doc))
    except UnknownService:
        return _errors(Open311Error(400, bilingual(_UNKNOWN_SERVICE)))
    except BadLocation:
        return _errors(Open311Error(400, bilingual(_BAD_LOCATION)))
    except ApiError as exc:
        return _errors(_from_api_error(exc))
    except Open311Error as exc:
        return _errors(exc)
    if receipt is None:  # pragma: no cover - Open311 has no honeypot field
        return _json([], status=201)
    answer = [
        {
            "service_request_id": receipt.reference,
            "service_notice": receipt.message,
            "account_id": None,
        }
    ]
    return _json(answer, status=201)


def _instant(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, bilingual(_BAD_DATE)) from None
    if parsed.tzinfo is None:
        raise Open311Error(400, bilingual(_BAD_DATE))
    first, last = YEARS
    if not first <= parsed.year <= last:  # year 1 less 90 days would overflow
        raise Open311Error(400, bilingual(_DATE_OUT_OF_YEARS, first=first, last=last))
    return parsed


def _closed(value: str | None) -> bool | None:
    if value is None:
        return None
    wanted = {part.strip() for part in value.split(",") if part.strip()}
    if not wanted or not wanted <= {"open", "closed"}:
        raise Open311Error(400, bilingual(_BAD_STATUS))
    return None if len(wanted) == 2 else wanted == {"closed"}


@router.get("/requests.json", summary="Réclamations (Open311) / Service requests (Open311)")
async def list_requests(
    ctx: Ctx,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
    jurisdiction_id: str | None = None,
    lang: LangParam = None,
) -> Response:
    """Complaints, newest first (at most 1,000; the last 90 days unless dates are given), with
    their status and due date — never their text or contact."""
    chosen = language(lang)
    try:
        _check_jurisdiction(jurisdiction_id)
        references = None
        if service_request_id is not None:
            references = [r.strip() for r in service_request_id.split(",") if r.strip()]
            if len(references) > 50:
                raise Open311Error(400, bilingual(_TOO_MANY_IDS))
        codes = None
        if service_code is not None:
            codes = [ServiceCode.parse(c.strip()) for c in service_code.split(",") if c.strip()]
        start, end = _instant(start_date), _instant(end_date)
        if references is None and start is None:
            start = (end or dt.datetime.now(dt.UTC)) - DEFAULT_WINDOW
        closed = _closed(status)
    except UnknownService:
        return _errors(Open311Error(400, bilingual(_UNKNOWN_SERVICE)))
    except Open311Error as exc:
        return _errors(exc)
    try:
        async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn:
            cases = await store.list_public(
                conn,
                references=references,
                rules_topics=None if codes is None else [(c.rule.value, c.topic) for c in codes],
                start=start,
                end=end,
                closed=closed,
            )
    except ApiError as exc:
        return _errors(_from_api_error(exc))
    return _json([mapping.service_request(case, ctx.catalogue, chosen) for case in cases])


@router.get(
    "/requests/{service_request_id}.json",
    summary="Une réclamation (Open311) / One service request (Open311)",
)
async def get_request(
    ctx: Ctx, service_request_id: str, jurisdiction_id: str | None = None, lang: LangParam = None
) -> Response:
    """One complaint, as a one-element list (Open311's shape); 404 when unknown."""
    chosen: Lang = language(lang)
    try:
        _check_jurisdiction(jurisdiction_id)
        reference = complaints.check_reference(service_request_id)
        async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn:
            cases = await store.list_public(conn, references=[reference], limit=1)
    except Open311Error as exc:
        return _errors(exc)
    except ApiError as exc:
        return _errors(_from_api_error(exc))
    if not cases:
        return _errors(Open311Error(404, bilingual(_UNKNOWN_REQUEST)))
    return _json([mapping.service_request(cases[0], ctx.catalogue, chosen)])
