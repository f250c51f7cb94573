"""Dead letters: every input record that cannot be processed goes to ``dead-letters``.

The record value is :class:`schemas.events.DeadLetter` JSON (reason, field, message, source topic,
partition, offset, key, payload as UTF-8 text, size and SHA-256 of the raw value); the raw bytes
travel in the ``raw`` header — at most ``max_raw_bytes`` of them (64 KiB by default,
``PARIS_LIVE_DEAD_LETTER_MAX_RAW_BYTES``): past that they are cut, and the ``raw-size`` /
``raw-sha256`` headers (and the JSON) still identify the whole value. The record is keyed by the
source record's key, so a facility's dead letters stay in order.

Nothing here raises: a refused record is counted, logged and queued as a *reliable* record of the
:class:`~streams.sinks.kafka.KafkaSink` — delivered on its own, retried while Kafka is away, and
if the brokers refuse it for good (too large for the topic), replaced by a dead letter without
the raw bytes. The caller commits the source offset only once the dead letter is settled.
"""

from __future__ import annotations

import datetime as dt

import structlog

from schemas.errors import InvalidEvent
from schemas.events import DeadLetter
from streams import metrics
from streams.sinks.kafka import KafkaSink, Outgoing

log = structlog.get_logger(__name__)

DEFAULT_MAX_RAW_BYTES = 64 * 1024
"""Raw bytes carried by a dead letter's ``raw`` header (the rest is cut, size and hash kept)."""


def dead_letter_headers(letter: DeadLetter, raw: bytes) -> list[tuple[str, bytes]]:
    """Headers of a dead-letter record: routing facts for consumers that skip the JSON, raw bytes
    (as given: the caller cuts them), and the size and hash of the whole raw value."""
    headers = [
        ("reason", letter.reason.encode()),
        ("source-topic", letter.topic.encode()),
        ("source-partition", str(letter.partition).encode()),
        ("source-offset", str(letter.offset).encode()),
        ("raw", raw),
    ]
    if letter.raw_size is not None:
        headers.append(("raw-size", str(letter.raw_size).encode()))
    if letter.raw_sha256 is not None:
        headers.append(("raw-sha256", letter.raw_sha256.encode()))
    if letter.raw_truncated:
        headers.append(("raw-truncated", b"true"))
    return headers


def dead_letter_record(
    error: InvalidEvent,
    *,
    dead_topic: str,
    topic: str,
    partition: int,
    offset: int,
    key: bytes | None,
    raw: bytes,
    received_at: dt.datetime | None = None,
    max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES,
) -> tuple[DeadLetter, Outgoing]:
    """The dead letter of a refused record and the Kafka record that carries it."""
    truncated = len(raw) > max_raw_bytes
    letter = DeadLetter.from_error(
        error,
        topic=topic,
        partition=partition,
        offset=offset,
        key=key,
        payload=raw,
        received_at=received_at,
        raw_truncated=truncated,
    )
    carried = raw[:max_raw_bytes] if truncated else raw

    def without_raw(refused: BaseException) -> Outgoing | None:
        """The same dead letter without payload nor raw bytes (size and hash kept)."""
        if not carried and not letter.payload:
            return None  # already bare: nothing smaller to send
        bare = letter.model_copy(
            update={
                "payload": "",
                "raw_truncated": True,
                "message": f"{letter.message} [raw bytes left out: {type(refused).__name__}]",
            }
        )
        return Outgoing(dead_topic, key, bare.to_json(), dead_letter_headers(bare, b""))

    record = Outgoing(
        dead_topic,
        key,
        letter.to_json(),
        dead_letter_headers(letter, carried),
        fallback=without_raw,
    )
    return letter, record


class DeadLetters:
    """Builds dead letters and queues them on the Kafka sink (flushed with the other sinks)."""

    def __init__(
        self, sink: KafkaSink, topic: str, *, max_raw_bytes: int = DEFAULT_MAX_RAW_BYTES
    ) -> None:
        self._sink = sink
        self._topic = topic
        self._max_raw = max_raw_bytes

    @property
    def topic(self) -> str:
        return self._topic

    def refuse(
        self,
        error: InvalidEvent,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        raw: bytes | None,
        received_at: dt.datetime | None = None,
    ) -> int:
        """Queue one refused record for ``dead-letters``; returns its sequence number on the sink
        (settled once :attr:`KafkaSink.settled_through` reaches it)."""
        letter, record = self.build(
            error,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            raw=raw,
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
            raw_size=letter.raw_size,
        )
        return self._sink.send_reliable(record)

    def build(
        self,
        error: InvalidEvent,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        raw: bytes | None,
        received_at: dt.datetime | None = None,
    ) -> tuple[DeadLetter, Outgoing]:
        """The dead letter of a refused record and its Kafka record, not queued yet."""
        return dead_letter_record(
            error,
            dead_topic=self._topic,
            topic=topic,
            partition=partition,
            offset=offset,
            key=key,
            raw=raw if raw is not None else b"",
            received_at=received_at,
            max_raw_bytes=self._max_raw,
        )
