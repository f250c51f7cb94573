"""Error pages for people: a browser asking for a page that does not exist gets the site's
404 page, and one whose page failed gets the site's 500 page — in the layout, with the footer
and useful links, never a traceback.

The API keeps its one JSON error shape (:mod:`api.errors`): HTML only answers a client that
asks for HTML (``Accept: text/html``, what a browser sends when it navigates) on a path outside
the JSON APIs. :func:`install_page_errors` wraps the JSON handlers already installed.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from api.i18n import language, render
from api.pages.views import html_page

__all__ = ["install_page_errors", "wants_html"]

logger = logging.getLogger("paris_live.api")

API_PREFIXES = ("/v1/", "/ngsi-ld/", "/open311/", "/static/", "/embed/", "/feedback-assets/")
"""Paths that answer data or files, never a page: their errors stay JSON."""
PLAIN_500 = (
    '<!doctype html><html lang="fr"><meta charset="utf-8">'
    "<title>Erreur du service / Service error</title>"
    "<h1>Erreur du service / Service error</h1>"
    '<p>Réessayez dans un instant. / Please try again in a moment. <a href="/">Paris Live</a></p>'
)
"""The last resort, when even the error page cannot be rendered."""


def wants_html(request: Request) -> bool:
    """A browser navigating to a page (not a script, not an API client)."""
    path = request.url.path
    if path == "/v1" or path.startswith(API_PREFIXES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _error_page(request: Request, template: str, status: int) -> HTMLResponse:
    lang = language(request.query_params.get("lang"))
    try:
        body = render(lang, f"templates/{template}", path=request.url.path)
    except Exception:  # the page of the error must not fail in turn
        logger.exception("error page not rendered")
        body = PLAIN_500
    response = html_page(body, status_code=status)
    response.headers["Cache-Control"] = "no-store"
    return response


async def _answer(handler: Callable[..., Any], request: Request, exc: Exception) -> Response:
    result = handler(request, exc)
    response: Response = await result if inspect.isawaitable(result) else result
    return response


def install_page_errors(app: FastAPI) -> None:
    """404 and 500 as pages for browsers; the JSON handlers (installed first) for the rest."""
    json_http = app.exception_handlers[StarletteHTTPException]
    json_unexpected = app.exception_handlers[Exception]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if exc.status_code == 404 and wants_html(request):
            return _error_page(request, "not_found.html", 404)
        return await _answer(json_http, request, exc)

    async def unexpected(request: Request, exc: Exception) -> Response:
        if wants_html(request):
            logger.exception("unhandled error on a page", exc_info=exc)
            return _error_page(request, "server_error.html", 500)
        return await _answer(json_unexpected, request, exc)

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)
