"""The daily refresh: every dataset rebuilt from PostgreSQL into a new folder, described, then
published at once (:func:`api.opendata.store.publish`).

``run`` builds at start when the current build is missing or older than a day, then every day at
``REFRESH_AT`` (Paris time). A failed build leaves the current one in place and is retried
after ``RETRY_AFTER``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import structlog

from api.opendata import NotPublished
from api.opendata.datasets import CATALOGUE, HISTORY
from api.opendata.export import (
    Written,
    catalogue_rows,
    copy_csv_parquet,
    csv_to_parquet,
    prepare_session,
    write_rows_csv,
)
from api.opendata.package import package_descriptor
from api.opendata.store import current, publish
from paris_live.db import connect
from paris_live.settings import Settings
from schemas.catalogue import Catalogue, load_catalogue
from schemas.clock import PARIS

__all__ = ["REFRESH_AT", "build", "run"]

log = structlog.get_logger(__name__)

REFRESH_AT = (3, 30)
"""Paris time of the daily build (hour, minute): the night's quiet."""
RETRY_AFTER = timedelta(minutes=15)


async def build(
    settings: Settings, *, catalogue: Catalogue | None = None, now: datetime | None = None
) -> Path:
    """Build every dataset into a new folder under ``open_data_dir`` and publish it."""
    now = now or datetime.now(UTC)
    catalogue = catalogue or load_catalogue()
    root = settings.open_data_dir
    root.mkdir(parents=True, exist_ok=True)
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    work = root / f".build-{stamp}"
    work.mkdir()
    started = time.perf_counter()
    try:
        written: dict[str, tuple[Written, Written]] = {}
        async with await connect(settings) as conn:
            await prepare_session(conn, catalogue)
            for dataset in HISTORY:
                written[dataset.name] = await copy_csv_parquet(
                    conn, dataset, work / f"{dataset.name}.csv", work / f"{dataset.name}.parquet"
                )
            await conn.rollback()
        csv_file = write_rows_csv(
            work / f"{CATALOGUE.name}.csv",
            [c.name for c in CATALOGUE.columns],
            catalogue_rows(catalogue),
        )
        parquet = csv_to_parquet(
            csv_file.path, work / f"{CATALOGUE.name}.parquet", CATALOGUE.columns
        )
        written[CATALOGUE.name] = (csv_file, parquet)
        descriptor = package_descriptor(written, now.astimezone(PARIS))
        (work / "datapackage.json").write_bytes(
            orjson.dumps(descriptor, option=orjson.OPT_INDENT_2)
        )
        final = root / stamp
        work.rename(final)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    publish(root, final)
    log.info(
        "open_data_built",
        folder=str(final),
        seconds=round(time.perf_counter() - started, 2),
        rows={name: files[0].rows for name, files in written.items()},
    )
    return final


def next_run(now: datetime) -> datetime:
    """The next ``REFRESH_AT`` (Paris time) after ``now``."""
    local = now.astimezone(PARIS)
    hour, minute = REFRESH_AT
    due = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if due <= local:
        due = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due


def _stale(settings: Settings, now: datetime) -> bool:
    try:
        published = current(settings.open_data_dir)
    except NotPublished:
        return True
    created = datetime.fromisoformat(str(published.package["created"]))
    return now - created > timedelta(days=1)


async def run(settings: Settings, stop: asyncio.Event) -> None:
    """Build when stale, then daily, until ``stop`` is set."""
    due = datetime.now(UTC) if _stale(settings, datetime.now(UTC)) else None
    while not stop.is_set():
        now = datetime.now(UTC)
        if due is None:
            due = next_run(now)
        if now >= due:
            try:
                await build(settings)
                due = next_run(datetime.now(UTC))
            except Exception as exc:  # logged, retried: the current build stays published
                log.error("open_data_build_failed", error=str(exc))
                due = datetime.now(UTC) + RETRY_AFTER
        wait = max((due - datetime.now(UTC)).total_seconds(), 0.0)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=min(wait, 60.0))
