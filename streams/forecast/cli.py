"""``paris-live forecast …`` — the forecasting job (the platform CLI mounts :data:`forecast_app`).

* ``run``: :class:`streams.forecast.job.ForecastJob` until SIGINT/SIGTERM — a round now, then on
  every quarter hour (``up`` and docker-compose run it);
* ``once``: one round, its figures printed (cron, or to fill the store after ``simulate --history``).
"""

from __future__ import annotations

import asyncio

import typer

from paris_live.settings import get_settings
from paris_live.signals import stop_on_signals

__all__ = ["forecast_app"]

forecast_app = typer.Typer(
    help="Prévision d'affluence / crowding forecast: the 15-minute forecasting job.",
    no_args_is_help=True,
)


@forecast_app.command("run")
def run_command() -> None:
    """Forecast every facility with occupancy on each quarter hour, until stopped."""
    from paris_live.db import migrate
    from streams.forecast.job import ForecastJob

    settings = get_settings()

    async def main() -> None:
        await migrate(settings)
        stop = stop_on_signals()
        await ForecastJob(settings).run(stop)

    asyncio.run(main())


@forecast_app.command("once")
def once_command() -> None:
    """Run one forecasting round now and print what it did."""
    from paris_live.db import migrate
    from streams.forecast.job import ForecastJob

    settings = get_settings()

    async def main() -> None:
        await migrate(settings)
        stats = await ForecastJob(settings).run_once()
        typer.echo(
            f"{stats.forecast} facilities forecast, {stats.without_history} with too little "
            f"history, {stats.waits} queue services' waits, {stats.published} published, "
            f"in {stats.seconds} s"
        )

    asyncio.run(main())
