"""The published directory (``PARIS_LIVE_OPEN_DATA_DIR``): builds side by side, ``current`` a
symbolic link to the latest complete one, switched atomically — a reader never sees half a build.

::

    <dir>/20261203T031500Z/   datapackage.json, <dataset>.csv, <dataset>.parquet
    <dir>/current -> 20261203T031500Z

Range reads (``from`` / ``to`` on a history dataset) filter the Parquet file with pyarrow, batch
by batch (a year of a big dataset never sits in memory), and write CSV in the published format
(Paris time with offset) or Parquet.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.dataset as pa_dataset
import pyarrow.parquet as pq

from api.opendata import NotPublished
from api.opendata.datasets import DATASETS
from api.opendata.export import arrow_schema
from schemas.clock import PARIS

__all__ = ["CURRENT", "KEEP_BUILDS", "Published", "current", "publish", "range_file", "write_range"]

CURRENT = "current"
KEEP_BUILDS = 2
"""Builds kept: the current one and the one before (a download under way keeps its file)."""


@dataclass(frozen=True, slots=True)
class Published:
    """The current build: its folder and its ``datapackage.json``."""

    folder: Path
    package: dict[str, Any]
    modified: float

    def resource(self, name: str) -> dict[str, Any] | None:
        for resource in self.package["resources"]:
            if resource["name"] == name:
                return dict(resource)
        return None


_cache: dict[Path, Published] = {}


def current(root: Path) -> Published:
    """The current build (re-read when the link moved); :class:`NotPublished` when none."""
    link = root / CURRENT
    try:
        folder = link.resolve(strict=True)
        modified = (folder / "datapackage.json").stat().st_mtime
    except (FileNotFoundError, NotADirectoryError) as exc:
        raise NotPublished(str(root)) from exc
    known = _cache.get(root)
    if known is not None and known.folder == folder and known.modified == modified:
        return known
    package = orjson.loads((folder / "datapackage.json").read_bytes())
    published = Published(folder, package, modified)
    _cache[root] = published
    return published


def publish(root: Path, build: Path) -> Path:
    """Make ``build`` (a folder under ``root``) the current one; drop the older builds."""
    link = root / CURRENT
    staging = root / f".{CURRENT}.{os.getpid()}"
    staging.unlink(missing_ok=True)
    staging.symlink_to(build.name)
    os.replace(staging, link)
    builds = sorted(
        p for p in root.iterdir() if p.is_dir() and not p.is_symlink() and p.name[0].isdigit()
    )
    for old in builds[:-KEEP_BUILDS]:
        if old != build:
            shutil.rmtree(old, ignore_errors=True)
    return build


def paris_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """``[start 00:00, end + 1 day 00:00)`` in Paris time."""
    first = datetime(start.year, start.month, start.day, tzinfo=PARIS)
    after = end + timedelta(days=1)
    return first, datetime(after.year, after.month, after.day, tzinfo=PARIS)


def _batches(published: Published, name: str, start: date, end: date) -> Iterator[pa.RecordBatch]:
    """The rows of ``[start, end]`` (Paris days) of a history dataset, batch by batch."""
    dataset = DATASETS[name]
    column = dataset.period_column
    assert column is not None
    kind = next(c.type for c in dataset.columns if c.name == column)
    if kind == "yearmonth":
        where = (pc.field(column) >= f"{start:%Y-%m}") & (pc.field(column) <= f"{end:%Y-%m}")
    else:
        first, after = paris_bounds(start, end)
        stamp = pa.timestamp("ms", tz="UTC")
        where = (pc.field(column) >= pa.scalar(first, stamp)) & (
            pc.field(column) < pa.scalar(after, stamp)
        )
    files = pa_dataset.dataset(published.folder / f"{name}.parquet", format="parquet")
    yield from files.to_batches(filter=where, batch_size=64 * 1024)


def _paris_text(values: pa.Array) -> pa.Array:
    """UTC instants as ``2026-12-03T09:00:00+01:00`` (Paris time), as the full CSV has them."""
    local = pc.strftime(values.cast(pa.timestamp("s", tz="Europe/Paris")), "%Y-%m-%dT%H:%M:%S%z")
    return pc.replace_substring_regex(local, r"([+-]\d\d)(\d\d)$", r"\1:\2")


def write_range(
    published: Published, name: str, fmt: str, start: date, end: date, out: IO[bytes]
) -> int:
    """Write the rows of a history dataset within ``[start, end]`` (Paris days) as CSV (in the
    published format) or Parquet, batch by batch; returns the rows."""
    schema = arrow_schema(DATASETS[name].columns)
    rows = 0
    if fmt == "parquet":
        with pq.ParquetWriter(out, schema, compression="zstd") as writer:
            for batch in _batches(published, name, start, end):
                writer.write_batch(batch)
                rows += batch.num_rows
        return rows
    stamps = [i for i, f in enumerate(schema) if pa.types.is_timestamp(f.type)]
    text = pa.schema(
        [pa.field(f.name, pa.string()) if i in stamps else f for i, f in enumerate(schema)]
    )
    options = pa_csv.WriteOptions(quoting_style="needed")
    with pa_csv.CSVWriter(out, text, write_options=options) as writer:
        for batch in _batches(published, name, start, end):
            columns = [
                _paris_text(batch.column(i)) if i in stamps else batch.column(i)
                for i in range(batch.num_columns)
            ]
            writer.write_batch(pa.record_batch(columns, schema=text))
            rows += batch.num_rows
    return rows


def range_file(published: Published, name: str, fmt: str, start: date, end: date) -> Path:
    """:func:`write_range` into a new temporary file (the caller deletes it; the published
    folder may be read-only for the API)."""
    with tempfile.NamedTemporaryFile(
        prefix="paris-live-range-", suffix=f".{fmt}", delete=False
    ) as out:
        path = Path(out.name)
        try:
            write_range(published, name, fmt, start, end, out)
        except BaseException:
            path.unlink(missing_ok=True)
            raise
    return path
