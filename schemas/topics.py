"""Kafka topic names and their properties — the only place a topic name is spelled.

Names here are *base* names; a deployment prefixes them with ``Settings.topic(base)`` (tests use a
random prefix). Every key is UTF-8: the facility id, except ``complaints-routed`` (competent service
id). The facility input topics are co-partitioned: same key, same partition count, so one stream
worker sees every event of a facility.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from schemas.errors import InvalidEvent, Reason
from schemas.events import EventType

PASSAGES = "facility-passages"
HEADCOUNTS = "facility-headcounts"
TICKETS = "facility-tickets"
SLOTS = "facility-slots"
CLOSURES = "facility-closures"
CASES = "facility-cases"
EQUIPMENT = "facility-equipment"
SURVEYS = "feedback-surveys"
COMPLAINTS = "feedback-complaints"
COMPLAINTS_ROUTED = "complaints-routed"
STATUS = "facility-status"
DEAD_LETTERS = "dead-letters"

DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Topic:
    """One Kafka topic of the contract.

    ``key`` names what the record key holds (``facility_id`` or ``service_id``); ``event_types`` the
    CloudEvents types it carries (empty for ``facility-status``, which carries ``FacilityStatus``
    JSON, and ``dead-letters``, which carries ``DeadLetter`` JSON); ``co_partitioned`` topics must
    all have the same partition count; ``retention_ms`` ``None`` means kept forever (compacted).
    """

    name: str
    key: str
    cleanup_policy: Literal["delete", "compact"]
    event_types: tuple[str, ...]
    co_partitioned: bool
    retention_ms: int | None


def _input(name: str, *types: EventType, days: int = 7) -> Topic:
    return Topic(name, "facility_id", "delete", tuple(types), True, days * DAY_MS)


TOPICS: dict[str, Topic] = {
    t.name: t
    for t in (
        _input(PASSAGES, EventType.PASSAGE_COUNTED),
        _input(HEADCOUNTS, EventType.HEADCOUNT_MEASURED),
        _input(
            TICKETS,
            EventType.TICKET_ISSUED,
            EventType.TICKET_CALLED,
            EventType.TICKET_SERVED,
            EventType.TICKET_ABANDONED,
        ),
        _input(SLOTS, EventType.SLOTS_PUBLISHED),
        _input(
            CLOSURES,
            EventType.CLOSURE_DECLARED,
            EventType.CLOSURE_UPDATED,
            EventType.CLOSURE_ENDED,
            days=90,
        ),
        _input(CASES, EventType.CASE_OPENED, EventType.CASE_CLOSED, days=90),
        _input(EQUIPMENT, EventType.EQUIPMENT_STATUS_CHANGED, days=90),
        Topic(
            SURVEYS,
            "facility_id",
            "delete",
            (EventType.SURVEY_SUBMITTED,),
            False,
            90 * DAY_MS,
        ),
        Topic(
            COMPLAINTS,
            "facility_id",
            "delete",
            (
                EventType.COMPLAINT_FILED,
                EventType.COMPLAINT_ACKNOWLEDGED,
                EventType.COMPLAINT_ANSWERED,
            ),
            False,
            365 * DAY_MS,
        ),
        Topic(
            COMPLAINTS_ROUTED,
            "service_id",
            "delete",
            (
                EventType.COMPLAINT_FILED,
                EventType.COMPLAINT_ACKNOWLEDGED,
                EventType.COMPLAINT_ANSWERED,
            ),
            False,
            365 * DAY_MS,
        ),
        Topic(STATUS, "facility_id", "compact", (), False, None),
        Topic(DEAD_LETTERS, "facility_id", "delete", (), False, 30 * DAY_MS),
    )
}
"""Every topic of the contract by base name."""

INPUT_TOPICS: tuple[str, ...] = tuple(t.name for t in TOPICS.values() if t.co_partitioned)
"""The co-partitioned facility input topics the facility state machine consumes."""

_TOPIC_OF_TYPE: dict[str, str] = {
    event_type: topic.name
    for topic in TOPICS.values()
    if topic.name != COMPLAINTS_ROUTED
    for event_type in topic.event_types
}


def topic_for_type(event_type: str) -> str:
    """The base topic a producer writes an event of ``event_type`` to.

    Complaints go to ``feedback-complaints``; ``complaints-routed`` is derived by the router.
    Raises :class:`~schemas.errors.InvalidEvent` (``unknown_type``) for a type outside the contract.
    """
    try:
        return _TOPIC_OF_TYPE[event_type]
    except KeyError:
        raise InvalidEvent(
            Reason.UNKNOWN_TYPE,
            "type",
            f"type: {event_type!r} is not an event type of the contract",
        ) from None
