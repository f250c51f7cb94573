"""``simulate --history``: back-dated occupancy written to the history store, once."""

from __future__ import annotations

import datetime as dt

import pytest

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import occupancy_history
from producers.history_store import parse_span, rows, write_history
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS

pytestmark = pytest.mark.integration


def test_history_spans() -> None:
    assert parse_span("8w") == 56 and parse_span("14d") == 14
    with pytest.raises(ValueError, match="8w"):
        parse_span("eight weeks")


async def test_history_is_written_with_its_rollups_and_only_once(db: Settings) -> None:
    """Open slots with a reading before ``before`` become rows and hourly rollups; a second
    run adds nothing."""
    pools = load_catalogue().by_type("pool")[:3]
    history = occupancy_history(pools, dt.date(2026, 5, 4), 3, seed=9)
    before = dt.datetime(2026, 5, 6, 15, 0, tzinfo=PARIS)
    expected = list(rows(history, before))
    assert expected and all(row[1] < before for row in expected)
    assert await write_history(db, history, before) == len(expected)
    assert await write_history(db, history, before) == 0
    async with await connect(db, autocommit=True) as conn:
        minutes = await (await conn.execute("SELECT count(*) FROM occupancy_1m")).fetchone()
        hours = await (await conn.execute("SELECT count(*) FROM occupancy_1h")).fetchone()
        late = await (
            await conn.execute(
                "SELECT count(*) FROM occupancy_1m WHERE "
                "extract(hour FROM bucket AT TIME ZONE 'Europe/Paris') < 6"
            )
        ).fetchone()
    assert minutes is not None and minutes[0] == len(expected)
    assert hours is not None and hours[0] > 0
    assert late is not None and late[0] == 0
