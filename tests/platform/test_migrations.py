"""Migrations: idempotent, plain PostgreSQL path for real, TimescaleDB path in PGlite."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from paris_live.db import connect, load_migrations, migrate
from paris_live.settings import Settings

TIMESCALE_DIR = Path(__file__).parent / "timescale"

# Three minutes of one facility around midnight Paris time, 28→29 March 2026 (the spring DST change).
MINUTES: list[dict[str, Any]] = [
    {
        "facility_id": "piscine-pontoise",
        "bucket": "2026-03-28T22:59:00Z",
        "count_avg": 30,
        "count_min": 30,
        "count_max": 30,
        "count_last": 30,
        "capacity": 100,
        "passages_in": 0,
        "passages_out": 0,
        "samples": 60,
    },
    {
        "facility_id": "piscine-pontoise",
        "bucket": "2026-03-29T00:30:00Z",
        "count_avg": 10,
        "count_min": 5,
        "count_max": 15,
        "count_last": 12,
        "capacity": 100,
        "passages_in": 3,
        "passages_out": 1,
        "samples": 60,
    },
    {
        "facility_id": "piscine-pontoise",
        "bucket": "2026-03-29T01:10:00Z",
        "count_avg": 20,
        "count_min": 5,
        "count_max": 25,
        "count_last": 22,
        "capacity": 100,
        "passages_in": 3,
        "passages_out": 1,
        "samples": 30,
    },
]
# Expected: hours in UTC; days start at Paris midnight (23:00 UTC in winter).
EXPECTED_HOURS = [
    ("2026-03-28T22:00:00Z", 30.0, 30),
    ("2026-03-29T00:00:00Z", 10.0, 15),
    ("2026-03-29T01:00:00Z", 20.0, 25),
]
EXPECTED_DAYS = [
    ("2026-03-27T23:00:00Z", 30.0, 0, 60),
    ("2026-03-28T23:00:00Z", (10 * 60 + 20 * 30) / 90, 6, 90),
]


def _iso(ts: datetime) -> str:
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_migrations_apply_once_and_are_idempotent(db: Settings) -> None:
    """A second migrate applies nothing and the plain path creates the history tables."""
    mode, applied = await migrate(db)
    assert (mode, applied) == ("plain", [])
    async with await connect(db) as conn:
        cur = await conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (db.db_schema,),
        )
        tables = {row[0] for row in await cur.fetchall()}
    assert {
        "events",
        "status_changes",
        "occupancy_1m",
        "occupancy_1h",
        "occupancy_1d",
        "closures",
        "schema_migrations",
    } <= tables


async def test_duplicate_event_rows_are_ignored_and_land_in_a_month_partition(db: Settings) -> None:
    """The same event id inserted twice is one row, stored in its month's partition."""
    at = datetime.now(UTC)
    async with await connect(db, autocommit=True) as conn:
        for _ in range(2):
            await conn.execute(
                "INSERT INTO events (event_id, time, facility_id, type, source, topic, "
                "kafka_partition, kafka_offset, data) VALUES ('e-1', %s, 'piscine-pontoise', "
                "'t', '/s', 'facility-passages', 0, 1, '{}') ON CONFLICT DO NOTHING",
                (at,),
            )
        cur = await conn.execute("SELECT tableoid::regclass::text FROM events")
        rows = await cur.fetchall()
    assert len(rows) == 1
    assert rows[0][0].startswith("events_2")


async def test_plain_rollups_follow_paris_days(db: Settings) -> None:
    """Hourly and Paris-daily rollups on plain PostgreSQL give the expected numbers."""
    async with await connect(db, autocommit=True) as conn:
        for r in MINUTES:
            await conn.execute(
                "INSERT INTO occupancy_1m VALUES (%(facility_id)s, %(bucket)s, %(count_avg)s, "
                "%(count_min)s, %(count_max)s, %(count_last)s, %(capacity)s, %(passages_in)s, "
                "%(passages_out)s, %(samples)s)",
                r,
            )
        await conn.execute("SELECT refresh_rollups('2026-03-28', '2026-03-30')")
        cur = await conn.execute("SELECT bucket, count_avg, count_max FROM occupancy_1h ORDER BY 1")
        hours = [(_iso(b), avg, mx) for b, avg, mx in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT bucket, count_avg, passages_in, samples FROM occupancy_1d ORDER BY 1"
        )
        days = [(_iso(b), avg, pin, n) for b, avg, pin, n in await cur.fetchall()]
    assert hours == EXPECTED_HOURS
    assert [(b, pin, n) for b, _, pin, n in days] == [(b, pin, n) for b, _, pin, n in EXPECTED_DAYS]
    assert [avg for _, avg, _, _ in days] == pytest.approx([e[1] for e in EXPECTED_DAYS])


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is needed for the PGlite check")
def test_timescale_path_applies_and_rolls_up_like_plain() -> None:
    """The TimescaleDB migrations apply (hypertables, caggs, policies) and roll up the same numbers."""
    if not (TIMESCALE_DIR / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=TIMESCALE_DIR, check=True)
    files = []
    for migration in load_migrations():
        assert migration.timescale is not None or migration.common is not None
        folder = Path(__file__).resolve().parents[2] / "paris_live" / "db" / "migrations"
        for suffix in (".sql", ".timescale.sql"):
            path = folder / f"{migration.version}_{migration.name}{suffix}"
            if path.exists():
                files.append(str(path))
    result = subprocess.run(
        ["node", "check.mjs", *files],
        cwd=TIMESCALE_DIR,
        input=json.dumps(MINUTES),
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert {"events", "status_changes", "occupancy_1m"} <= set(out["hypertables"])
    assert {"policy_compression", "policy_retention", "policy_refresh_continuous_aggregate"} <= set(
        out["jobs"]
    )
    hours = [(r["bucket"], r["count_avg"], r["count_max"]) for r in out["occupancy_1h"]]
    assert hours == EXPECTED_HOURS
    days = [
        (r["bucket"], r["count_avg"], r["passages_in"], r["samples"]) for r in out["occupancy_1d"]
    ]
    assert [(b, pin, n) for b, _, pin, n in days] == [(b, pin, n) for b, _, pin, n in EXPECTED_DAYS]
    assert [avg for _, avg, _, _ in days] == pytest.approx([e[1] for e in EXPECTED_DAYS], rel=1e-6)
