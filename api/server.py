"""How to run the API under uvicorn with ``/v1/live`` served by :class:`api.live_ws.LiveConnection`."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import uvicorn

from api.live_ws import LiveGuard, LivePolicy
from paris_live.settings import Settings

__all__ = ["APP_FACTORY", "live_guard", "uvicorn_config"]

APP_FACTORY = "api.app:create_app_from_env"


def live_guard(settings: Settings) -> LiveGuard:
    """The per-process admission state of ``/v1/live``, from ``PARIS_LIVE_HUB_WS_*``."""
    return LiveGuard(
        LivePolicy(
            max_per_address=settings.hub_ws_max_per_address,
            message_rate=settings.hub_ws_message_rate,
            message_burst=settings.hub_ws_message_burst,
        )
    )


def uvicorn_config(
    settings: Settings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
    app: Any = APP_FACTORY,
    **extra: Any,
) -> uvicorn.Config:
    """uvicorn configured for Paris Live: httptools + uvloop, our WebSocket implementation
    (with this server's :class:`~api.live_ws.LiveGuard`), a short graceful-shutdown deadline
    (sockets close with 1001)."""
    options: dict[str, Any] = {"log_level": settings.log_level, **extra}
    return uvicorn.Config(
        app,
        factory=isinstance(app, str),
        host=host or settings.api_host,
        port=port or settings.api_port,
        workers=workers,
        loop="uvloop",
        http="httptools",
        ws=cast(type[asyncio.Protocol], live_guard(settings).protocol()),
        lifespan="on",
        timeout_graceful_shutdown=5,
        access_log=False,
        server_header=False,
        proxy_headers=True,
        **options,
    )
