"""PostgreSQL → CSV → Parquet, streamed: the rows never sit in memory all at once.

The CSV comes from ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)`` written block by
block to the file (hashed on the way); the same bytes go through a pipe to pyarrow's streaming
reader (``open_csv``, the column types of the Table Schema) in a thread, which writes the Parquet
row group by row group while PostgreSQL is still sending (:func:`copy_csv_parquet`). The session runs in ``Europe/Paris``, so timestamps carry Paris offsets.

The catalogue dataset comes from :func:`schemas.catalogue.load_catalogue` (a few hundred rows),
written with :mod:`csv`.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import os
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

import psycopg
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from api.opendata.datasets import Column, Dataset
from schemas.catalogue import Catalogue, Facility

__all__ = [
    "EARLIEST",
    "LATEST",
    "Written",
    "arrow_schema",
    "catalogue_rows",
    "copy_csv",
    "copy_csv_parquet",
    "csv_to_parquet",
    "prepare_session",
    "read_csv_table",
    "write_rows_csv",
]

EARLIEST = datetime.fromisoformat("2000-01-01T00:00:00+00:00")
LATEST = datetime.fromisoformat("2100-01-01T00:00:00+00:00")
"""The whole history: the range a full export asks for."""
_ARROW: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "datetime": pa.timestamp("ms", tz="UTC"),
    "yearmonth": pa.string(),
}


@dataclass(frozen=True, slots=True)
class Written:
    """One file written: its size, SHA-256 and data rows."""

    path: Path
    bytes: int
    sha256: str
    rows: int


def arrow_schema(columns: Iterable[Column]) -> pa.Schema:
    """The Parquet schema of a dataset (timestamps as UTC instants, months as text)."""
    return pa.schema([pa.field(c.name, _ARROW[c.type]) for c in columns])


def _convert_options(schema: pa.Schema) -> pa_csv.ConvertOptions:
    return pa_csv.ConvertOptions(
        column_types=schema,
        strings_can_be_null=True,
        true_values=["t", "true"],
        false_values=["f", "false"],
    )


async def prepare_session(conn: psycopg.AsyncConnection[Any], catalogue: Catalogue) -> None:
    """Paris time zone, and the catalogue's facility types and commitments as temp tables."""
    await conn.execute("SET TIME ZONE 'Europe/Paris'")
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _od_facility (facility_id text PRIMARY KEY, type text)"
    )
    await conn.execute(
        "CREATE TEMP TABLE IF NOT EXISTS _od_commitment "
        "(procedure_id text PRIMARY KEY, committed_days int, illustrative boolean)"
    )
    await conn.execute("TRUNCATE _od_facility, _od_commitment")
    commitments: dict[str, tuple[int | None, bool]] = {}
    async with conn.cursor() as cur:
        async with cur.copy("COPY _od_facility (facility_id, type) FROM STDIN") as copy:
            for facility in catalogue:
                await copy.write_row((facility.id, str(facility.type)))
                for procedure in facility.procedures:
                    # one commitment per démarche; if facilities disagree the longest is kept
                    known = commitments.get(procedure.procedure_id, (None, False))[0]
                    days = procedure.committed_days
                    if procedure.procedure_id not in commitments or (
                        days is not None and (known is None or days > known)
                    ):
                        commitments[procedure.procedure_id] = (days, procedure.illustrative)
        async with cur.copy(
            "COPY _od_commitment (procedure_id, committed_days, illustrative) FROM STDIN"
        ) as copy:
            for procedure_id, (days, illustrative) in commitments.items():
                await copy.write_row((procedure_id, days, illustrative))


async def copy_csv(
    conn: psycopg.AsyncConnection[Any],
    dataset: Dataset,
    path: Path,
    *,
    start: datetime = EARLIEST,
    end: datetime = LATEST,
) -> Written:
    """Stream the dataset's rows of ``[start, end)`` into a CSV file (header first)."""
    written, _ = await _copy(conn, dataset, path, None, start, end)
    return written


async def copy_csv_parquet(
    conn: psycopg.AsyncConnection[Any],
    dataset: Dataset,
    csv_path: Path,
    parquet_path: Path,
    *,
    start: datetime = EARLIEST,
    end: datetime = LATEST,
) -> tuple[Written, Written]:
    """The CSV and, at the same time, the Parquet: the rows PostgreSQL sends go to the CSV file
    and through a pipe to pyarrow's streaming reader in a thread, so the conversion runs while
    PostgreSQL is still producing rows (two cores busy instead of one after the other)."""
    written, parquet = await _copy(conn, dataset, csv_path, parquet_path, start, end)
    assert parquet is not None
    return written, parquet


_CHUNK = 1 << 20
"""Bytes handed to the pipe at once (one thread hop per megabyte, not per COPY block)."""


async def _copy(
    conn: psycopg.AsyncConnection[Any],
    dataset: Dataset,
    path: Path,
    parquet_path: Path | None,
    start: datetime,
    end: datetime,
) -> tuple[Written, Written | None]:
    if dataset.sql is None:
        raise ValueError(f"{dataset.name} is not computed in SQL")
    digest = hashlib.sha256()
    size = 0
    statement = f"COPY ({dataset.sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    pipe: IO[bytes] | None = None
    converting: asyncio.Future[Written] | None = None
    if parquet_path is not None:
        read_end, write_end = os.pipe()
        pipe = os.fdopen(write_end, "wb")
        reading = os.fdopen(read_end, "rb")
        converting = asyncio.ensure_future(
            asyncio.to_thread(_stream_to_parquet, reading, parquet_path, dataset.columns)
        )
    try:
        async with conn.cursor() as cur:
            async with cur.copy(statement, {"from": start, "to": end}) as copy:
                pending = bytearray()
                with path.open("wb") as out:
                    async for block in copy:
                        out.write(block)
                        digest.update(block)
                        size += len(block)
                        if pipe is not None:
                            pending += block
                            if len(pending) >= _CHUNK:
                                await asyncio.to_thread(pipe.write, bytes(pending))
                                pending.clear()
                if pipe is not None and pending:
                    await asyncio.to_thread(pipe.write, bytes(pending))
            rows = max(cur.rowcount, 0)
    finally:
        if pipe is not None:
            with contextlib.suppress(BrokenPipeError):
                pipe.close()  # end of the stream: the reader finishes its last batch
    parquet = await converting if converting is not None else None
    return Written(path, size, f"sha256:{digest.hexdigest()}", rows), parquet


def _stream_to_parquet(stream: IO[bytes], parquet_path: Path, columns: Iterable[Column]) -> Written:
    with stream:  # closed on error too: the writer then gets BrokenPipeError, never blocks
        return _write_parquet(stream, parquet_path, columns)


def catalogue_rows(catalogue: Catalogue) -> Iterable[list[object]]:
    """The catalogue dataset's rows: sourced values, each with its source or ``estimated``."""
    for f in sorted(catalogue, key=lambda f: f.id):
        yield [
            f.id,
            f.name,
            str(f.type),
            f.arrondissement,
            f.address.street,
            f.address.postcode,
            f.location.lat,
            f.location.lon,
            _source(f, "location"),
            f.capacity,
            _source(f, "capacity") if f.capacity is not None else None,
            str(f.hours_confidence),
            f.url,
        ]


def _source(facility: Facility, key: str) -> str:
    ref = facility.sources.get(key, "estimated")
    return ref if isinstance(ref, str) else ref.dataset


def write_rows_csv(path: Path, header: list[str], rows: Iterable[list[object]]) -> Written:
    """Write rows as CSV (empty cell for None), as ``COPY … CSV HEADER`` would."""
    count = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    data = path.read_bytes()
    return Written(path, len(data), f"sha256:{hashlib.sha256(data).hexdigest()}", count)


def csv_to_parquet(csv_path: Path, parquet_path: Path, columns: Iterable[Column]) -> Written:
    """Convert a dataset's CSV file into Parquet (zstd), streaming in blocks of the CSV."""
    with csv_path.open("rb") as source:
        return _write_parquet(source, parquet_path, columns)


def _write_parquet(source: IO[bytes], parquet_path: Path, columns: Iterable[Column]) -> Written:
    schema = arrow_schema(columns)
    reader = pa_csv.open_csv(
        source,
        read_options=pa_csv.ReadOptions(block_size=16 << 20),
        convert_options=_convert_options(schema),
    )
    rows = 0
    with pq.ParquetWriter(parquet_path, schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
            rows += batch.num_rows
    data_hash = hashlib.sha256()
    with parquet_path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            data_hash.update(chunk)
    return Written(
        parquet_path, parquet_path.stat().st_size, f"sha256:{data_hash.hexdigest()}", rows
    )


def read_csv_table(csv_path: Path, columns: Iterable[Column]) -> pa.Table:
    """A dataset's CSV as an Arrow table with the Parquet schema (for range reads and checks)."""
    schema = arrow_schema(columns)
    return pa_csv.read_csv(csv_path, convert_options=_convert_options(schema))
