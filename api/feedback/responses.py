"""What the feedback routes share on the HTTP side: the error shape (with ``fields`` on a 422),
the OpenAPI description of the error statuses, and the page language parameter."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from fastapi.responses import JSONResponse, Response

from api.errors import ApiError, ErrorResponse
from api.feedback.errors import InvalidInput, in_language
from api.i18n import Lang
from api.ratelimit import RATE_LIMITED

__all__ = [
    "ErrorLangQuery",
    "LangQuery",
    "api_error_response",
    "errors_doc",
    "input_error_response",
    "no_store_json",
]

LangQuery = Annotated[Literal["fr", "en"] | None, Query(description="fr (défaut) ou en")]
"""``?lang=``: French first, English only when asked for (the switch on every page)."""
ErrorLangQuery = Annotated[
    Literal["fr", "en"] | None,
    Query(
        description=(
            "langue des messages d'erreur (défaut : français / English) / "
            "language of the error messages (default: both)"
        )
    ),
]
"""``?lang=`` on a POST: the errors in that language only (the pages send theirs)."""


def no_store_json(body: Any, status_code: int = 200, **headers: str) -> Response:
    """A JSON answer that no cache keeps (it may be personal or change at once)."""
    return JSONResponse(
        body, status_code=status_code, headers={"Cache-Control": "no-store", **headers}
    )


def input_error_response(
    exc: InvalidInput, headers: dict[str, str] | None = None, lang: Lang | None = None
) -> Response:
    message, fields = (exc.message, exc.fields) if lang is None else exc.in_language(lang)
    return JSONResponse(
        {"error": {"code": exc.code, "message": message, "fields": fields}},
        status_code=exc.status,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def api_error_response(exc: ApiError, lang: Lang | None = None) -> Response:
    """The error shape of ``exc`` (``fields`` too on an :class:`InvalidInput`), never cached;
    with ``lang``, its messages in that language only (« français / English » otherwise)."""
    if isinstance(exc, InvalidInput):
        return input_error_response(exc, lang=lang)
    message = exc.message if lang is None else in_language(exc, lang)[0]
    body = {"error": {"code": exc.code, "message": message}}
    headers = {"Cache-Control": "no-store", **(exc.headers or {})}
    return JSONResponse(body, status_code=exc.status, headers=headers)


_DESCRIPTIONS = {
    400: "Requête invalide / Bad request",
    401: "Jeton absent ou invalide / Missing or invalid token",
    403: "Non autorisé / Forbidden",
    404: "Introuvable / Not found",
    409: "Conflit / Conflict",
    413: "Contenu trop volumineux / Content too large",
    422: "Saisie invalide / Invalid input",
    429: "Trop de requêtes / Too many requests",
    503: "Service indisponible / Service unavailable",
}


def errors_doc(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` of the error statuses a feedback route can answer (one shape)."""
    docs: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        if status == 429:
            docs.update(RATE_LIMITED)
            continue
        docs[status] = {"model": ErrorResponse, "description": _DESCRIPTIONS[status]}
    return docs
