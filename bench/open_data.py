"""Open-data export of a year of hourly occupancy for 1,000 facilities: ``python -m bench.open_data``.

    .venv/bin/python -m bench.open_data [--facilities 1000] [--days 365] [--seed 22]

Set-up (not timed): a scratch schema holding ``occupancy_1h`` as the plain-PostgreSQL path has it,
loaded with ``COPY … FROM STDIN`` with ``facilities × days × 24`` rows (8,760,000 by default) —
the first 1,000 catalogue facilities, a seeded daily curve with noise, capacity from the
catalogue (or 100). The schema is dropped at the end.

Timed: the job's own export of the ``occupancy-hourly`` dataset — the catalogue's session tables
(:func:`api.opendata.export.prepare_session`), ``COPY (the dataset's SELECT) TO STDOUT`` streamed
into the CSV (Paris-time text, ratio, crowd level) and, through a pipe, into pyarrow writing the
Parquet at the same time (:func:`~api.opendata.export.copy_csv_parquet`). Target ≤ 60 s of wall
time. Beside it, in the same run, the same export one step after the other (CSV, then the
Parquet read back from the file: ``csv_then_parquet_s``). The machine's 1-minute load average before and after is kept with the result (the
machine is shared: a loaded run is slower, the baseline too).

Baseline: a plain ``COPY occupancy_1h TO STDOUT`` (CSV) of the same rows into a file — the floor
of getting the rows out of PostgreSQL at all.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from psycopg import sql

from api.opendata.datasets import DATASETS
from api.opendata.export import copy_csv, copy_csv_parquet, csv_to_parquet, prepare_session
from bench.common import write_result
from paris_live.db import connect
from paris_live.settings import Settings, get_settings
from schemas.catalogue import load_catalogue

TARGET_SECONDS = 60.0
_TABLE = """
CREATE TABLE occupancy_1h (
    facility_id text NOT NULL, bucket timestamptz NOT NULL, count_avg real NOT NULL,
    count_min integer, count_max integer, count_last integer, capacity integer,
    passages_in integer NOT NULL DEFAULT 0, passages_out integer NOT NULL DEFAULT 0,
    samples integer NOT NULL DEFAULT 1, PRIMARY KEY (facility_id, bucket))
"""
_START = 1_767_222_000  # 2026-01-01T00:00:00+01:00 (Paris), epoch seconds


async def load(settings: Settings, ids: list[tuple[str, int]], days: int, seed: int) -> int:
    """COPY the year of hourly rows into the scratch schema; returns the rows."""
    rng = random.Random(seed)
    curve = [max(0.0, math.sin(math.pi * (h - 7) / 14)) if 7 <= h <= 21 else 0.0 for h in range(24)]
    rows = 0
    async with await connect(settings) as conn:
        await conn.execute(_TABLE)
        async with conn.cursor().copy(
            "COPY occupancy_1h (facility_id, bucket, count_avg, count_max, capacity, samples) "
            "FROM STDIN"
        ) as copy:
            for facility_id, capacity in ids:
                peak = capacity * rng.uniform(0.3, 0.9)
                lines = []
                for day in range(days):
                    base = _START + day * 86_400
                    factor = rng.uniform(0.6, 1.2)
                    for hour in range(24):
                        value = peak * factor * curve[hour]
                        stamp = time.strftime(
                            "%Y-%m-%d %H:%M:%S+00", time.gmtime(base + hour * 3600)
                        )
                        lines.append(
                            f"{facility_id}\t{stamp}\t{value:.1f}\t{round(value * 1.1)}\t"
                            f"{capacity}\t60\n"
                        )
                await copy.write("".join(lines).encode())
                rows += len(lines)
        await conn.commit()
        await conn.execute("ANALYZE occupancy_1h")
        await conn.commit()
    return rows


async def baseline(settings: Settings, path: Path) -> float:
    """Seconds of a plain ``COPY occupancy_1h TO STDOUT (FORMAT csv)`` into a file."""
    started = time.perf_counter()
    statement = "COPY occupancy_1h TO STDOUT WITH (FORMAT csv, HEADER)"
    async with (
        await connect(settings) as conn,
        conn.cursor() as cur,
        cur.copy(statement) as copy,
    ):
        with path.open("wb") as out:
            async for block in copy:
                out.write(block)
    return time.perf_counter() - started


async def export(settings: Settings, folder: Path) -> dict[str, float]:
    """The job's export of ``occupancy-hourly``: CSV and Parquet together (one pass)."""
    dataset = DATASETS["occupancy-hourly"]
    started = time.perf_counter()
    async with await connect(settings) as conn:
        await prepare_session(conn, load_catalogue())
        written, parquet = await copy_csv_parquet(
            conn, dataset, folder / "occupancy-hourly.csv", folder / "occupancy-hourly.parquet"
        )
        await conn.rollback()
    done = time.perf_counter()
    return {
        "total_s": done - started,
        "rows": float(written.rows),
        "parquet_rows": float(parquet.rows),
        "csv_mb": written.bytes / 1e6,
        "parquet_mb": parquet.bytes / 1e6,
    }


async def sequential(settings: Settings, folder: Path) -> float:
    """The same export one step after the other (CSV, then Parquet from the file): seconds."""
    dataset = DATASETS["occupancy-hourly"]
    started = time.perf_counter()
    async with await connect(settings) as conn:
        await prepare_session(conn, load_catalogue())
        written = await copy_csv(conn, dataset, folder / "sequential.csv")
        await conn.rollback()
    await asyncio.to_thread(
        csv_to_parquet, written.path, folder / "sequential.parquet", dataset.columns
    )
    return time.perf_counter() - started


async def main_async(facilities: int, days: int, seed: int) -> None:
    base = get_settings()
    settings = base.model_copy(update={"db_schema": f"bench_od_{uuid.uuid4().hex[:8]}"})
    catalogue = sorted(load_catalogue(), key=lambda f: f.id)[:facilities]
    ids = [(f.id, f.capacity or 100) for f in catalogue]
    async with await psycopg.AsyncConnection.connect(settings.database, autocommit=True) as conn:
        await conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(settings.db_schema)))
    try:
        started = time.perf_counter()
        rows = await load(settings, ids, days, seed)
        load_s = time.perf_counter() - started
        print(f"loaded {rows:,} rows in {load_s:.1f} s")
        with tempfile.TemporaryDirectory(prefix="bench-open-data-") as tmp:
            folder = Path(tmp)
            load_average = [os.getloadavg()[0]]
            base_s = await baseline(settings, folder / "baseline.csv")
            (folder / "baseline.csv").unlink()
            figures = await export(settings, folder)
            load_average.append(os.getloadavg()[0])
            for name in ("occupancy-hourly.csv", "occupancy-hourly.parquet"):
                (folder / name).unlink()
            one_after_the_other = await sequential(settings, folder)
    finally:
        async with await psycopg.AsyncConnection.connect(
            settings.database, autocommit=True
        ) as conn:
            await conn.execute(
                sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(settings.db_schema)
                )
            )
    write_result(
        "open_data",
        figures["total_s"],
        "s",
        "plain COPY occupancy_1h TO STDOUT (CSV) of the same rows",
        base_s,
        f"a year of hourly occupancy for 1,000 facilities to CSV + Parquet ≤ {TARGET_SECONDS:.0f} s",
        facilities=len(ids),
        days=days,
        rows=int(figures["rows"]),
        parquet_rows=int(figures["parquet_rows"]),
        load_average_1m=[round(x, 2) for x in load_average],
        csv_then_parquet_s=round(one_after_the_other, 2),
        csv_mb=round(figures["csv_mb"], 1),
        parquet_mb=round(figures["parquet_mb"], 1),
        load_s=round(load_s, 1),
        rows_per_s=round(figures["rows"] / figures["total_s"]),
        target_met="yes" if figures["total_s"] <= TARGET_SECONDS else "no",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--facilities", type=int, default=1000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--seed", type=int, default=22)
    args = parser.parse_args()
    asyncio.run(main_async(args.facilities, args.days, args.seed))


if __name__ == "__main__":
    main()
