"""The in-facility screen's service worker, ``/screen-sw.js`` (``dashboards/pages/screen-sw.js``).

Served from the site's root so that it may control ``/screen/`` (a worker's scope cannot be above
its own folder), never cached by HTTP caches beyond a revalidation (a fixed screen must pick up a
new worker), and with its own Content-Security-Policy: a worker's script gets the policy of its own
response, not the page's — here, same origin only.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.pages.assets import asset, serve

__all__ = ["WORKER_CSP", "router"]

router = APIRouter()

WORKER_CSP = "default-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'"
SCOPE = "/screen/"


@router.get("/screen-sw.js", include_in_schema=False)
async def screen_worker(request: Request) -> Response:
    found = asset("pages/screen-sw.js")
    assert found is not None, "dashboards/pages/screen-sw.js is part of the package"
    response = serve(request, found, max_age=0)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Service-Worker-Allowed"] = SCOPE
    response.headers["Content-Security-Policy"] = WORKER_CSP
    return response
