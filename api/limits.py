"""Request size limits, enforced before routing, parsing and authentication (pure ASGI).

Each route has a body limit from :data:`ROUTE_LIMITS` (the setting it reads in brackets)::

    POST  /v1/facilities/{id}/feedback          public form   [body_limit_public, 16 KiB]
    POST  /v1/complaints                        public form   [body_limit_public]
    POST  /open311/v2/requests.json             Open311 clients  [body_limit_public]
    POST  /v1/facilities/{id}/closures          agents        [body_limit_staff, 64 KiB]
    PATCH /v1/closures/{closure_id}             agents        [body_limit_staff]
    POST  /v1/closures/{closure_id}/end         agents        [body_limit_staff]
    POST  /v1/complaints/{reference}/acknowledge|answer  services  [body_limit_staff]
    GET, HEAD, OPTIONS, DELETE                  no body at all (0)
    any other request                           [body_limit_public]

:class:`RequestLimits` answers **413** in the one error shape when the declared
``Content-Length`` is above the route's limit (nothing is read), or as soon as the bytes of the
``http.request`` messages received so far pass it (``Transfer-Encoding: chunked``, or a body
longer than declared). A body within the limit — a few kilobytes by construction — is received
here and handed to the application whole, so no handler, dependency or authentication ever runs
for a request that is refused. A query string longer than ``query_limit`` bytes answers **414**,
headers longer than ``header_limit`` bytes **431** (uvicorn's httptools parser has no bound of its
own: the headers are in memory by then, so a proxy in front should bound them too).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.errors import error_response
from api.i18n import bilingual
from paris_live.settings import Settings

__all__ = ["ROUTE_LIMITS", "RequestLimits", "RouteLimit", "body_limit"]


@dataclass(frozen=True, slots=True)
class RouteLimit:
    method: str
    path: re.Pattern[str]
    setting: str
    """The :class:`~paris_live.settings.Settings` field holding the limit in bytes."""


def _route(method: str, path: str, setting: str) -> RouteLimit:
    return RouteLimit(method, re.compile(path), setting)


ROUTE_LIMITS: tuple[RouteLimit, ...] = (
    _route("POST", r"/v1/facilities/[^/]+/feedback", "body_limit_public"),
    _route("POST", r"/v1/complaints", "body_limit_public"),
    _route("POST", r"/open311/v2/requests\.json", "body_limit_public"),
    _route("POST", r"/v1/facilities/[^/]+/closures", "body_limit_staff"),
    _route("PATCH", r"/v1/closures/[^/]+", "body_limit_staff"),
    _route("POST", r"/v1/closures/[^/]+/end", "body_limit_staff"),
    _route("POST", r"/v1/complaints/[^/]+/(?:acknowledge|answer)", "body_limit_staff"),
)
NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "DELETE"})


def body_limit(settings: Settings, method: str, path: str) -> int:
    """Bytes of body a request may carry (0: none)."""
    if method in NO_BODY:
        return 0
    for route in ROUTE_LIMITS:
        if route.method == method and route.path.fullmatch(path):
            limit: int = getattr(settings, route.setting)
            return limit
    return settings.body_limit_public


class RequestLimits:
    """413 past the route's body limit, 414 past the query limit; see the module docstring."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if len(scope.get("query_string", b"")) > self.settings.query_limit:
            most = self.settings.query_limit
            response = error_response(
                414,
                "uri_too_long",
                bilingual("Paramètres d'adresse trop longs (au plus %(most)s octets)", most=most),
            )
            await response(scope, receive, send)
            return
        if sum(len(n) + len(v) + 4 for n, v in scope["headers"]) > self.settings.header_limit:
            most = self.settings.header_limit // 1024
            response = error_response(
                431,
                "headers_too_large",
                bilingual("En-têtes trop volumineux (au plus %(most)s ko)", most=most),
            )
            await response(scope, receive, send)
            return
        limit = body_limit(self.settings, scope["method"], scope["path"])
        declared: int | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                declared = int(value) if value.isdigit() else -1
            elif name == b"transfer-encoding":
                chunked = True
        if declared is None and not chunked:  # no body at all: nothing to count
            await self.app(scope, receive, send)
            return
        if declared is not None and (declared < 0 or declared > limit):
            await self._refuse(limit, scope, receive, send)
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(limit, scope, receive, send)
                return
            if not message.get("more_body", False):
                break
        await self.app(scope, _replay(bytes(body), receive), send)

    @staticmethod
    async def _refuse(limit: int, scope: Scope, receive: Receive, send: Send) -> None:
        if limit == 0:
            message = bilingual("Cette requête ne prend pas de corps")
        else:
            kb = limit // 1024
            message = bilingual("Contenu trop volumineux (au plus %(kb)s ko)", kb=kb)
        await error_response(413, "too_large", message)(scope, receive, send)


def _replay(body: bytes, receive: Receive) -> Receive:
    """``receive`` for the application: the whole body once, then the client's own messages
    (``http.disconnect``)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replay
