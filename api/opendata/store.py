"""The published directory (``PARIS_LIVE_OPEN_DATA_DIR``): builds side by side, ``current`` a
symbolic link to the latest complete one, switched atomically — a reader never sees half a build.

::

    <dir>/20261203T031500Z/   datapackage.json, <dataset>.csv, <dataset>.parquet
    <dir>/current -> 20261203T031500Z

Range reads (``from`` / ``to`` on a history dataset) filter the Parquet file with pyarrow and
answer CSV in the published format (Paris time with offset) or Parquet.
"""

from __future__ import annotations

import io
import os
import shutil
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from api.opendata import NotPublished
from api.opendata.datasets import DATASETS
from schemas.clock import PARIS

__all__ = ["CURRENT", "KEEP_BUILDS", "Published", "current", "publish", "range_bytes"]

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


def _filtered(published: Published, name: str, start: date, end: date) -> pa.Table:
    dataset = DATASETS[name]
    column = dataset.period_column
    assert column is not None
    path = published.folder / f"{name}.parquet"
    kind = next(c.type for c in dataset.columns if c.name == column)
    if kind == "yearmonth":
        low: Any = f"{start:%Y-%m}"
        high: Any = f"{end:%Y-%m}"
        return pq.read_table(path, filters=[(column, ">=", low), (column, "<=", high)])
    first, after = paris_bounds(start, end)
    return pq.read_table(
        path,
        filters=[
            (column, ">=", pa.scalar(first, pa.timestamp("ms", tz="UTC"))),
            (column, "<", pa.scalar(after, pa.timestamp("ms", tz="UTC"))),
        ],
    )


def _paris_text(values: pa.ChunkedArray) -> pa.ChunkedArray:
    """UTC instants as ``2026-12-03T09:00:00+01:00`` (Paris time), as the full CSV has them."""
    local = pc.strftime(values.cast(pa.timestamp("s", tz="Europe/Paris")), "%Y-%m-%dT%H:%M:%S%z")
    return pc.replace_substring_regex(local, r"([+-]\d\d)(\d\d)$", r"\1:\2")


def range_bytes(published: Published, name: str, fmt: str, start: date, end: date) -> bytes:
    """The rows of a history dataset within ``[start, end]`` (Paris days), as CSV or Parquet."""
    table = _filtered(published, name, start, end)
    out = io.BytesIO()
    if fmt == "parquet":
        pq.write_table(table, out, compression="zstd")
        return out.getvalue()
    for index, field in enumerate(table.schema):
        if pa.types.is_timestamp(field.type):
            table = table.set_column(index, field.name, _paris_text(table.column(index)))
    pa_csv.write_csv(table, out, pa_csv.WriteOptions(quoting_style="needed"))
    return out.getvalue()
