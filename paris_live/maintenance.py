"""PostgreSQL maintenance the platform runs itself (``paris-live maintain``, started by ``up`` and
by compose): on plain PostgreSQL, month partitions created ahead, retention applied, hour/day
rollups refreshed; on TimescaleDB the extension's policies do all three and the run is recorded.

The clock is a parameter: ``run_maintenance(settings, at=...)`` does what a run at ``at`` would do,
which is how the month-boundary test drives it. Every step is idempotent, so several processes
running it at once (two ``up``\\ s, compose replicas) only repeat work.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import psycopg
import structlog

from paris_live.db import connect
from paris_live.settings import Settings

log = structlog.get_logger(__name__)

PARTITIONED = ("events", "status_changes")
"""The range-partitioned history tables of the plain path (a DEFAULT partition each)."""

MONTHS_AHEAD = 3
"""Partitions exist this many months past the clock: a missed run or two never matters."""

RAW_KEEP = timedelta(days=400)
MINUTE_KEEP = timedelta(days=400)
ROLLUP_WINDOW = timedelta(days=2)
"""Hour and day rollups are recomputed over this much of the recent past (late events)."""

DEFAULT_INTERVAL_S = 3600.0


@dataclass(frozen=True)
class MaintenanceReport:
    """What one run did."""

    mode: str
    clock: datetime
    partitions_created: int = 0
    partitions_dropped: int = 0
    minute_rows_deleted: int = 0
    rollups_from: datetime | None = None
    rollups_to: datetime | None = None

    def summary(self) -> str:
        if self.mode == "timescale":
            return "timescale: partitions, retention and rollups are the extension's policies"
        return (
            f"plain: {self.partitions_created} partition(s) created, "
            f"{self.partitions_dropped} dropped, {self.minute_rows_deleted} minute row(s) "
            f"past retention deleted, rollups refreshed from {self.rollups_from:%Y-%m-%d %H:%M}"
        )


async def run_maintenance(
    settings: Settings,
    *,
    at: datetime | None = None,
    raw_keep: timedelta = RAW_KEEP,
    minute_keep: timedelta = MINUTE_KEEP,
    months_ahead: int = MONTHS_AHEAD,
) -> MaintenanceReport:
    """One maintenance run at ``at`` (default: now), in one transaction."""
    clock = at or datetime.now(UTC)
    if clock.tzinfo is None:
        raise ValueError("the maintenance clock must be timezone-aware")
    async with await connect(settings) as conn:
        cur = await conn.execute("SELECT mode FROM schema_migrations LIMIT 1")
        found = await cur.fetchone()
        if found is None:
            raise RuntimeError("the database is not migrated: run `paris-live migrate` first")
        mode = str(found[0])
        if mode == "timescale":
            report = MaintenanceReport(mode=mode, clock=clock)
        else:
            async with conn.transaction():
                created = dropped = 0
                for table in PARTITIONED:
                    cur = await conn.execute(
                        "SELECT ensure_partitions_at(%s, %s, 1, %s), "
                        "drop_old_partitions_at(%s, %s, %s)",
                        (table, clock, months_ahead, table, raw_keep, clock),
                    )
                    row = await cur.fetchone()
                    assert row is not None
                    created += int(row[0])
                    dropped += int(row[1])
                cur = await conn.execute(
                    "DELETE FROM occupancy_1m WHERE bucket < %s", (clock - minute_keep,)
                )
                deleted = cur.rowcount
                lo = clock - ROLLUP_WINDOW
                await conn.execute(
                    "SELECT refresh_rollups(%s::timestamptz, %s::timestamptz)", (lo, clock)
                )
            report = MaintenanceReport(
                mode=mode,
                clock=clock,
                partitions_created=created,
                partitions_dropped=dropped,
                minute_rows_deleted=deleted,
                rollups_from=lo,
                rollups_to=clock,
            )
        await conn.execute(
            "INSERT INTO maintenance_runs (clock, partitions_created, partitions_dropped, "
            "minute_rows_deleted, rollups_from, rollups_to) VALUES (%s, %s, %s, %s, %s, %s)",
            (
                clock,
                report.partitions_created,
                report.partitions_dropped,
                report.minute_rows_deleted,
                report.rollups_from,
                report.rollups_to,
            ),
        )
        await conn.commit()
    log.info(
        "maintenance_ran",
        mode=report.mode,
        clock=clock.isoformat(),
        partitions_created=report.partitions_created,
        partitions_dropped=report.partitions_dropped,
        minute_rows_deleted=report.minute_rows_deleted,
    )
    return report


async def maintain_forever(
    settings: Settings,
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    stop: asyncio.Event | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Run maintenance now, then every ``interval_s`` until ``stop`` is set; a failed run is logged
    and retried at the next tick."""
    stop = stop or asyncio.Event()
    while not stop.is_set():
        try:
            await run_maintenance(settings, at=clock())
        except (psycopg.Error, OSError, RuntimeError) as exc:  # next run retries
            log.warning("maintenance_failed", error=str(exc))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), interval_s)
