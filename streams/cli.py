"""``paris-live worker``: run one stream worker process (a faust worker of the consumer group)."""

from __future__ import annotations

import asyncio

import typer

streams_app = typer.Typer(help="Stream processing (faust-streaming workers).", no_args_is_help=True)


@streams_app.callback()
def _streams() -> None:
    """Stream processing (faust-streaming workers)."""


@streams_app.command("worker")
def worker(
    metrics_port: int | None = typer.Option(
        None, help="serve Prometheus /metrics on 127.0.0.1:PORT"
    ),
    per_event: bool = typer.Option(
        False, help="use faust's per-event agent path instead of batch hand-off (slower)"
    ),
    prepare: bool = typer.Option(
        True, help="create missing topics and apply database migrations before starting"
    ),
    loglevel: str = typer.Option("info", help="faust/mode log level"),
) -> None:
    """Consume the facility topics, keep each facility's state, write Redis and PostgreSQL."""
    from paris_live.logs import configure_logging
    from paris_live.settings import get_settings
    from streams.app import AppOptions, create_app, run_worker

    settings = get_settings()
    configure_logging(settings)
    if prepare:
        from paris_live.db import migrate
        from paris_live.kafka_admin import ensure_topics

        asyncio.run(ensure_topics(settings))
        asyncio.run(migrate(settings))
    app = create_app(settings, AppOptions(fast_path=not per_event, metrics_port=metrics_port))
    run_worker(app, loglevel=loglevel)


if __name__ == "__main__":  # python -m streams.cli worker …
    streams_app()
