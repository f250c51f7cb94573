"""Plain-PostgreSQL maintenance across month boundaries, driven by a fake clock on the real server:
partitions exist ahead of every write, retention drops old months, rollups follow, and no row ever
lands in the DEFAULT partition."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from paris_live.db import connect
from paris_live.maintenance import PARTITIONED, run_maintenance
from paris_live.settings import Settings

KEEP = timedelta(days=90)


async def _mode(conn: psycopg.AsyncConnection) -> str:
    cur = await conn.execute("SELECT mode FROM schema_migrations LIMIT 1")
    row = await cur.fetchone()
    assert row is not None
    return str(row[0])


async def _write(conn: psycopg.AsyncConnection, n: int, at: datetime) -> None:
    """One raw event, one status change and one minute rollup at ``at``, as the sinks write them."""
    await conn.execute(
        "INSERT INTO events (event_id, time, facility_id, type, source, topic, kafka_partition, "
        "kafka_offset, data) VALUES (%s, %s, 'piscine-pontoise', "
        "'fr.paris.facilities.passage.counted', '/turnstiles/piscine-pontoise/g1', "
        "'facility-passages', 0, %s, %s)",
        (f"ev-{n}", at, n, json.dumps({"gate_id": "g1", "direction": "in", "count": 1})),
    )
    await conn.execute(
        "INSERT INTO status_changes (facility_id, seq, at, open_state, stale, status) "
        "VALUES ('piscine-pontoise', %s, %s, 'open', false, '{}')",
        (n, at),
    )
    await conn.execute(
        "INSERT INTO occupancy_1m (facility_id, bucket, count_avg, count_last, samples) "
        "VALUES ('piscine-pontoise', date_trunc('minute', %s::timestamptz), 10, 10, 1) "
        "ON CONFLICT DO NOTHING",
        (at,),
    )


async def _in_default(conn: psycopg.AsyncConnection) -> dict[str, int]:
    counts = {}
    for table in PARTITIONED:
        cur = await conn.execute(f"SELECT count(*) FROM {table}_default")
        row = await cur.fetchone()
        assert row is not None
        counts[table] = int(row[0])
    return counts


async def _months(conn: psycopg.AsyncConnection, table: str) -> list[str]:
    cur = await conn.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace n ON n.oid = p.relnamespace "
        "WHERE p.relname = %s AND n.nspname = current_schema() AND c.relname ~ '_[0-9]{6}$' "
        "ORDER BY 1",
        (table,),
    )
    return [str(r[0])[-6:] for r in await cur.fetchall()]


@pytest.mark.timeout(240)
async def test_five_months_of_writes_never_reach_the_default_partition(db: Settings) -> None:
    """Twice a day for five months (fake clock), writes up to 1 h ahead land in month partitions."""
    async with await connect(db, autocommit=True) as conn:
        if await _mode(conn) != "plain":
            pytest.skip("TimescaleDB server: chunks and retention are the extension's policies")
        # Start a month after the partitions the migration made run out (real now + 3 months).
        start = datetime.now(UTC).replace(day=1, hour=11, minute=30, second=0, microsecond=0)
        start = (start + timedelta(days=31 * 5)).replace(day=1)
        # The hazard without maintenance: a write that far ahead falls into the DEFAULT partition.
        await _write(conn, 0, start)
        assert (await _in_default(conn))["events"] == 1

        report = await run_maintenance(db, at=start, raw_keep=KEEP)
        assert report.partitions_created >= 2
        assert await _in_default(conn) == {"events": 0, "status_changes": 0}, "rescued rows"

        clock = start
        n = 0
        boundaries = 0
        while clock < start + timedelta(days=150):
            await run_maintenance(db, at=clock, raw_keep=KEEP)
            for offset in (timedelta(minutes=-10), timedelta(minutes=50), timedelta(days=-20)):
                n += 1
                await _write(conn, n, clock + offset)
            if (clock + timedelta(minutes=50)).month != clock.month:
                boundaries += 1
            assert await _in_default(conn) == {"events": 0, "status_changes": 0}, clock
            clock += timedelta(hours=12)
        assert boundaries >= 4, "the writes straddled month boundaries"

        months = await _months(conn, "events")
        final = await run_maintenance(db, at=clock, raw_keep=KEEP)
        assert final.partitions_dropped == 0  # retention already ran on every tick
        after = await _months(conn, "events")
        oldest = min(after)
        assert oldest >= (clock - KEEP - timedelta(days=31)).strftime("%Y%m"), months
        assert max(after) >= (clock + timedelta(days=31 * 3 - 3)).strftime("%Y%m")
        cur = await conn.execute("SELECT min(time) FROM events")
        row = await cur.fetchone()
        assert row is not None and row[0] >= clock - KEEP - timedelta(days=31), "old rows dropped"

        # Rollups followed the writes: the last hour written has its hour bucket.
        cur = await conn.execute(
            "SELECT count(*) FROM occupancy_1h WHERE bucket = date_trunc('hour', %s::timestamptz)",
            (clock - timedelta(hours=12, minutes=10),),
        )
        row = await cur.fetchone()
        assert row is not None and row[0] == 1
        cur = await conn.execute("SELECT count(*) FROM maintenance_runs")
        row = await cur.fetchone()
        assert row is not None and row[0] >= 300


async def test_maintain_command_runs_once(db: Settings) -> None:
    """`paris-live maintain --once` runs one maintenance and says what it did."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "paris_live.cli",
        "maintain",
        "--once",
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PARIS_LIVE_DB_SCHEMA": db.db_schema},
    )
    _, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert "maintenance: " in err.decode()
    async with await connect(db, autocommit=True) as conn:
        cur = await conn.execute("SELECT count(*) FROM maintenance_runs")
        row = await cur.fetchone()
        assert row is not None and row[0] == 1


def test_compose_runs_the_maintenance_after_init() -> None:
    """docker-compose.yml has a maintenance service: `paris-live maintain`, once init is done."""
    import yaml

    compose = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )
    service = compose["services"]["maintenance"]
    assert service["command"][0] == "maintain"
    assert service["depends_on"]["init"]["condition"] == "service_completed_successfully"
    from typer.testing import CliRunner

    from paris_live.cli import app

    result = CliRunner().invoke(app, [*service["command"], "--help"])
    assert result.exit_code == 0, result.output
