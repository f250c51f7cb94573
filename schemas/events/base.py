"""What every event family builds on: ids, timestamps, bilingual text and the ``data`` base.

Strict by design: :class:`EventData` refuses unknown fields and never coerces a string into a
number; a :data:`Timestamp` must carry its UTC offset.
"""

from __future__ import annotations

from typing import Annotated, TypeAlias

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, WithJsonSchema

from schemas.text import Line, text

__all__ = [
    "FACILITY_ID_PATTERN",
    "RFC3339_PATTERN",
    "EventData",
    "FacilityId",
    "Identifier",
    "LocalizedText",
    "Timestamp",
]

FACILITY_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
"""Facility ids are stable lowercase slugs (``piscine-pontoise``)."""

FacilityId: TypeAlias = Annotated[str, StringConstraints(pattern=FACILITY_ID_PATTERN)]
Identifier: TypeAlias = Line
"""Ids of devices, services, tickets, agents, events: one line of at most 200 characters, no
control character (:mod:`schemas.text`) — a NUL never reaches a sink."""
RFC3339_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
"""What the JSON Schemas require of a timestamp (the decoder additionally checks the date)."""
Timestamp: TypeAlias = Annotated[
    AwareDatetime,
    WithJsonSchema({"type": "string", "format": "date-time", "pattern": RFC3339_PATTERN}),
]
"""RFC 3339 date-time with a UTC offset; naive datetimes are refused."""


class EventData(BaseModel):
    """Base of every ``data`` model: frozen, unknown fields refused, no string→number coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class LocalizedText(BaseModel):
    """Text a citizen reads: French always, English when available."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    fr: text(2000)  # type: ignore[valid-type]
    en: text(2000) | None = None  # type: ignore[valid-type]
