"""Security headers on every response (pure ASGI).

Every response gets ``X-Content-Type-Options: nosniff`` and
``Referrer-Policy: strict-origin-when-cross-origin`` unless the route chose a stricter one.
HTML responses also get :data:`PAGE_CSP` (unless the route set its own, as the feedback pages
do) and ``X-Frame-Options: SAMEORIGIN`` for browsers without ``frame-ancestors``:

* scripts only from this origin — the pages carry no inline script, only JSON data blocks
  (``application/json``, ``application/ld+json``), which are never executed;
* stylesheets only from this origin, and the one inline ``<style>`` of ``templates/layout.html``
  by its hash (the pages' stylesheet inlined, so no request blocks the first paint — see
  :func:`page_csp`); ``style`` *attributes* are allowed because the live card and the charts
  size their bars with them (the card uses a constructable stylesheet);
* ``frame-ancestors 'self'``: a page is never framed by another site. The embeddable card is a
  script (``/embed/card.js``) that other sites load with ``<script>``, not a framed page, so it
  stays usable cross-origin (its answer is not a document: a CSP on it would not apply).

FastAPI's own ``/docs`` and ``/redoc`` load Swagger UI / ReDoc from a CDN with an inline
script; they only get ``frame-ancestors 'self'``.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.pages.assets import inline_style_source

__all__ = ["DOCS_CSP", "PAGE_CSP", "SecurityHeaders", "page_csp"]

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; style-src-attr 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'self'"
)
"""The policy of the pages, before the inline stylesheet's hash is added (:func:`page_csp`)."""
DOCS_CSP = "frame-ancestors 'self'"
DOCS_PATHS = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})


def page_csp(*img_sources: str) -> str:
    """:data:`PAGE_CSP` allowing the layout's inline stylesheet as it is on disk now, and images
    from ``img_sources`` too (the map page: its tile server, ``settings.map_tile_origin``)."""
    policy = PAGE_CSP.replace("style-src 'self';", f"style-src 'self' {inline_style_source()};", 1)
    if img_sources:
        policy = policy.replace(
            "img-src 'self' data:;", f"img-src 'self' data: {' '.join(img_sources)};", 1
        )
    return policy


class SecurityHeaders:
    """Adds the headers above to every HTTP response, keeping any a route set itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        docs = scope["path"] in DOCS_PATHS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
                if headers.get("content-type", "").startswith("text/html"):
                    if "content-security-policy" not in headers:
                        headers["Content-Security-Policy"] = DOCS_CSP if docs else page_csp()
                    headers.setdefault("X-Frame-Options", "SAMEORIGIN")
            await send(message)

        await self.app(scope, receive, send_with_headers)
