"""The common publisher of every producer: Kafka when it answers, the local spool when it does not.

::

    async with Publisher(settings, PublisherOptions(name="gate")) as pub:
        await pub.publish(event)            # returns once Kafka acknowledged it or it is spooled
        await pub.publish_many(events)      # same, one batch (what the simulator and bench use)

Guarantees
    * ``acks="all"`` and an idempotent producer: a record acknowledged once is written once, even
      when aiokafka retries it over a broken connection.
    * Nothing acknowledged is lost: a publish call returns only when Kafka acknowledged every event
      or the rest is committed to the :class:`~producers.spool.Spool` (SQLite, survives ``kill -9``).
      When the spool is full, :class:`~producers.errors.SpoolFull` is raised — never a silent drop.
    * Per-facility order: while a facility has records in the spool, its new events are spooled
      behind them; the drainer replays the spool oldest first, one chunk at a time, and removes a
      record only after Kafka acknowledged it.
    * Events still unacknowledged when ``delivery_timeout_s`` expires are spooled *and* left in the
      producer (which retries them with the same idempotent sequence): when aiokafka delivers them,
      their spool rows are removed, so the broker's return does not duplicate them. Only a crash
      between that delivery and the row removal can replay an event twice (consumers deduplicate on
      ``id``).

This module is the publisher's lifecycle and its publish path; its parts are in
:mod:`producers.publishing`: the options, per-partition batching (the hot path), the Kafka session
and its reset, and the spool drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections.abc import Iterable, Sequence
from typing import Any, Self

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from paris_live.settings import Settings
from producers import metrics
from producers.errors import ProducerError
from producers.publishing.batching import Direct, PartitionBatcher, Sent
from producers.publishing.drain import SpoolDrain
from producers.publishing.options import PublisherOptions, PublisherStats, PublishResult
from producers.publishing.session import SESSION_ERRORS, KafkaSession
from producers.spool import Record, Spool, SpooledRecord
from schemas.codec import encode_event
from schemas.events import CloudEvent
from schemas.topics import topic_for_type

__all__ = ["PublishResult", "Publisher", "PublisherOptions"]
"""``PublisherOptions`` and ``PublishResult`` are part of the publisher's documented interface."""

log = structlog.get_logger("producers.publisher")


class Publisher:
    """Publishes CloudEvents to their contract topic, keyed by facility id, with a durable spool."""

    def __init__(self, settings: Settings, options: PublisherOptions | None = None) -> None:
        self.settings = settings
        self.options = options or PublisherOptions()
        self.spool_path = self.options.resolved_spool_path(settings)
        self.stats = PublisherStats()
        self._closing = False
        self._wake = asyncio.Event()
        self._enqueue_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._topics: dict[type[CloudEvent], str] = {}
        self._log = log.bind(publisher=self.options.name)
        self._batcher = PartitionBatcher()
        self._session = KafkaSession(
            settings, self.options, self.stats, self._log, self._batcher, self._wake
        )
        self._drain = SpoolDrain(
            self.options,
            self.stats,
            self._log,
            self._session,
            self._batcher,
            self._wake,
            self._enqueue_lock,
        )

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the spool, try Kafka once (spooling if it does not answer), start the drainer."""
        opts = self.options
        spool = self._drain.spool = Spool(
            self.spool_path,
            max_bytes=opts.spool_max_bytes,
            min_free_bytes=opts.spool_min_free_bytes,
            synchronous=opts.spool_synchronous,
        )
        if len(spool):
            self._log.info("spool_found", records=len(spool), bytes=spool.used_bytes)
        await self._session.connect(spool)
        self._drain.update_gauges()
        self._supervisor = asyncio.create_task(
            self._drain.supervise(), name=f"publisher-{opts.name}"
        )

    async def close(self, *, drain: bool = True) -> None:
        """Stop taking events, drain the spool for up to ``close_timeout_s``, then close."""
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + self.options.close_timeout_s
        if drain and self._session.producer is not None and self.spooled:
            await self.wait_drained(self.options.close_timeout_s)
        self._drain.stopping = True
        self._wake.set()
        if self._supervisor is not None:
            # let a drain chunk in flight finish; past the deadline, cancel it (its batches
            # then remove their rows if the producer still delivers them while stopping)
            await asyncio.wait({self._supervisor}, timeout=max(0.0, deadline - time.monotonic()))
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._session.producer is not None:
            grace_s = max(0.1, deadline - time.monotonic())
            await self._session.stop_producer(self._session.producer, grace_s)
            self._session.producer = None
        spool = self._drain.spool
        if spool is not None:
            left = len(spool)
            if left:
                self._log.warning(
                    "spool_left_for_next_start", records=left, path=str(self.spool_path)
                )
            spool.close()
            self._drain.spool = None
        metrics.KAFKA_UP.labels(self.options.name).set(0)

    async def wait_drained(self, within_s: float) -> bool:
        """Wait until the spool is empty and Kafka is up (tests, CLI); False if not within_s."""
        self._wake.set()
        end = time.monotonic() + within_s
        while time.monotonic() < end:
            spool = self._drain.spool
            if spool is not None and not len(spool) and self._session.ok:
                return True
            await asyncio.sleep(0.05)
        return False

    @property
    def kafka_up(self) -> bool:
        """Whether new events go straight to Kafka (False while spooling everything)."""
        return self._session.up

    @property
    def spooled(self) -> int:
        """Events waiting in the spool."""
        spool = self._drain.spool
        return len(spool) if spool is not None else 0

    # -- publishing --------------------------------------------------------------------------

    def record_of(self, event: CloudEvent) -> Record:
        """The Kafka record of an event: contract topic (prefixed), key = facility id, JSON value."""
        topic = self._topics.get(event.__class__)
        if topic is None:
            topic = self._topic_of(event)
        return Record(topic, event.subject, event.id, encode_event(event))

    def _topic_of(self, event: CloudEvent) -> str:
        topic = self.settings.topic(topic_for_type(event.type))
        cls = event.__class__
        if {topic_for_type(t) for t in cls.event_types} == {topic_for_type(event.type)}:
            self._topics[cls] = topic  # every type of this envelope class shares the topic
        return topic

    async def publish(self, event: CloudEvent) -> PublishResult:
        """Publish one event; returns once Kafka acknowledged it or it is in the spool."""
        return await self.publish_records([self.record_of(event)])

    async def publish_many(self, events: Iterable[CloudEvent]) -> PublishResult:
        """Publish events in order; returns once each is acknowledged by Kafka or spooled."""
        return await self.publish_records([self.record_of(event) for event in events])

    async def publish_records(self, records: Sequence[Record]) -> PublishResult:
        """Publish already-encoded records (replay of a recording)."""
        spool = self._drain.spool
        if spool is None or self._closing:
            raise ProducerError("the publisher is not started (use `async with Publisher(...)`)")
        if not records:
            return PublishResult()
        limit = self.options.max_batch_bytes - 1024
        for record in records:
            if len(record.value) > limit:
                raise ProducerError(
                    f"event {record.event_id} is {len(record.value):,} bytes, more than a batch"
                )
        producer = self._session.producer
        if producer is None or not self._session.ok:
            self._drain.append(records)
            return PublishResult(spooled=len(records))
        if len(spool):
            direct = [r for r in records if not spool.has_pending(r.facility_id)]
            queued = [r for r in records if spool.has_pending(r.facility_id)]
            if queued:
                self._drain.append(queued)
        else:
            direct, queued = list(records), []
        result = await self._send_direct(producer, direct)
        return PublishResult(sent=result.sent, spooled=result.spooled + len(queued))

    async def _send_direct(
        self, producer: AIOKafkaProducer, records: list[Record]
    ) -> PublishResult:
        if not records:
            return PublishResult()
        items = [Direct(r) for r in records]
        sent: Sent[Direct] = []
        try:
            async with asyncio.timeout(self.options.delivery_timeout_s):
                async with self._enqueue_lock:  # calls hand over whole, in call order
                    await self._batcher.enqueue(producer, items, sent)
                await asyncio.wait([future for _, future in sent])
        except TimeoutError:
            pass
        except KafkaError as exc:
            self._log.warning("send_failed", error=repr(exc))
        acked: list[Record] = []
        failed: list[Record] = []
        limbo: list[tuple[list[Direct], asyncio.Future[Any]]] = []
        enqueued = 0
        session_lost = False
        for batch, future in sent:
            enqueued += len(batch)
            if not future.done():
                limbo.append((batch, future))
            elif future.cancelled():
                failed.extend(item.record for item in batch)
            elif (error := future.exception()) is not None:
                failed.extend(item.record for item in batch)
                session_lost = session_lost or isinstance(error, SESSION_ERRORS)
            else:
                acked.extend(item.record for item in batch)
        not_enqueued: list[Record] = []
        if enqueued < len(items):  # batches are per topic-partition: find the rest by identity
            in_batches = {id(item) for batch, _ in sent for item in batch}
            not_enqueued = [item.record for item in items if id(item) not in in_batches]
        to_spool = failed + not_enqueued
        if to_spool or limbo:
            self._session.degrade("delivery_timeout" if limbo else "send_failed")
        spooled = 0
        if to_spool:
            self._drain.append(to_spool)
            spooled += len(to_spool)
        for batch, future in limbo:
            seqs = self._drain.append([item.record for item in batch])
            spooled += len(batch)
            held = [SpooledRecord(seq, item.record) for seq, item in zip(seqs, batch, strict=True)]
            self._drain.held.update(seqs)
            future.add_done_callback(functools.partial(self._drain.limbo_done, held))
        if acked:
            self.stats.sent += len(acked)
            metrics.EVENTS.labels(self.options.name, "sent").inc(len(acked))
        if session_lost:
            await self._session.reset("producer_session_lost")
        return PublishResult(sent=len(acked), spooled=spooled)
