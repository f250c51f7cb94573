"""CloudEvents 1.0 (structured JSON mode) carried by every Paris Live input topic.

One pydantic model per event family; each concrete envelope class pins ``type`` to its event types
and ``data`` to its data model, and :data:`AnyEvent` is the union discriminated on ``type``. The
same classes serve producers (:func:`make_event`), the stream processor
(:func:`schemas.codec.decode_event`), the API and the generated JSON Schema / AsyncAPI documents.

Strictness (deliberate, tested):

* unknown attributes in the envelope or in ``data`` are refused — the contract has no extension
  attributes today; add them here when one is needed;
* numbers, booleans and timestamps are not coerced from strings (``"3"`` is not a count,
  ``1700000000`` is not a ``time``); timestamps must carry a UTC offset;
* ``subject`` is the facility id (lowercase slug) and is required.

Closure events: ``.declared`` and ``.updated`` carry the full :class:`ClosureData` (an update
replaces the closure, it is not a patch, so replaying it is harmless); ``.ended`` carries
:class:`ClosureEndData` — only ``closure_id`` is required, the end time is the event ``time``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, TypeAlias

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    WithJsonSchema,
)

from schemas.errors import InvalidEvent
from schemas.text import Line, line, text

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
    SURVEY_SUBMITTED = "fr.paris.feedback.survey.submitted"
    COMPLAINT_FILED = "fr.paris.feedback.complaint.filed"
    COMPLAINT_ACKNOWLEDGED = "fr.paris.feedback.complaint.acknowledged"
    COMPLAINT_ANSWERED = "fr.paris.feedback.complaint.answered"


# ---------------------------------------------------------------------------------------------
# data models


class EventData(BaseModel):
    """Base of every ``data`` model: frozen, unknown fields refused, no string→number coercion."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


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


class LocalizedText(BaseModel):
    """Text a citizen reads: French always, English when available."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    fr: text(2000)  # type: ignore[valid-type]
    en: text(2000) | None = None  # type: ignore[valid-type]


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


class CaseData(EventData):
    """A case (dossier) of an administrative procedure opened or closed — processing délais."""

    procedure_id: Identifier
    case_id: Identifier


class GoldenRule(StrEnum):
    """The four golden rules of the « Vous simplifier Paris » charter."""

    INFORMATION = "information"
    """Real-time information on how to access the facility."""
    DELAYS = "delays"
    """The delays to expect (queue, appointment, processing)."""
    ORIENTATION = "orientation"
    """Being sent to the competent service."""
    WELCOME = "welcome"
    """A kind welcome."""


Channel: TypeAlias = Literal["on_site", "web", "phone", "mail", "screen"]
"""Where a survey answer or complaint was collected."""

FreeText: TypeAlias = text(5000)  # type: ignore[valid-type]
"""What a person typed: line breaks kept, other control characters refused (:mod:`schemas.text`)."""


Rating: TypeAlias = Annotated[int, Field(ge=1, le=5)]


class RuleRatings(EventData):
    """A 1–5 rating of each golden rule of the charter; ``None`` when the user had no opinion."""

    information: Rating | None = None
    delays: Rating | None = None
    orientation: Rating | None = None
    welcome: Rating | None = None


class SurveyData(EventData):
    """One answer to the satisfaction survey about a visit.

    ``rating`` is the overall satisfaction (1 = very unhappy … 5 = very happy); ``rules_not_kept``
    lists the charter rules the user says were not honoured (empty when all were).
    """

    response_id: Identifier
    service_id: Identifier | None = None
    channel: Channel
    rating: int = Field(ge=1, le=5)
    rules_not_kept: list[Annotated[GoldenRule, Field(strict=False)]] = Field(default_factory=list)
    comment: FreeText | None = None
    language: Literal["fr", "en"] = "fr"
    rule_ratings: RuleRatings | None = None
    """1–5 per golden rule (a rule left unrated is ``null``)."""
    liked: FreeText | None = None
    """« Ce qui est appréciable » / what was good."""
    to_improve: FreeText | None = None
    """« Ce qui est améliorable » / what could be better."""
    went_wrong: FreeText | None = None
    """« Ce qui ne va pas » / what went wrong."""


class ComplaintFiledData(EventData):
    """A complaint filed by a user: which rule was not kept, at which service, in their words.

    ``contact`` (an e-mail or postal address) is personal data: it never leaves the complaint
    topics and is not stored in the history tables.
    """

    complaint_id: Identifier
    service_id: Identifier | None = None
    rule: Annotated[GoldenRule, Field(strict=False)] | None = None
    channel: Channel
    text: FreeText
    contact: line(320, min_length=3) | None = None  # type: ignore[valid-type]
    language: Literal["fr", "en"] = "fr"
    topic: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    """Nature of the complaint within its rule (``queue``, ``staff_behaviour`` …, see
    :mod:`schemas.routing`); with ``rule`` and the facility type it picks ``service_id``."""
    answer_due_at: Timestamp | None = None
    """The response délai committed when the complaint was filed (routing table)."""


class ComplaintAcknowledgedData(EventData):
    """The competent service acknowledged a complaint and commits to answer by ``answer_due_at``."""

    complaint_id: Identifier
    service_id: Identifier
    acknowledged_by: Identifier
    answer_due_at: Timestamp


class ComplaintAnsweredData(EventData):
    """The competent service answered a complaint."""

    complaint_id: Identifier
    service_id: Identifier
    answered_by: Identifier
    answer: LocalizedText


# ---------------------------------------------------------------------------------------------
# envelope


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
    from schemas.codec import invalid_event_from  # codec imports this module

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


class DeadLetter(BaseModel):
    """A record of an input topic that could not be decoded or validated (``dead-letters``).

    ``payload`` is the raw value decoded as UTF-8 (invalid bytes replaced), truncated to
    :data:`DEAD_LETTER_MAX_PAYLOAD` characters; ``key`` likewise. ``raw_size`` and ``raw_sha256``
    are the length and SHA-256 (hex) of the *whole* raw value, so a truncated payload can still be
    matched to the record it came from; ``raw_truncated`` says whether the raw bytes the
    dead-letter record carries (its ``raw`` header) are cut. The dead-letter record is keyed by
    the source record's key.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    reason: str
    field: str | None
    message: str
    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None
    payload: str
    received_at: Timestamp
    raw_size: int | None = Field(default=None, ge=0)
    raw_sha256: str | None = None
    raw_truncated: bool = False

    @classmethod
    def from_error(
        cls,
        error: InvalidEvent,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        payload: bytes,
        received_at: dt.datetime | None = None,
        raw_truncated: bool = False,
    ) -> DeadLetter:
        """The dead letter of a refused record (``payload``: its whole raw value)."""
        return cls(
            reason=str(error.reason),
            field=error.field,
            message=error.message,
            topic=topic,
            partition=partition,
            offset=offset,
            key=None if key is None else key.decode("utf-8", "replace")[:DEAD_LETTER_MAX_PAYLOAD],
            payload=payload.decode("utf-8", "replace")[:DEAD_LETTER_MAX_PAYLOAD],
            received_at=received_at if received_at is not None else dt.datetime.now(dt.UTC),
            raw_size=len(payload),
            raw_sha256=hashlib.sha256(payload).hexdigest(),
            raw_truncated=raw_truncated,
        )

    def to_json(self) -> bytes:
        """JSON bytes of the dead letter."""
        return self.__pydantic_serializer__.to_json(self)


DEAD_LETTER_MAX_PAYLOAD = 64_000
