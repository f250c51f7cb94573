"""The public complaint routes::

    GET  /complaints                       the form (facility search, rule, topic, text, contact)
    POST /v1/complaints                    201 {reference, service, acknowledge_due_at, answer_due_at}
    GET  /v1/complaints/routing            where a complaint would go, and the committed délai
    GET  /v1/complaints/{reference}        its status: received → acknowledged → answered
    GET  /complaints/{reference}           the same, as a page

The rules live in :mod:`api.feedback.complaints`; the service inbox in
:mod:`api.feedback.routes_inbox`.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from api.context import Ctx
from api.errors import ApiError
from api.feedback import complaints, views
from api.feedback.body import is_form, parse, read_body
from api.feedback.errors import ComplaintGone
from api.feedback.models import (
    FACILITY_ID_PATTERN,
    PROCEDURE_ID_PATTERN,
    ComplaintIn,
    ComplaintReceipt,
    ComplaintStatus,
    RouteOut,
)
from api.feedback.responses import (
    ErrorLangQuery,
    LangQuery,
    api_error_response,
    errors_doc,
    no_store_json,
)
from api.i18n import bilingual, language
from schemas.events import GoldenRule

__all__ = ["router"]

router = APIRouter()


@router.get(
    "/v1/complaints/routing",
    tags=["feedback"],
    summary="Service compétent et délai de réponse / Competent service and response délai",
    response_model=RouteOut,
    responses=errors_doc(404, 422, 503),
)
async def routing_preview(
    ctx: Ctx,
    rule: GoldenRule,
    facility_id: Annotated[str | None, Query(pattern=FACILITY_ID_PATTERN)] = None,
    procedure_id: Annotated[str | None, Query(pattern=PROCEDURE_ID_PATTERN, max_length=80)] = None,
    topic: Annotated[str | None, Query(max_length=40)] = None,
) -> RouteOut:
    """Where a complaint about this facility or démarche and rule would go, before it is filed
    (the démarche's service when one is named)."""
    return complaints.preview_route(ctx.catalogue, facility_id, rule, topic, procedure_id)


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
async def file_complaint(request: Request, ctx: Ctx, lang: ErrorLangQuery = None) -> Response:
    """Route the complaint to the competent service; answers its reference and délais at once
    (errors in ``lang`` only when it is given: the form sends its page's)."""
    form = is_form(request)
    doc: dict[str, Any] = {}
    try:
        doc = await read_body(request)
        complaint = parse(ComplaintIn, doc)
        receipt = await complaints.file_complaint(request, ctx, complaint)
    except ApiError as exc:
        if form:
            procedure = doc.get("procedure_id")
            return views.complaint_error(
                exc, language(lang), procedure=procedure if isinstance(procedure, str) else None
            )
        return api_error_response(exc, lang)
    if receipt is None:  # the honeypot: answered as received, dropped
        if form:
            return RedirectResponse("/complaints?merci=1", status_code=303)
        return JSONResponse(
            {"status": "received", "message": bilingual("Réclamation reçue")},
            status_code=201,
        )
    if form:
        return RedirectResponse(
            f"{receipt.status_page}?lang={complaint.language}&nouveau=1", status_code=303
        )
    return no_store_json(
        receipt.model_dump(mode="json"), status_code=201, Location=receipt.status_url
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
    case = await complaints.load(ctx, complaints.check_reference(reference))
    return no_store_json(case.public().model_dump(mode="json"))


@router.get("/complaints", include_in_schema=False)
async def complaint_page(
    ctx: Ctx,
    lang: LangQuery = None,
    facility: Annotated[str | None, Query(max_length=100)] = None,
    procedure: Annotated[str | None, Query(max_length=100)] = None,
    merci: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    """The one complaint form for every service (``procedure``: prefilled for that démarche)."""
    chosen = language(lang)
    if merci:
        return views.complaint_received(chosen)
    return views.complaint_form(ctx.catalogue, chosen, facility, procedure)


@router.get("/complaints/{reference}", include_in_schema=False)
async def status_page(
    ctx: Ctx,
    reference: str,
    lang: LangQuery = None,
    nouveau: Annotated[int | None, Query(ge=0, le=1)] = None,
) -> Response:
    """The status of a complaint, by reference, without any personal data."""
    chosen = language(lang)
    try:
        case = await complaints.load(ctx, complaints.check_reference(reference))
    except ComplaintGone:
        return views.unknown_complaint(reference, chosen)
    return views.complaint_status(case.public(), chosen, created=bool(nouveau))
