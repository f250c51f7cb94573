"""``paris-live api …`` — run the API (the lead mounts :data:`api_app` as ``api``)."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from api.server import uvicorn_config
from paris_live.settings import get_settings

__all__ = ["api_app"]

api_app = typer.Typer(help="API REST + WebSocket /v1/live / REST API and live WebSocket.")


@api_app.callback()
def _group() -> None:
    """Keep ``serve`` a subcommand (``paris-live api serve``)."""


@api_app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="default: PARIS_LIVE_API_HOST")] = None,
    port: Annotated[int | None, typer.Option(help="default: PARIS_LIVE_API_PORT")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="processes sharing the port; each fans out")
    ] = 1,
) -> None:
    """Serve the API with uvicorn (several workers share the port, each subscribes to Redis)."""
    settings = get_settings()
    config = uvicorn_config(settings, host=host, port=port, workers=workers)
    server = uvicorn.Server(config)
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    else:
        server.run()


if __name__ == "__main__":
    api_app()
