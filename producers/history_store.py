"""Back-dated occupancy history into the history store: ``paris-live simulate --history 8w``.

The I/O shell of :mod:`producers.history` (which stays pure): the simulated weeks before now are
written as the rows the worker's history writer keeps (``occupancy_1m``), then the hour and day
rollups are recomputed with the same ``refresh_rollups`` the worker calls — so ``/history``,
``/typical`` and ``/forecast`` read them as they read live history. One row per 15-minute slot with
a reading inside the opening hours (the slot's head count; ``samples`` 1): what a 15-minute
resolution can say, and 15 times fewer rows than minutes. Slots without a reading (sensor down,
exceptional closure) are left out — a gap, not an empty facility. Idempotent: rows already there
are kept (``ON CONFLICT DO NOTHING``), so a second run adds nothing.

The queue services' waits (:mod:`producers.queue_history`) go the same way into ``queue_wait_1m``
(:func:`write_queue_history`): one row per 15-minute slot with a reading inside the opening hours.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator

from paris_live.db import connect
from paris_live.settings import Settings
from producers.history import SLOT_MINUTES, SLOTS_PER_DAY, History
from producers.queue_history import QueueHistory
from schemas.clock import PARIS

_COLUMNS = (
    "facility_id, bucket, count_avg, count_min, count_max, count_last, capacity, "
    "passages_in, passages_out, samples"
)
_QUEUE_COLUMNS = (
    "facility_id, service_id, bucket, wait_avg, wait_max, length_avg, length_max, samples"
)
_SPAN = re.compile(r"^\s*(\d+)\s*([wd])\s*$")

Row = tuple[str, dt.datetime, float, int, int, int, int | None, int, int, int]
QueueRow = tuple[str, str, dt.datetime, float, float, float, int, int]


def parse_span(text: str) -> int:
    """Days of ``8w`` (weeks) or ``14d`` (days)."""
    found = _SPAN.match(text.lower())
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"history span {text!r}: write it as 8w (weeks) or 14d (days)")
    count = int(found.group(1))
    return count * 7 if found.group(2) == "w" else count


def slot_start(first_day: dt.date, index: int) -> dt.datetime:
    """When slot ``index`` of a history starting on ``first_day`` begins (Paris time)."""
    day = first_day + dt.timedelta(days=index // SLOTS_PER_DAY)
    minute = index % SLOTS_PER_DAY * SLOT_MINUTES
    return dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=PARIS)


def rows(history: History, before: dt.datetime) -> Iterator[Row]:
    """``occupancy_1m`` rows of the slots open with a reading that start before ``before``."""
    for f, facility in enumerate(history.facilities):
        for index in range(history.slots):
            value = history.observed[f, index]
            if not history.scheduled[f, index] or math.isnan(value):
                continue
            at = slot_start(history.first_day, index)
            if at >= before:
                break
            count = round(float(value))
            yield (facility.id, at, float(count), count, count, count, facility.capacity, 0, 0, 1)


async def write_history(settings: Settings, history: History, before: dt.datetime) -> int:
    """Write the history before ``before`` and refresh the rollups; rows new to the store."""
    start = dt.datetime.combine(history.first_day, dt.time(0, 0), tzinfo=PARIS)
    async with await connect(settings) as conn, conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE _history_in (LIKE occupancy_1m INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        async with conn.cursor().copy(f"COPY _history_in ({_COLUMNS}) FROM STDIN") as copy:
            for row in rows(history, before):
                await copy.write_row(row)
        cur = await conn.execute(
            f"INSERT INTO occupancy_1m ({_COLUMNS}) SELECT {_COLUMNS} FROM _history_in "
            "ON CONFLICT DO NOTHING"
        )
        written = cur.rowcount
        await conn.execute("SELECT refresh_rollups(%s, %s)", (start, before))
    return written


def queue_rows(history: QueueHistory, before: dt.datetime) -> Iterator[QueueRow]:
    """``queue_wait_1m`` rows of the slots open with a reading that start before ``before``."""
    for s, series in enumerate(history.series):
        for index in range(history.slots):
            wait = history.observed[s, index]
            if not history.scheduled[s, index] or math.isnan(wait):
                continue
            at = slot_start(history.first_day, index)
            if at >= before:
                break
            length = round(float(history.waiting[s, index]))
            value = float(wait)
            yield (series.facility.id, series.service_id, at, value, value, length, length, 1)


async def write_queue_history(
    settings: Settings, history: QueueHistory, before: dt.datetime
) -> int:
    """Write the queue waits before ``before``; rows new to the store."""
    async with await connect(settings) as conn, conn.transaction():
        await conn.execute(
            "CREATE TEMP TABLE _queue_in (LIKE queue_wait_1m INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        async with conn.cursor().copy(f"COPY _queue_in ({_QUEUE_COLUMNS}) FROM STDIN") as copy:
            for row in queue_rows(history, before):
                await copy.write_row(row)
        cur = await conn.execute(
            f"INSERT INTO queue_wait_1m ({_QUEUE_COLUMNS}) SELECT {_QUEUE_COLUMNS} FROM _queue_in "
            "ON CONFLICT DO NOTHING"
        )
        return cur.rowcount
