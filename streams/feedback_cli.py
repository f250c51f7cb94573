"""``paris-live feedback …`` — the feedback loop's jobs, beside the stream job they drive (the
platform CLI mounts :data:`feedback_app`).

* ``purge-personal-data``: erase what is personal once its retention is over — a complaint's text,
  contact and answer ``--complaint-days`` (365) after it was answered (or after it was filed, when
  it never was), a survey answer's free texts ``--survey-days`` (90) after it was given. Counts,
  ratings, délais and references stay: the statistics do not change. Run it daily (cron, systemd
  timer, Kubernetes CronJob); it is idempotent.
* ``aggregate``: the feedback job (:class:`streams.feedback.job.FeedbackJob`) until SIGINT/SIGTERM.
* ``routing``: print the routing coverage table (facility type × golden rule → service, délai).

Retention defaults can be set with ``PARIS_LIVE_FEEDBACK_COMPLAINT_RETENTION_DAYS`` and
``PARIS_LIVE_FEEDBACK_SURVEY_RETENTION_DAYS``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from typing import Annotated

import typer

from paris_live.settings import Settings, get_settings
from paris_live.signals import stop_on_signals

__all__ = ["PurgeResult", "feedback_app", "purge_personal_data"]

feedback_app = typer.Typer(
    help="Avis et réclamations / feedback and complaints: retention, aggregates, routing.",
    no_args_is_help=True,
)


@dataclass(frozen=True, slots=True)
class PurgeResult:
    complaints: int
    surveys: int


async def purge_personal_data(
    settings: Settings,
    *,
    complaint_days: int = 365,
    survey_days: int = 90,
    now: dt.datetime | None = None,
    dry_run: bool = False,
) -> PurgeResult:
    """Erase the personal fields past their retention; returns how many rows were (or would be)."""
    from paris_live.db import connect

    now = now or dt.datetime.now(dt.UTC)
    complaint_cutoff = now - dt.timedelta(days=complaint_days)
    survey_cutoff = now - dt.timedelta(days=survey_days)
    complaint_due = (
        "purged_at IS NULL AND COALESCE(answered_at, filed_at) < %s "
        "AND (text IS NOT NULL OR contact IS NOT NULL OR answer IS NOT NULL)"
    )
    survey_due = (
        "purged_at IS NULL AND submitted_at < %s "
        "AND (liked IS NOT NULL OR to_improve IS NOT NULL OR went_wrong IS NOT NULL)"
    )
    async with await connect(settings) as conn, conn.transaction():
        if dry_run:
            cur = await conn.execute(
                f"SELECT count(*) FROM complaints WHERE {complaint_due}", (complaint_cutoff,)
            )
            complaints = (await cur.fetchone() or (0,))[0]
            cur = await conn.execute(
                f"SELECT count(*) FROM survey_responses WHERE {survey_due}", (survey_cutoff,)
            )
            surveys = (await cur.fetchone() or (0,))[0]
            return PurgeResult(int(complaints), int(surveys))
        cur = await conn.execute(
            "UPDATE complaints SET text = NULL, contact = NULL, answer = NULL, purged_at = %s "
            f"WHERE {complaint_due}",
            (now, complaint_cutoff),
        )
        complaints = cur.rowcount
        cur = await conn.execute(
            "UPDATE survey_responses SET liked = NULL, to_improve = NULL, went_wrong = NULL, "
            f"purged_at = %s WHERE {survey_due}",
            (now, survey_cutoff),
        )
        return PurgeResult(complaints, cur.rowcount)


@feedback_app.command("purge-personal-data")
def purge_command(
    complaint_days: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="PARIS_LIVE_FEEDBACK_COMPLAINT_RETENTION_DAYS",
            help="days after the answer (or filing) a complaint keeps text, contact, answer",
        ),
    ] = 365,
    survey_days: Annotated[
        int,
        typer.Option(
            min=1,
            envvar="PARIS_LIVE_FEEDBACK_SURVEY_RETENTION_DAYS",
            help="days a survey answer keeps its free texts",
        ),
    ] = 90,
    dry_run: Annotated[bool, typer.Option(help="count, change nothing")] = False,
) -> None:
    """Erase personal data past its retention (complaint texts and contacts, survey comments)."""
    result = asyncio.run(
        purge_personal_data(
            get_settings(), complaint_days=complaint_days, survey_days=survey_days, dry_run=dry_run
        )
    )
    verb = "would purge" if dry_run else "purged"
    typer.echo(f"{verb}: {result.complaints} complaints, {result.surveys} survey answers")


@feedback_app.command("aggregate")
def aggregate_command() -> None:
    """Run the feedback job (satisfaction, complaint volume, response délais) until stopped."""
    from paris_live.db import migrate
    from streams.feedback.job import FeedbackJob

    settings = get_settings()

    async def main() -> None:
        await migrate(settings)
        stop = stop_on_signals()
        await FeedbackJob(settings).run(stop)

    asyncio.run(main())


@feedback_app.command("routing")
def routing_command() -> None:
    """Print the complaint routing coverage (facility type × golden rule → service, délai)."""
    from schemas.routing import load_routing

    typer.echo(load_routing().coverage_markdown())


if __name__ == "__main__":
    feedback_app()
