"""The CloudEvents 1.0 envelope, one concrete class per event family, their union and
:func:`make_event`.

Each concrete envelope class pins ``type`` to its event types and ``data`` to its data model;
:data:`AnyEvent` is the union discriminated on ``type``. ``subject`` is the facility id (lowercase
slug) and is required; unknown envelope attributes are refused — the contract has no extension
attributes today; add them here when one is needed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from schemas.events.base import EventData, FacilityId, Identifier, Timestamp
from schemas.events.closures import ClosureData, ClosureEndData
from schemas.events.equipment import EquipmentStatusData
from schemas.events.feedback import (
    ComplaintAcknowledgedData,
    ComplaintAnsweredData,
    ComplaintFiledData,
    SurveyData,
)
from schemas.events.signals import CaseData, HeadcountData, PassageData, SlotsData, TicketData
from schemas.text import line

__all__ = [
    "ANY_EVENT",
    "DATA_MODEL",
    "EVENT_CLASS",
    "EVENT_CLASSES",
    "AnyEvent",
    "CaseEvent",
    "ClosureDeclared",
    "ClosureEnded",
    "CloudEvent",
    "ComplaintAcknowledged",
    "ComplaintAnswered",
    "ComplaintFiled",
    "EquipmentStatusChanged",
    "EventType",
    "HeadcountMeasured",
    "PassageCounted",
    "SlotsPublished",
    "SurveySubmitted",
    "TicketEvent",
    "make_event",
]


class EventType(StrEnum):
    """Every CloudEvents ``type`` of the contract (DESIGN.md, « Kafka topics »)."""

    PASSAGE_COUNTED = "fr.paris.facilities.passage.counted"
    HEADCOUNT_MEASURED = "fr.paris.facilities.headcount.measured"
    TICKET_ISSUED = "fr.paris.facilities.ticket.issued"
    TICKET_CALLED = "fr.paris.facilities.ticket.called"
    TICKET_SERVED = "fr.paris.facilities.ticket.served"
    TICKET_ABANDONED = "fr.paris.facilities.ticket.abandoned"
    SLOTS_PUBLISHED = "fr.paris.facilities.slots.published"
    CLOSURE_DECLARED = "fr.paris.facilities.closure.declared"
    CLOSURE_UPDATED = "fr.paris.facilities.closure.updated"
    CLOSURE_ENDED = "fr.paris.facilities.closure.ended"
    CASE_OPENED = "fr.paris.facilities.case.opened"
    CASE_CLOSED = "fr.paris.facilities.case.closed"
    EQUIPMENT_STATUS_CHANGED = "fr.paris.facilities.equipment.status_changed"
    SURVEY_SUBMITTED = "fr.paris.feedback.survey.submitted"
    COMPLAINT_FILED = "fr.paris.feedback.complaint.filed"
    COMPLAINT_ACKNOWLEDGED = "fr.paris.feedback.complaint.acknowledged"
    COMPLAINT_ANSWERED = "fr.paris.feedback.complaint.answered"


class CloudEvent(BaseModel):
    """CloudEvents 1.0 envelope (structured JSON mode); subclasses pin ``type`` and ``data``.

    ``id`` is the idempotency key; ``subject`` the facility id (also the Kafka key); ``time`` when
    it happened at the source (events may arrive late or out of order).
    """

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        strict=True,
        json_schema_extra={"x-cloudevents-version": "1.0"},
    )

    specversion: Literal["1.0"]
    id: Identifier
    source: line(500)  # type: ignore[valid-type]
    type: EventType = Field(strict=False)
    subject: FacilityId
    time: Timestamp
    datacontenttype: Literal["application/json"] = "application/json"
    data: EventData

    event_types: ClassVar[tuple[EventType, ...]] = ()
    """The ``type`` values a concrete subclass accepts."""

    def to_json(self) -> bytes:
        """Structured-mode JSON bytes (what goes on Kafka)."""
        return self.__pydantic_serializer__.to_json(self)


class PassageCounted(CloudEvent):
    """``fr.paris.facilities.passage.counted`` on ``facility-passages``."""

    type: Literal[EventType.PASSAGE_COUNTED]
    data: PassageData
    event_types = (EventType.PASSAGE_COUNTED,)


class HeadcountMeasured(CloudEvent):
    """``fr.paris.facilities.headcount.measured`` on ``facility-headcounts``."""

    type: Literal[EventType.HEADCOUNT_MEASURED]
    data: HeadcountData
    event_types = (EventType.HEADCOUNT_MEASURED,)


class TicketEvent(CloudEvent):
    """``fr.paris.facilities.ticket.{issued,called,served,abandoned}`` on ``facility-tickets``."""

    type: Literal[
        EventType.TICKET_ISSUED,
        EventType.TICKET_CALLED,
        EventType.TICKET_SERVED,
        EventType.TICKET_ABANDONED,
    ]
    data: TicketData
    event_types = (
        EventType.TICKET_ISSUED,
        EventType.TICKET_CALLED,
        EventType.TICKET_SERVED,
        EventType.TICKET_ABANDONED,
    )


class SlotsPublished(CloudEvent):
    """``fr.paris.facilities.slots.published`` on ``facility-slots``."""

    type: Literal[EventType.SLOTS_PUBLISHED]
    data: SlotsData
    event_types = (EventType.SLOTS_PUBLISHED,)


class ClosureDeclared(CloudEvent):
    """``fr.paris.facilities.closure.{declared,updated}`` on ``facility-closures``."""

    type: Literal[EventType.CLOSURE_DECLARED, EventType.CLOSURE_UPDATED]
    data: ClosureData
    event_types = (EventType.CLOSURE_DECLARED, EventType.CLOSURE_UPDATED)


class ClosureEnded(CloudEvent):
    """``fr.paris.facilities.closure.ended`` on ``facility-closures``."""

    type: Literal[EventType.CLOSURE_ENDED]
    data: ClosureEndData
    event_types = (EventType.CLOSURE_ENDED,)


class CaseEvent(CloudEvent):
    """``fr.paris.facilities.case.{opened,closed}`` on ``facility-cases``."""

    type: Literal[EventType.CASE_OPENED, EventType.CASE_CLOSED]
    data: CaseData
    event_types = (EventType.CASE_OPENED, EventType.CASE_CLOSED)


class EquipmentStatusChanged(CloudEvent):
    """``fr.paris.facilities.equipment.status_changed`` on ``facility-equipment``."""

    type: Literal[EventType.EQUIPMENT_STATUS_CHANGED]
    data: EquipmentStatusData
    event_types = (EventType.EQUIPMENT_STATUS_CHANGED,)


class SurveySubmitted(CloudEvent):
    """``fr.paris.feedback.survey.submitted`` on ``feedback-surveys``."""

    type: Literal[EventType.SURVEY_SUBMITTED]
    data: SurveyData
    event_types = (EventType.SURVEY_SUBMITTED,)


class ComplaintFiled(CloudEvent):
    """``fr.paris.feedback.complaint.filed`` on ``feedback-complaints``."""

    type: Literal[EventType.COMPLAINT_FILED]
    data: ComplaintFiledData
    event_types = (EventType.COMPLAINT_FILED,)


class ComplaintAcknowledged(CloudEvent):
    """``fr.paris.feedback.complaint.acknowledged`` on ``feedback-complaints``."""

    type: Literal[EventType.COMPLAINT_ACKNOWLEDGED]
    data: ComplaintAcknowledgedData
    event_types = (EventType.COMPLAINT_ACKNOWLEDGED,)


class ComplaintAnswered(CloudEvent):
    """``fr.paris.feedback.complaint.answered`` on ``feedback-complaints``."""

    type: Literal[EventType.COMPLAINT_ANSWERED]
    data: ComplaintAnsweredData
    event_types = (EventType.COMPLAINT_ANSWERED,)


EVENT_CLASSES: tuple[type[CloudEvent], ...] = (
    PassageCounted,
    HeadcountMeasured,
    TicketEvent,
    SlotsPublished,
    ClosureDeclared,
    ClosureEnded,
    CaseEvent,
    EquipmentStatusChanged,
    SurveySubmitted,
    ComplaintFiled,
    ComplaintAcknowledged,
    ComplaintAnswered,
)

EVENT_CLASS: dict[EventType, type[CloudEvent]] = {
    event_type: cls for cls in EVENT_CLASSES for event_type in cls.event_types
}
"""The envelope class of each event type."""

DATA_MODEL: dict[EventType, type[EventData]] = {
    event_type: cls.model_fields["data"].annotation  # type: ignore[misc]
    for event_type, cls in EVENT_CLASS.items()
}
"""The ``data`` model of each event type."""

AnyEvent: TypeAlias = Annotated[
    PassageCounted
    | HeadcountMeasured
    | TicketEvent
    | SlotsPublished
    | ClosureDeclared
    | ClosureEnded
    | CaseEvent
    | EquipmentStatusChanged
    | SurveySubmitted
    | ComplaintFiled
    | ComplaintAcknowledged
    | ComplaintAnswered,
    Field(discriminator="type"),
]
"""Any event of the contract; validating it picks the class from ``type``."""

ANY_EVENT: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)


def make_event(
    type: EventType,
    subject: str,
    data: EventData | dict[str, Any],
    *,
    source: str,
    time: dt.datetime | None = None,
    id: str | None = None,
) -> CloudEvent:
    """Build a validated event; ``id`` defaults to a UUID4, ``time`` to now (UTC, with offset).

    ``data`` is the type's data model or a dict of its fields. Raises
    :class:`~schemas.errors.InvalidEvent` exactly as :func:`schemas.codec.decode_event` would.
    """
    from schemas.codec import invalid_event_from  # codec imports schemas.events

    event_type = EventType(type)
    envelope = {
        "specversion": "1.0",
        "id": id if id is not None else str(uuid.uuid4()),
        "source": source,
        "type": event_type,
        "subject": subject,
        "time": time if time is not None else dt.datetime.now(dt.UTC),
        "datacontenttype": "application/json",
        "data": data,
    }
    try:
        return EVENT_CLASS[event_type].model_validate(envelope)
    except ValidationError as exc:
        raise invalid_event_from(exc, discriminated=False) from None
