"""One error shape for every 4xx/5xx: ``{"error": {"code": ..., "message": ...}}``.

Messages are French first, English second (« Équipement inconnu : xyz / Unknown facility: xyz »).
Errors a route can raise, and that a caller can act on, have names::

    ApiError                  base: status, code, message (→ the error shape)
    ├── UnknownFacilityError  404 unknown_facility
    ├── InvalidParameter      422 invalid_parameter (a value the route cannot use)
    └── ServiceUnavailable    503 unavailable (Redis or PostgreSQL unreachable)

Framework errors (validation, unknown route, wrong method) and unexpected exceptions are turned
into the same shape by the handlers installed with :func:`install_error_handlers`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.i18n import N_, bilingual

logger = logging.getLogger("paris_live.api")

__all__ = [
    "ERROR_RESPONSES",
    "ApiError",
    "ErrorBody",
    "ErrorResponse",
    "FrameworkErrors",
    "HttpErrorShape",
    "InvalidParameter",
    "ServiceUnavailable",
    "UnknownFacilityError",
    "add_error_shape",
    "error_response",
    "install_error_handlers",
]


class ErrorBody(BaseModel):
    code: str = Field(examples=["unknown_facility"])
    message: str = Field(examples=["Équipement inconnu : xyz / Unknown facility: xyz"])


class ErrorResponse(BaseModel):
    """The one error shape of the API."""

    error: ErrorBody


def _doc(description: str, code: str, message: str) -> dict[str, Any]:
    return {
        "model": ErrorResponse,
        "description": description,
        "content": {"application/json": {"example": {"error": {"code": code, "message": message}}}},
    }


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    422: _doc(
        "Paramètre invalide / Invalid parameter",
        "invalid_parameter",
        "Paramètre invalide : query.step / Invalid parameter: query.step",
    ),
    503: _doc(
        "Service indisponible / Service unavailable",
        "unavailable",
        "Service momentanément indisponible / Service temporarily unavailable",
    ),
}
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: _doc(
        "Équipement inconnu / Unknown facility",
        "unknown_facility",
        "Équipement inconnu : xyz / Unknown facility: xyz",
    )
}


class ApiError(Exception):
    """An error answered with the error shape."""

    status = 500
    code = "internal_error"
    headers: dict[str, str] | None = None
    """Sent with the error: ``Retry-After`` on 429, ``WWW-Authenticate`` on 401."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ):
        super().__init__(message)
        self.message = message
        if headers is not None:
            self.headers = headers
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status


class UnknownFacilityError(ApiError):
    status = 404
    code = "unknown_facility"

    def __init__(self, facility_id: str) -> None:
        super().__init__(bilingual("Équipement inconnu : %(facility_id)s", facility_id=facility_id))
        self.facility_id = facility_id


class InvalidParameter(ApiError):
    status = 422
    code = "invalid_parameter"


class ServiceUnavailable(ApiError):
    status = 503
    code = "unavailable"


def error_response(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(
        {"error": {"code": code, "message": message}},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


_HTTP_CODES = {
    400: ("bad_request", N_("Requête invalide")),
    404: ("not_found", N_("Ressource introuvable")),
    405: ("method_not_allowed", N_("Méthode non autorisée")),
    406: ("not_acceptable", N_("Format non disponible")),
    426: ("upgrade_required", N_("Connexion WebSocket requise")),
}


def _describe_validation(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        where = ".".join(str(p) for p in error.get("loc", ()))
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    detail = "; ".join(parts)
    return bilingual("Paramètre invalide — %(detail)s", detail=detail)


HttpErrorShape = Callable[[int, str], Response]
"""How a standard's part of the API words an HTTP error (status, message) — NGSI-LD answers its
problem details even for a path no route matches."""


def add_error_shape(app: FastAPI, prefix: str, shape: HttpErrorShape) -> None:
    """HTTP errors (no route, method not allowed) under ``prefix`` answer in ``shape``."""
    app.state.error_shapes = {**getattr(app.state, "error_shapes", {}), prefix: shape}


def install_error_handlers(app: FastAPI) -> None:
    """Every error the app can answer goes through the one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(_request: Request, exc: ApiError) -> JSONResponse:
        response = error_response(exc.status, exc.code, exc.message)
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(422, "invalid_parameter", _describe_validation(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in _HTTP_CODES:
            code, message = _HTTP_CODES[exc.status_code]
            message = bilingual(message)
        else:
            code, message = "http_error", str(exc.detail)
        shapes: dict[str, HttpErrorShape] = getattr(request.app.state, "error_shapes", {})
        shape = next((s for p, s in shapes.items() if request.url.path.startswith(p)), None)
        response = (
            shape(exc.status_code, message)
            if shape
            else error_response(exc.status_code, code, message)
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        logger.exception("unhandled error", exc_info=exc)
        return error_response(500, "internal_error", bilingual("Erreur interne du serveur"))


_FRAMEWORK_TEXTS = (
    # (status, a word of the framework's own text, code, message)
    (400, "cors", "cors_refused", N_("Requête CORS refusée : méthode ou en-tête non autorisé")),
    (400, "range", "invalid_range_header", N_("En-tête Range invalide (attendu bytes=début-fin)")),
    (416, "", "range_not_satisfiable", N_("La plage demandée (Range) dépasse le fichier")),
)


def _framework_error(status: int, text: str) -> tuple[str, str]:
    for known, word, code, message in _FRAMEWORK_TEXTS:
        if status == known and word in text.lower():
            return code, bilingual(message)
    code, message = _HTTP_CODES.get(status, ("http_error", N_("Requête invalide")))
    return code, bilingual(message)


class FrameworkErrors:
    """4xx answers that framework parts write themselves, in plain text, before any handler of
    :func:`install_error_handlers` can see them — Starlette's ``FileResponse`` on a bad ``Range``
    header (400 « Range header: … », 416), ``CORSMiddleware`` on a refused preflight (400
    « Disallowed CORS method ») — are rewritten into the one error shape, their other headers
    (``Content-Range``, ``Vary``, CORS) kept. Plain ASGI: only the response messages are read."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(
            scope, receive, self._shaping(scope, send) if scope["type"] == "http" else send
        )

    def _shaping(self, scope: Scope, send: Send) -> Send:
        """``send``, holding back a plain-text 4xx to answer it in the error shape."""
        held: Message | None = None
        text = bytearray()

        async def shaped(message: Message) -> None:
            nonlocal held
            if message["type"] == "http.response.start":
                status = message["status"]
                kind = Headers(raw=message["headers"]).get("content-type", "")
                if 400 <= status < 500 and kind.startswith("text/plain"):
                    held = message
                    return
            elif held is not None and message["type"] == "http.response.body":
                text.extend(message.get("body", b"")[: 1024 - len(text)])
                if message.get("more_body", False):
                    return
                await self._answer(scope, send, held, text.decode("latin-1"))
                return
            await send(message)

        return shaped

    @staticmethod
    async def _answer(scope: Scope, send: Send, start: Message, text: str) -> None:
        status = start["status"]
        code, message = _framework_error(status, text)
        body = error_response(status, code, message).body
        headers = MutableHeaders(raw=list(start["headers"]))
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body))
        headers["cache-control"] = "no-store"
        await send({**start, "headers": headers.raw})
        await send(
            {"type": "http.response.body", "body": b"" if scope["method"] == "HEAD" else body}
        )
