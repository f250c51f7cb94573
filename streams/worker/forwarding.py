"""Forwarding: a valid event read on a partition that does not own its facility is sent on.

A producer that hashes keys with CRC32 (librdkafka's default) instead of Java's murmur2 puts some
facilities' records on the wrong partition. Such a record is *forwarded* to the owning partition of
the same topic, bytes and headers kept, as Kafka Streams repartitions; a :data:`FORWARDED_FROM`
header says where it was first read. The forward is a reliable record of the Kafka sink: if it
cannot be delivered, the record is parked in ``dead-letters`` instead.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import structlog

from schemas.errors import InvalidEvent, Reason
from streams import metrics
from streams.deadletters import DeadLetters
from streams.sinks.kafka import KafkaSink, Outgoing

FORWARDED_FROM = "forwarded-from"
"""Header added to a forwarded record: ``<topic>/<partition>/<offset>`` it was first read at."""

log = structlog.get_logger(__name__)


def forward(
    kafka: KafkaSink,
    dead: DeadLetters,
    topic: str,
    partition: int,
    rec: Any,
    fid: str,
    target: int,
    now: dt.datetime,
) -> None:
    """Send a valid event read on the wrong partition to its facility's partition."""
    offset = rec.offset
    headers = [
        *headers_of(rec),
        (FORWARDED_FROM, f"{topic}/{partition}/{offset}".encode()),
    ]

    def refused(error: BaseException) -> Outgoing:
        """The forward cannot be delivered: park the record in dead-letters instead."""
        _, letter = dead.build(
            InvalidEvent(
                Reason.PERMANENT_ERROR,
                "subject",
                f"could not forward to partition {target} of {topic}: {error!r}",
            ),
            topic=topic,
            partition=partition,
            offset=offset,
            key=rec.key,
            raw=rec.value,
            received_at=now,
        )
        return letter

    kafka.send_reliable(
        Outgoing(topic, fid.encode(), rec.value, headers, partition=target, fallback=refused)
    )
    metrics.FORWARDED.labels(topic=topic).inc()
    log.info(
        "record_forwarded",
        facility_id=fid,
        topic=topic,
        partition=partition,
        offset=offset,
        to_partition=target,
    )


def headers_of(rec: Any) -> list[tuple[str, bytes]]:
    """A consumed record's headers as a list of (name, bytes) (aiokafka, faust or test record)."""
    headers = getattr(rec, "headers", None) or ()
    if isinstance(headers, dict):
        headers = headers.items()
    return [(str(name), bytes(value)) for name, value in headers]
