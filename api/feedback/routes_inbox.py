"""The service inbox (bearer token of the competent service's staff, see
:func:`api.feedback.complaints.staff_services`)::

    GET  /inbox                            the page
    GET  /v1/inbox/complaints              the service's complaints, with text and contact
    POST /v1/complaints/{reference}/acknowledge
    POST /v1/complaints/{reference}/answer {answer: {fr, en?}}
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from api.auth import Authenticated
from api.context import Ctx
from api.feedback import complaints, views
from api.feedback.body import parse, read_body
from api.feedback.errors import InvalidInput
from api.feedback.models import AnswerIn, CasePage, ComplaintCase
from api.feedback.responses import LangQuery, api_error_response, errors_doc, no_store_json
from api.i18n import language

__all__ = ["router"]

router = APIRouter()


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
    cases = await complaints.inbox(ctx, principal, state, service, offset, limit_)
    return no_store_json(cases.model_dump(mode="json"))


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
    reference = complaints.check_reference(reference)
    case = await complaints.transition(request, ctx, principal, reference, None)
    return no_store_json(case.model_dump(mode="json"))


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
    reference = complaints.check_reference(reference)
    case = await complaints.transition(request, ctx, principal, reference, body.answer.localized())
    return no_store_json(case.model_dump(mode="json"))


@router.get("/inbox", include_in_schema=False)
async def inbox_page(lang: LangQuery = None) -> Response:
    """The service inbox (the token stays in the browser tab: sessionStorage)."""
    return views.inbox_page(language(lang))
