"""The satisfaction survey's routes: ``GET /feedback/{facility_id}`` (the page the screens' QR code
opens), ``POST /v1/facilities/{facility_id}/feedback`` (JSON, or the page's form without
JavaScript) and the feedback pages' assets (``/feedback-assets/{name}``)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from api.caching import etag_of
from api.context import Ctx
from api.errors import ApiError
from api.feedback import survey, views
from api.feedback.abuse import DEVICE_COOKIE
from api.feedback.body import is_form, parse, read_body
from api.feedback.models import SurveyIn, SurveyReceipt
from api.feedback.responses import (
    ErrorLangQuery,
    LangQuery,
    api_error_response,
    errors_doc,
    no_store_json,
)
from api.i18n import bilingual, language
from api.routes.facilities import FacilityIdParam
from schemas.clock import PARIS
from schemas.events import CloudEvent

__all__ = ["router"]

router = APIRouter()


@router.get("/feedback-assets/{name}", include_in_schema=False)
async def feedback_asset(request: Request, name: str) -> Response:
    """The feedback pages' stylesheet and scripts (served here, never from a CDN)."""
    media = views.ASSETS.get(name)
    if media is None:
        return api_error_response(
            ApiError(bilingual("Ressource introuvable"), code="not_found", status=404)
        )
    body = (views.DASHBOARD / name).read_bytes()
    etag = etag_of(body)
    headers = {
        "ETag": etag,
        "Cache-Control": "public, max-age=300",
        "X-Content-Type-Options": "nosniff",
    }
    if request.headers.get("if-none-match") == etag:
        return Response(status_code=304, headers=headers)
    return Response(body, media_type=media, headers=headers)


@router.post(
    "/v1/facilities/{facility_id}/feedback",
    tags=["feedback"],
    status_code=202,
    summary="Répondre au questionnaire de satisfaction / Answer the satisfaction survey",
    response_model=SurveyReceipt,
    responses=errors_doc(404, 413, 422, 429, 503),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": SurveyIn.model_json_schema()}},
        }
    },
)
async def submit_survey(
    request: Request, ctx: Ctx, facility_id: FacilityIdParam, lang: ErrorLangQuery = None
) -> Response:
    """Record one answer; 202 once it is on Kafka (or safely spooled), 429 during a cooldown
    (errors in ``lang`` only when it is given: the page sends its own)."""
    form = is_form(request)
    try:
        facility = survey.known_facility(ctx, facility_id)
        answer = parse(SurveyIn, await read_body(request))
        event = await survey.submit(request, ctx, facility, answer)
    except ApiError as exc:
        if form:
            return views.survey_error(exc, facility_id, language(lang))
        return api_error_response(exc, lang)
    return _survey_done(form, facility_id, answer.language, event)


def _survey_done(form: bool, facility_id: str, lang: str, event: CloudEvent | None) -> Response:
    """Thanks: the page again (form) or a receipt (JSON); the same for a honeypot's answer."""
    if form:
        return RedirectResponse(f"/feedback/{facility_id}?merci=1&lang={lang}", status_code=303)
    response_id = getattr(event.data, "response_id", "") if event else survey.new_response_id()
    return no_store_json(
        {
            "response_id": response_id,
            "received_at": (event.time if event else dt.datetime.now(PARIS)).isoformat(),
            "message": bilingual("Merci pour votre avis !"),
        },
        status_code=202,
    )


@router.get("/feedback/{facility_id}", include_in_schema=False)
async def survey_page(
    request: Request,
    ctx: Ctx,
    facility_id: FacilityIdParam,
    lang: LangQuery = None,
    merci: Annotated[int | None, Query(ge=0, le=1)] = None,
    service: Annotated[str | None, Query(max_length=80)] = None,
    channel: Annotated[Literal["screen", "web", "on_site"], Query()] = "screen",
) -> Response:
    """The survey page of a facility (the QR code of its screen)."""
    chosen = language(lang)
    if facility_id not in ctx.catalogue:
        return views.unknown_facility(facility_id, chosen)
    facility = ctx.catalogue.get(facility_id)
    if merci:
        return views.survey_thanks(facility, chosen)
    response = views.survey_form(facility, chosen, service=service, channel=channel)
    if DEVICE_COOKIE not in request.cookies:
        response.set_cookie(
            DEVICE_COOKIE,
            secrets.token_urlsafe(18),
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=ctx.settings.public_base_url.startswith("https://"),
            path="/",
        )
    return response
