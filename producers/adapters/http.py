"""The small aiohttp app every HTTP adapter shares: ``/healthz``, ``/metrics``, one error shape.

Errors answer ``{"error": {"code": ..., "message": ...}}`` like the platform's API; a full spool
answers 503 (the device should retry later), never a silent 2xx.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from producers import metrics

_JSON = "application/json"


def json_response(payload: Any, status: int = 200) -> web.Response:
    return web.Response(body=orjson.dumps(payload), status=status, content_type=_JSON)


def error_response(status: int, code: str, message: str, **extra: Any) -> web.Response:
    return json_response({"error": {"code": code, "message": message, **extra}}, status)


class _BadBody(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def read_json(request: web.Request, adapter: str) -> Any:
    """The request body as JSON; a body that is not answers 400 ``bad_json`` (and is counted)."""
    body = await request.read()
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        metrics.INPUT_REJECTED.labels(adapter, "bad_json").inc()
        raise _BadBody(f"body is not JSON: {exc}") from None


@web.middleware
async def _errors(request: web.Request, handler: Any) -> web.StreamResponse:
    try:
        response: web.StreamResponse = await handler(request)
    except _BadBody as exc:
        return error_response(400, "bad_json", exc.message)
    return response


def base_app(adapter: str) -> web.Application:
    """An app with ``GET /healthz`` and ``GET /metrics`` (Prometheus)."""
    app = web.Application(client_max_size=4 << 20, middlewares=[_errors])

    async def healthz(_: web.Request) -> web.Response:
        return json_response({"status": "ok", "adapter": adapter})

    async def prometheus(_: web.Request) -> web.Response:
        response = web.Response(body=generate_latest())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    return app


async def serve(app: web.Application, host: str, port: int) -> web.AppRunner:
    """Start serving ``app``; the caller cleans up with ``await runner.cleanup()``."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


def bound_port(runner: web.AppRunner) -> int:
    """The port actually bound (when started on port 0)."""
    for site in runner.sites:
        server = getattr(site, "_server", None)
        if server is not None and server.sockets:
            return int(server.sockets[0].getsockname()[1])
    raise RuntimeError("the adapter is not serving")
