"""Helpers to write machine state as JSON-ready values and read it back exactly.

Datetimes are written with :meth:`datetime.isoformat` (offset included) and read back with
:meth:`datetime.fromisoformat`: the instant and its written form survive a round trip, so a
restored machine writes the very same snapshot again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from streams.core.errors import BadSnapshot


def time_out(value: datetime | None) -> str | None:
    """An aware datetime as RFC 3339 text (None stays None)."""
    return None if value is None else value.isoformat()


def time_in(value: Any) -> datetime | None:
    """The datetime written by :func:`time_out`; :class:`BadSnapshot` on anything else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadSnapshot(f"expected a timestamp, got {value!r}")
    parsed = datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise BadSnapshot(f"naive timestamp {value!r} in snapshot")
    return parsed


def req_time(value: Any) -> datetime:
    """Like :func:`time_in` but None is refused."""
    parsed = time_in(value)
    if parsed is None:
        raise BadSnapshot("missing timestamp in snapshot")
    return parsed
