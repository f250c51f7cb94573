"""Paris time, defined once: schedules, daily resets and daily buckets are in ``Europe/Paris``
(zoneinfo, DST-correct); timestamps on the wire carry their offset."""

from __future__ import annotations

from typing import Final
from zoneinfo import ZoneInfo

PARIS: Final = ZoneInfo("Europe/Paris")
"""The City's time zone."""
