"""Liveness, readiness and metrics: ``/v1/healthz``, ``/v1/readyz``, ``/metrics`` (and at root)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from api.context import AppContext, Ctx
from api.errors import ERROR_RESPONSES, error_response
from api.i18n import bilingual

__all__ = ["router"]

router = APIRouter(tags=["operations"])
NO_STORE = {"Cache-Control": "no-store"}


class Health(BaseModel):
    status: str


class Ready(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/v1/healthz", response_model=Health, summary="Processus vivant / Process alive")
@router.get("/healthz", response_model=Health, include_in_schema=False)
async def healthz() -> JSONResponse:
    """Always 200 while the process serves requests."""
    return JSONResponse({"status": "ok"}, headers=NO_STORE)


async def _check_redis(ctx: AppContext) -> None:
    await asyncio.wait_for(ctx.redis.ping(), timeout=2.0)


async def _check_postgres(ctx: AppContext) -> None:
    async with ctx.pool.connection(timeout=2.0) as conn:
        await asyncio.wait_for(conn.execute("SELECT 1"), timeout=2.0)


@router.get(
    "/v1/readyz",
    response_model=Ready,
    summary="Prêt à servir / Ready to serve (Redis and PostgreSQL reachable)",
    responses={503: ERROR_RESPONSES[503]},
)
@router.get("/readyz", response_model=Ready, include_in_schema=False)
async def readyz(ctx: Ctx) -> Response:
    """200 when Redis and PostgreSQL answer and the live feed is subscribed, else 503 naming
    what is down."""
    checks: dict[str, str] = {}
    for name, check in (("redis", _check_redis), ("postgresql", _check_postgres)):
        try:
            await check(ctx)
            checks[name] = "ok"
        except Exception:
            checks[name] = "unreachable"
    checks["live_feed"] = "ok" if ctx.feed_connected() else "unreachable"
    down = [name for name, state in checks.items() if state != "ok"]
    if down:
        names = ", ".join(down)
        response = error_response(
            503, "not_ready", bilingual("Non prêt, injoignable : %(names)s", names=names)
        )
        return response
    return JSONResponse({"status": "ready", "checks": checks}, headers=NO_STORE)


@router.get(
    "/metrics",
    summary="Métriques Prometheus / Prometheus metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
)
async def metrics(ctx: Ctx) -> Response:
    """This process's metrics in the Prometheus text format."""
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)
