"""``data`` of what a facility's devices and systems report: gates, sensors, queue tickets,
booking slots and the cases of administrative procedures."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from schemas.events.base import EventData, Identifier, Timestamp

__all__ = ["CaseData", "HeadcountData", "PassageData", "SlotsData", "TicketData"]


class PassageData(EventData):
    """People passing a gate (turnstile, door counter) — ``count`` people in one direction."""

    gate_id: Identifier
    direction: Literal["in", "out"]
    count: int = Field(ge=1, le=10_000)


class HeadcountData(EventData):
    """An absolute head count measured by a sensor (resets any drift of passage counting)."""

    sensor_id: Identifier
    headcount: int = Field(ge=0, le=100_000)


class TicketData(EventData):
    """A queue ticket of a service desk: issued, called to a desk, served, or abandoned."""

    ticket_id: Identifier
    service_id: Identifier


class SlotsData(EventData):
    """The booking system's view of a service: next free appointment and free slots in 7 days."""

    service_id: Identifier
    next_available_at: Timestamp | None
    free_slots_7d: int = Field(ge=0)


class CaseData(EventData):
    """A case (dossier) of an administrative procedure opened or closed — processing délais."""

    procedure_id: Identifier
    case_id: Identifier
