"""Dead letters: every input record that cannot be decoded or validated goes to ``dead-letters``.

The record value is :class:`schemas.events.DeadLetter` JSON (reason, field, message, source topic,
partition, offset, key, payload as UTF-8 text); the exact raw bytes travel in the ``raw`` header
(the JSON ``payload`` is lossy for non-UTF-8 input and truncated past 64 kB). The record is keyed by
the source record's key, so a facility's dead letters stay in order. Nothing here raises: a refused
record is counted, logged and forwarded, and the agent carries on.
"""

from __future__ import annotations

import datetime as dt

import structlog

from schemas.errors import InvalidEvent
from schemas.events import DeadLetter
from streams import metrics
from streams.sinks.kafka import KafkaSink

log = structlog.get_logger(__name__)

MISROUTED = "misrouted"
"""Reason for a valid event whose Kafka key is not its ``subject`` (it would land on a partition
that does not own the facility)."""


def dead_letter_headers(letter: DeadLetter, raw: bytes) -> list[tuple[str, bytes]]:
    """Headers of a dead-letter record: routing facts for consumers that skip the JSON, raw bytes."""
    return [
        ("reason", letter.reason.encode()),
        ("source-topic", letter.topic.encode()),
        ("source-partition", str(letter.partition).encode()),
        ("source-offset", str(letter.offset).encode()),
        ("raw", raw),
    ]


class DeadLetters:
    """Builds dead letters and hands them to the Kafka sink (flushed with the other sinks)."""

    def __init__(self, sink: KafkaSink, topic: str) -> None:
        self._sink = sink
        self._topic = topic

    def refuse(
        self,
        error: InvalidEvent,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        raw: bytes | None,
        received_at: dt.datetime,
    ) -> None:
        """Send one refused record to ``dead-letters`` (asynchronously; see ``KafkaSink.flush``)."""
        payload = raw if raw is not None else b""
        letter = DeadLetter.from_error(
            error,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            payload=payload,
            received_at=received_at,
        )
        metrics.DEAD_LETTERS.labels(reason=letter.reason).inc()
        log.info(
            "dead_letter",
            reason=letter.reason,
            field=letter.field,
            topic=topic,
            partition=partition,
            offset=offset,
        )
        self._sink.send(
            self._topic, key, letter.to_json(), headers=dead_letter_headers(letter, payload)
        )
