"""The daily refresh's schedule (Paris time, DST-correct) and its failure path."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import psycopg
import pytest

from api.opendata import NotPublished
from api.opendata.job import build, next_run
from api.opendata.store import current
from paris_live.settings import Settings
from schemas.clock import PARIS


def test_next_run_is_half_past_three_paris_time_across_dst() -> None:
    """The build runs at 03:30 Paris time, the same wall-clock hour on both sides of DST."""
    before = dt.datetime(2026, 3, 28, 12, 0, tzinfo=PARIS)  # the night of 29 March: CET → CEST
    first = next_run(before)
    assert first == dt.datetime(2026, 3, 29, 3, 30, tzinfo=PARIS)
    assert first.utcoffset() == dt.timedelta(hours=2)
    assert next_run(first) == dt.datetime(2026, 3, 30, 3, 30, tzinfo=PARIS)
    assert next_run(dt.datetime(2026, 3, 29, 3, 0, tzinfo=PARIS)) == first


async def test_a_failed_build_publishes_nothing_and_leaves_no_folder(tmp_path: Path) -> None:
    """PostgreSQL unreachable: the build raises, nothing is published, no half build is left."""
    settings = Settings(
        env="test",
        database_url="postgresql://nobody@127.0.0.1:1/none",
        open_data_dir=tmp_path / "open-data",
    )
    with pytest.raises(psycopg.OperationalError):
        await build(settings)
    with pytest.raises(NotPublished):
        current(settings.open_data_dir)
    assert list(settings.open_data_dir.iterdir()) == []
