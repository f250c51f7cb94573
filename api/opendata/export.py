"""PostgreSQL → CSV → Parquet, streamed: the rows never sit in memory all at once.

The CSV comes from ``COPY (SELECT …) TO STDOUT WITH (FORMAT csv, HEADER)`` written block by
block to the file (hashed on the way); the Parquet is read back from that CSV by pyarrow's
streaming reader (``open_csv``) with the column types of the Table Schema and written row group
by row group. The session runs in ``Europe/Paris``, so timestamps carry Paris offsets.

The catalogue dataset comes from :func:`schemas.catalogue.load_catalogue` (a few hundred rows),
written with :mod:`csv`.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

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
    if dataset.sql is None:
        raise ValueError(f"{dataset.name} is not computed in SQL")
    digest = hashlib.sha256()
    size = 0
    statement = f"COPY ({dataset.sql}) TO STDOUT WITH (FORMAT csv, HEADER)"
    async with conn.cursor() as cur:
        async with cur.copy(statement, {"from": start, "to": end}) as copy:
            with path.open("wb") as out:
                async for block in copy:
                    data = bytes(block)
                    out.write(data)
                    digest.update(data)
                    size += len(data)
        rows = max(cur.rowcount, 0)
    return Written(path, size, f"sha256:{digest.hexdigest()}", rows)


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
    """Convert a dataset's CSV into Parquet (zstd), streaming in blocks of the CSV."""
    schema = arrow_schema(columns)
    reader = pa_csv.open_csv(
        csv_path,
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
