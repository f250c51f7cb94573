"""Outbox → Kafka: publishes declarations' events — and complaints and survey answers — once
their transaction committed, and relays what a crash left behind, whichever process wrote it.

:class:`ClosureBus` publishes through the API process's one
:class:`~producers.publisher.Publisher` (:meth:`api.kafka.KafkaClients.publisher`; the event's
contract topic, key: the facility id) and marks the outbox row once Kafka acknowledged it. Its
relay re-sends, every few seconds, events left unacknowledged (consumers deduplicate on the event
id). The outbox is the durable record, the Publisher's spool only a per-process buffer.

The relay starts with the application (:meth:`ClosureBus.start_relay`, from the lifespan: an API
process that never publishes still drains what a dead one committed); the publisher connects on
first use. The bus is stopped by the lifespan, before the Kafka clients are closed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import orjson
from psycopg import AsyncConnection

from api.closures import store
from api.kafka import KafkaClients
from producers.errors import ProducerError, SpoolFull, SpoolLocked
from producers.spool import Record
from schemas import topics
from schemas.codec import decode_event, encode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import CloudEvent, DeadLetter

__all__ = ["ClosureBus", "Connect"]

logger = logging.getLogger("paris_live.api.agents")

Connect = Callable[[], AbstractAsyncContextManager[AsyncConnection[Any]]]
"""A pooled PostgreSQL connection (``functools.partial(api.routes.history.pg, ctx)``)."""


class ClosureBus:
    """Publishes outbox events after their transaction committed; relays what was left behind."""

    RELAY_EVERY_S = 5.0
    RELAY_AGE_S = 5.0
    RELAY_BATCH = 100

    def __init__(self, kafka: KafkaClients, connect: Connect) -> None:
        self.kafka = kafka
        self.connect = connect
        self._relay: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        """Connect the publisher and start the relay (once; later calls return at once)."""
        if self._relay is None:
            async with self._lock:
                if self._relay is None:
                    await self.kafka.publisher()
                    self.start_relay()

    def start_relay(self) -> None:
        """Start the relay without connecting to Kafka (it connects when there is work)."""
        if self._relay is None:
            self._relay = asyncio.create_task(self._relay_loop(), name="closure-outbox-relay")

    async def close(self) -> None:
        """Stop the relay; the publisher is the Kafka clients' to close."""
        async with self._lock:
            relay, self._relay = self._relay, None
        if relay is not None:
            relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await relay

    async def publish(self, event: CloudEvent, *, routed_to: str | None = None) -> None:
        """Publish after commit; the outbox row is marked once Kafka acknowledged it (and, with
        ``routed_to``, its copy on ``complaints-routed``)."""
        try:
            await self.start()
            sent = await self._send(event, routed_to)
        except Exception as exc:  # the relay retries: the change is recorded either way
            logger.warning("outbox event %s not published yet: %r", event.id, exc)
            return
        if sent:
            async with self.connect() as conn:
                await store.mark_published(conn, [event.id])

    async def _send(self, event: CloudEvent, routed_to: str | None) -> bool:
        """The event to its contract topic, then to ``complaints-routed``; whether both were
        acknowledged by Kafka (a spooled record is not)."""
        publisher = await self.kafka.publisher()
        result = await publisher.publish(event)
        if not result.sent:
            return False
        if routed_to is None:
            return True
        topic = publisher.settings.topic(topics.COMPLAINTS_ROUTED)
        routed = await publisher.publish_records(
            [Record(topic, routed_to, event.id, encode_event(event))]
        )
        return routed.sent == 1

    async def relay_once(self) -> int:
        """Re-publish events older than ``RELAY_AGE_S`` that were never acknowledged.

        Rows go one by one, oldest first. A row that can never be published — its event no
        longer decodes, or the producer refuses it for good (too large) — is set aside: a
        dead letter (``reason``, ``topic: closure_outbox``, the stored event as payload) goes to
        ``dead-letters`` and, once Kafka acknowledged it, the row is marked done, so it never
        blocks the rows behind it. A transient failure (Kafka unreachable, spool full) ends the
        round; the row and those after it are retried in the next one, in order."""
        sent = 0
        async with self.connect() as conn, conn.transaction():
            rows = await store.unpublished(conn, self.RELAY_AGE_S, self.RELAY_BATCH)
            if not rows:  # an idle process does not connect to Kafka for nothing
                return 0
            publisher = await self.kafka.publisher()
            if not publisher.kafka_up:
                return 0
            done: list[str] = []
            for event_id, facility_id, stored, routed_to in rows:
                raw = orjson.dumps(stored)
                try:
                    ok = await self._send(decode_event(raw), routed_to)
                except InvalidEvent as exc:
                    parked = await self._dead_letter(event_id, facility_id, raw, exc)
                except (SpoolFull, SpoolLocked) as exc:
                    logger.warning("closure outbox relay paused: %r", exc)
                    break
                except ProducerError as exc:  # refused for good (e.g. larger than a batch)
                    why = InvalidEvent(str(Reason.PERMANENT_ERROR), None, str(exc))
                    parked = await self._dead_letter(event_id, facility_id, raw, why)
                else:
                    if not ok:
                        break
                    sent += 1
                    done.append(event_id)
                    continue
                if not parked:
                    break
                done.append(event_id)
            if done:
                await store.mark_published(conn, done)
        return sent

    async def _dead_letter(
        self, event_id: str, facility_id: str, raw: bytes, error: InvalidEvent
    ) -> bool:
        """Send the dead letter of an outbox row; whether Kafka acknowledged it."""
        publisher = await self.kafka.publisher()
        letter = DeadLetter.from_error(
            error,
            topic="closure_outbox",
            partition=0,
            offset=0,
            key=facility_id.encode(),
            payload=raw,
        )
        record = Record(
            publisher.settings.topic(topics.DEAD_LETTERS),
            facility_id,
            f"dead-letter-{event_id}",
            letter.to_json(),
        )
        result = await publisher.publish_records([record])
        logger.error(
            "closure outbox row %s set aside (%s): %s", event_id, error.reason, error.message
        )
        return result.sent == 1

    async def _relay_loop(self) -> None:
        while True:
            await asyncio.sleep(self.RELAY_EVERY_S)
            try:
                sent = await self.relay_once()
                if sent:
                    logger.info("relayed %d closure events", sent)
            except Exception as exc:
                logger.warning("closure outbox relay failed: %r", exc)
