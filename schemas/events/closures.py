"""``data`` of exceptional closures: what is closed (the scope), why, and until when.

``.declared`` and ``.updated`` carry the full :class:`ClosureData` (an update replaces the
closure, it is not a patch, so replaying it is harmless); ``.ended`` carries
:class:`ClosureEndData` — only ``closure_id`` is required, the end time is the event ``time``.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field

from schemas.events.base import EventData, Identifier, LocalizedText, Timestamp
from schemas.text import Line

__all__ = [
    "AreaScope",
    "ClosureData",
    "ClosureEndData",
    "ClosureReason",
    "ClosureScope",
    "FacilityScope",
    "ServiceScope",
]


class FacilityScope(EventData):
    """The whole facility is closed."""

    kind: Literal["facility"] = "facility"


class AreaScope(EventData):
    """Part of the facility is closed (``Bassin 50 m``, ``Salle de lecture jeunesse``)."""

    kind: Literal["area"] = "area"
    name: Line


class ServiceScope(EventData):
    """One service of the facility is closed (its queues and appointments stop)."""

    kind: Literal["service"] = "service"
    service_id: Identifier


ClosureScope: TypeAlias = Annotated[
    FacilityScope | AreaScope | ServiceScope, Field(discriminator="kind")
]
"""What a closure covers, discriminated on ``kind``."""


class ClosureReason(StrEnum):
    """Why a facility (or part of it) is exceptionally closed."""

    STAFF_SHORTAGE = "staff_shortage"
    TECHNICAL_FAILURE = "technical_failure"
    WATER_QUALITY = "water_quality"
    WEATHER = "weather"
    SECURITY = "security"
    WORKS = "works"
    STRIKE = "strike"
    EVENT = "event"
    OTHER = "other"


class ClosureData(EventData):
    """A closure as declared or updated by an agent (``.updated`` carries the full new state)."""

    closure_id: Identifier
    scope: ClosureScope
    reason: ClosureReason = Field(strict=False)
    message: LocalizedText
    starts_at: Timestamp
    expected_reopening_at: Timestamp | None = None
    declared_by: Identifier


class ClosureEndData(EventData):
    """The end of a closure; the facility reopens at the event ``time``."""

    closure_id: Identifier
    ended_by: Identifier | None = None
    message: LocalizedText | None = None
