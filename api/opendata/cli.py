"""``paris-live open-data …`` — the open datasets' job (the platform CLI mounts
:data:`open_data_app`).

* ``run``: rebuild the datasets daily (at start when missing or older than a day) until
  SIGINT/SIGTERM — what ``paris-live up`` and the compose service ``open-data`` run.
* ``refresh``: build them once now and print where.
"""

from __future__ import annotations

import asyncio

import typer

from paris_live.settings import get_settings
from paris_live.signals import stop_on_signals

__all__ = ["open_data_app"]

open_data_app = typer.Typer(
    help="Données ouvertes / open data: the daily datasets (CSV, Parquet, Data Package).",
    no_args_is_help=True,
)


@open_data_app.command("refresh")
def refresh_command() -> None:
    """Build every dataset once, now, and publish it."""
    from api.opendata.job import build
    from paris_live.db import migrate

    settings = get_settings()

    async def main() -> None:
        await migrate(settings)
        folder = await build(settings)
        typer.echo(f"open data: {folder}")

    asyncio.run(main())


@open_data_app.command("run")
def run_command() -> None:
    """Rebuild the datasets daily until stopped."""
    from api.opendata.job import run
    from paris_live.db import migrate

    settings = get_settings()

    async def main() -> None:
        await migrate(settings)
        stop = stop_on_signals()
        await run(settings, stop)

    asyncio.run(main())
