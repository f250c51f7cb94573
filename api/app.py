"""The Paris Live API application: ``create_app(settings) -> FastAPI``.

The lifespan opens, for the life of the process, the Redis client, the PostgreSQL pool, the
catalogue, the live hub with its one Redis pub/sub subscription and the Kafka clients
(:class:`api.kafka.KafkaClients`, connected on first use, with the closures' outbox bus), hands
them to handlers (``request.state.ctx``) and to the WebSocket implementation (``live`` in the
lifespan state, read by :class:`api.live_ws.LiveConnection`), and closes them all on the way
out. Serve it with :func:`api.server.uvicorn_config` (or ``paris-live api serve``): that is what
plugs ``/v1/live`` into uvicorn.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from prometheus_client import CollectorRegistry
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool
from starlette.middleware.gzip import GZipMiddleware

from api.closures import console as closure_console
from api.closures import routes as closure_routes
from api.closures.bus import ClosureBus
from api.config import hub_limits
from api.context import AppContext
from api.errors import FrameworkErrors, add_error_shape, install_error_handlers
from api.feed import RedisFeed
from api.feedback import routes as feedback
from api.headers import SecurityHeaders
from api.hub import Hub
from api.i18n import bilingual
from api.inputs import refuse_control_characters
from api.kafka import KafkaClients
from api.limits import RequestLimits
from api.live_ws import LiveEndpoint
from api.metrics import HttpMetrics, HubCollector, MetricsMiddleware
from api.ngsi_ld import routes as ngsi_ld
from api.ngsi_ld.errors import http_problem as ngsi_ld_problem
from api.open311 import routes as open311
from api.pages import kiosk, legal
from api.pages import map as pages_map
from api.pages import open_data as open_data_page
from api.pages import procedures as procedure_pages
from api.pages import routes as pages
from api.pages.error_pages import install_page_errors
from api.routes import facilities, forecast, health, history, live, open_data, procedures
from api.routes.history import pg
from api.server import live_guard
from paris_live.db import search_path
from paris_live.redis_client import redis_client
from paris_live.runtime_gc import settle_heap
from paris_live.settings import Settings, get_settings
from schemas.catalogue import Catalogue, load_catalogue
from schemas.parcours import load_parcours

__all__ = ["create_app", "create_app_from_env"]

logger = logging.getLogger("paris_live.api.app")

DESCRIPTION = """\
Statut en direct des équipements de la Ville de Paris — charte « Vous simplifier Paris ».
Real-time status of the City of Paris facilities.

* REST: catalogue + live status (`FacilityStatus`, extended with `live` and `catalogue`), history,
  typical affluence, closures as iCalendar. Public GETs carry `ETag`/`Cache-Control` (304 on
  `If-None-Match`).
* Live: WebSocket `/v1/live` (see `GET /v1/live`) and Server-Sent Events `/v1/live/sse`.
* Every error answers `{"error": {"code": ..., "message": ...}}`, French first.
"""


SHUTDOWN_STEP_S = 5.0
"""Longest wait for one client to close on the way out: a peer that does not answer (Kafka
mid-connect, a PostgreSQL connection stuck) must not keep the process from stopping."""


async def _close_within(what: str, closing: Coroutine[Any, Any, Any]) -> None:
    """Close one client on the way out, bounded, so that one stuck peer never keeps the others
    open; what fails or takes too long is logged and the shutdown goes on."""
    try:
        async with asyncio.timeout(SHUTDOWN_STEP_S):
            await closing
    except TimeoutError:
        logger.warning("shutdown: %s did not close within %.0f s; going on", what, SHUTDOWN_STEP_S)
    except Exception:
        logger.exception("shutdown: closing %s failed; going on", what)


def _configure(schema: str) -> Any:
    async def configure(conn: AsyncConnection[Any]) -> None:
        await conn.execute(search_path(schema))

    return configure


def create_app(
    settings: Settings | None = None,
    *,
    catalogue: Catalogue | None = None,
) -> FastAPI:
    """The API; nothing is connected until the lifespan starts."""
    settings = settings or get_settings()
    registry = CollectorRegistry()
    http_metrics = HttpMetrics(registry)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        cat = catalogue if catalogue is not None else load_catalogue()
        serving = {p.parcours_id: [f for f in p.facility_ids if f in cat] for p in load_parcours()}
        hub = Hub(
            known_facility=cat.__contains__,
            limits=hub_limits(settings),
            procedure_facilities=serving.get,
        )
        collector = HubCollector(hub)
        registry.register(collector)
        redis = redis_client(
            settings, socket_timeout=5.0, socket_connect_timeout=2.0, socket_keepalive=True
        )
        pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
            settings.database,
            min_size=1,
            max_size=8,
            open=False,
            timeout=5.0,
            kwargs={"autocommit": True, "connect_timeout": 3},
            configure=_configure(settings.db_schema),
            name="paris-live-api",
        )
        await pool.open(wait=False)
        feed = RedisFeed(hub, settings)
        kafka = KafkaClients(settings)
        ctx = AppContext(settings, redis, pool, cat, hub, registry, kafka, feed.connected.is_set)
        ctx.closure_bus = ClosureBus(kafka, functools.partial(pg, ctx))
        ctx.sse_guard = live_guard(settings)
        ctx.closure_bus.start_relay()  # drains what any API process committed and did not send
        endpoint = LiveEndpoint(
            hub,
            allowed_origins=tuple(settings.allowed_origins),
            max_message_bytes=settings.hub_max_message_bytes,
            write_buffer_high=settings.hub_write_buffer_high,
        )
        try:
            async with feed.running():
                settle_heap()  # start-up's objects live as long as the process: never walk them
                yield {"ctx": ctx, "live": endpoint}
                for sub in list(hub.subscribers):  # SSE streams and anything left
                    sub.terminate(1001, bilingual("arrêt du serveur"))
        finally:
            registry.unregister(collector)
            await _close_within("closure outbox relay", ctx.closure_bus.close())
            await _close_within("kafka clients", kafka.close())
            await _close_within("postgresql pool", pool.close(timeout=SHUTDOWN_STEP_S))
            await _close_within("redis client", redis.aclose())

    app = FastAPI(
        title="Paris Live API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(refuse_control_characters)],
        openapi_tags=[
            {"name": "facilities", "description": "Catalogue et statut / catalogue and status"},
            {"name": "history", "description": "Historique / history"},
            {"name": "closures", "description": "Fermetures / closures"},
            {"name": "live", "description": "Temps réel / real time"},
            {"name": "operations", "description": "Exploitation / operations"},
        ],
    )
    install_error_handlers(app)
    add_error_shape(app, "/ngsi-ld/", ngsi_ld_problem)
    install_page_errors(app)
    legal.install_site_globals()
    for module in (
        facilities,
        procedures,
        history,
        forecast,
        closure_routes,
        closure_console,
        live,
        health,
        pages,
        kiosk,
        procedure_pages,
        pages_map,
        legal,
        open_data,  # before feedback: it answers the monthly datasets' URLs through it
        open_data_page,
        feedback,
        open311,
        ngsi_ld,
    ):
        app.include_router(module.router)
    # Outermost last: metrics → security headers → gzip → framework errors → CORS → request
    # limits → routes. The limits answer before any route, dependency or authentication reads a
    # byte of the body; the framework's own plain-text 4xx (CORS, Range) leave in the error shape.
    # gzip leaves alone what is already encoded (static assets) and text/event-stream (SSE).
    app.add_middleware(RequestLimits, settings=settings)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(settings.allowed_origins),
        allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PATCH"],
        allow_headers=[
            "Accept",
            "If-None-Match",
            "Last-Event-ID",
            "Content-Type",
            "Authorization",
            "Idempotency-Key",
            "X-Request-ID",
        ],
        expose_headers=["ETag", "Cache-Control", "Retry-After", "X-Request-ID"],
        max_age=600,
    )
    app.add_middleware(FrameworkErrors)
    app.add_middleware(GZipMiddleware, minimum_size=1000, compresslevel=6)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(MetricsMiddleware, metrics=http_metrics)
    return app


def create_app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` and worker processes: settings from the environment."""
    return create_app(get_settings())
