"""``simulate --history``'s queue waits: every ticket-queue service, seeded, written once."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history_store import queue_rows, write_queue_history
from producers.queue_history import queue_history
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS

pytestmark = pytest.mark.integration


def test_town_halls_queue_at_their_busy_hours_and_nobody_waits_while_closed() -> None:
    """Three weeks of the town halls' desks: the same seed gives the same waits; waits are
    0 outside the hours, present (or a gap) inside; the busiest desks queue for minutes."""
    halls = load_catalogue().by_type("town_hall")[:4]
    first = dt.date(2026, 5, 4)
    waits = queue_history(halls, first, 21, seed=3)
    again = queue_history(halls, first, 21, seed=3)
    assert np.array_equal(waits.observed, again.observed, equal_nan=True)
    assert len(waits.series) == sum(1 for h in halls for s in h.services if s.queue)
    closed = ~waits.scheduled
    assert np.all(waits.observed[closed] == 0)
    inside = waits.observed[waits.scheduled]
    assert 0 < np.isnan(inside).mean() < 0.1  # machine outages: gaps, not zeros
    assert np.nanmax(inside) >= 15 and np.nanmean(inside) >= 2


async def test_queue_waits_are_written_once(db: Settings) -> None:
    """Open slots with a reading before ``before`` become ``queue_wait_1m`` rows; a second run
    adds nothing."""
    halls = load_catalogue().by_type("town_hall")[:2]
    waits = queue_history(halls, dt.date(2026, 5, 4), 3, seed=9)
    before = dt.datetime(2026, 5, 6, 15, 0, tzinfo=PARIS)
    expected = list(queue_rows(waits, before))
    assert expected and all(row[2] < before for row in expected)
    assert await write_queue_history(db, waits, before) == len(expected)
    assert await write_queue_history(db, waits, before) == 0
    async with await connect(db, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT count(DISTINCT (facility_id, service_id)) FROM queue_wait_1m"
        )
        services = await cur.fetchone()
    assert services is not None and services[0] == len(waits.series)
