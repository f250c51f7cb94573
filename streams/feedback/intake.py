"""What the feedback job reads: a Kafka record decoded into an event, or parked in ``dead-letters``.

No record stops the job: an undecodable or invalid record, an event dated more than
``event_max_future_s`` ahead, and an event PostgreSQL refuses for good
(:data:`streams.feedback.store.PERMANENT_ERRORS`) are each sent to ``dead-letters`` with the reason
(:func:`park`), and the flow continues.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import structlog

from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import CloudEvent
from streams.core.policy import TimeWindow, reference_instant
from streams.deadletters import DeadLetters

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Item:
    """A decoded record of a batch and where it came from."""

    topic: str
    partition: int
    record: Any
    event: CloudEvent


def decode(record: Any, window: TimeWindow, now_s: float) -> CloudEvent:
    """The event a record carries; :class:`InvalidEvent` if it is undecodable, invalid, or dated
    outside ``window`` (judged against ``now_s`` or the record's earlier Kafka timestamp, see
    :func:`~streams.core.policy.reference_instant`)."""
    event = decode_event(record.value or b"")
    refusal = window.refusal(event.time.timestamp(), reference_instant(now_s, record.timestamp))
    if refusal is not None:
        raise InvalidEvent(Reason.TIME_OUT_OF_RANGE, "time", refusal)
    return event


def refused_by_database(error: Exception) -> InvalidEvent:
    """The dead-letter reason of an event PostgreSQL refused for good."""
    sqlstate = getattr(error, "sqlstate", None)
    return InvalidEvent(
        Reason.PERMANENT_ERROR,
        None,
        f"PostgreSQL refused the event ({sqlstate}): {str(error).strip()}",
    )


def park(dead: DeadLetters, error: InvalidEvent, topic: str, partition: int, record: Any) -> None:
    """Send a refused record to ``dead-letters`` with the reason (acknowledged later: the job
    commits its offsets only once the sink has settled)."""
    dead.refuse(
        error,
        topic=topic,
        partition=partition,
        offset=record.offset,
        key=record.key,
        raw=record.value or b"",
    )
    log.warning(
        "feedback_dead_letter",
        reason=str(error.reason),
        field=error.field,
        topic=topic,
        partition=partition,
        offset=record.offset,
    )
