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

Hot path: records are grouped by topic-partition into aiokafka ``BatchBuilder`` s (one future per
batch instead of one per event); the partition is Kafka's default (murmur2 of the key), cached per
facility. Kafka's record timestamp is the send time; the event ``time`` stays in the envelope.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol, Self, TypeVar

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    MessageSizeTooLargeError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    RecordListTooLargeError,
    RecordTooLargeError,
    UnknownProducerId,
)
from aiokafka.partitioner import murmur2

from paris_live.settings import Settings
from producers import metrics
from producers.errors import ProducerError, SpoolFull
from producers.spool import Record, Spool, SpooledRecord
from schemas.codec import encode_event
from schemas.events import CloudEvent
from schemas.topics import topic_for_type

RECORD_ERRORS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
)
"""Errors about the records themselves: resending can never succeed, so they are set aside in the
spool's ``rejected`` table (with the reason) instead of blocking it. Nothing else is rejected."""

SESSION_ERRORS: tuple[type[BaseException], ...] = (
    OutOfOrderSequenceNumber,
    UnknownProducerId,
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    ProducerFenced,
)
"""Errors about the idempotent producer's session: after batches expired while the broker was away,
its sequence numbers have a gap and the broker refuses every later batch. The broker stored none of
those batches, so the rows stay in the spool and a new producer (a new producer id) resends them."""

log = structlog.get_logger("producers.publisher")


@dataclass(frozen=True, slots=True)
class PublisherOptions:
    """How one publisher talks to Kafka and where it spools (defaults measured by bench/produce)."""

    name: str = "producer"
    """Names the spool file and labels the metrics; one spool per producer process."""
    spool_path: Path | None = None
    """Default: ``<state_dir>/spool/<name>.sqlite3``."""
    spool_max_bytes: int = 1 << 30
    spool_min_free_bytes: int = 64 << 20
    spool_synchronous: Literal["normal", "full"] = "normal"
    linger_ms: int = 5
    max_batch_bytes: int = 512 * 1024
    compression: Literal["none", "lz4"] = "none"
    delivery_timeout_s: float = 10.0
    """How long a publish call waits for Kafka before spooling what is not acknowledged."""
    connect_timeout_s: float = 5.0
    reconnect_backoff_s: tuple[float, float] = (0.2, 5.0)
    drain_chunk: int = 5000
    close_timeout_s: float = 5.0
    """On close, how long to keep draining the spool and flushing before giving up (the rest
    stays in the spool for the next start)."""

    def resolved_spool_path(self, settings: Settings) -> Path:
        return self.spool_path or Path(settings.state_dir) / "spool" / f"{self.name}.sqlite3"


@dataclass(frozen=True, slots=True)
class PublishResult:
    """What became of the events of one call: acknowledged by Kafka, or safely spooled."""

    sent: int = 0
    spooled: int = 0


@dataclass(slots=True)
class _Stats:
    sent: int = 0
    spooled: int = 0
    drained: int = 0
    rejected: int = 0
    limbo_resolved: int = 0
    connects: int = 0
    resets: int = 0


class _HasRecord(Protocol):
    @property
    def record(self) -> Record: ...


class _Direct:
    """A record sent straight to Kafka (``.record`` like a :class:`SpooledRecord`)."""

    __slots__ = ("record",)

    def __init__(self, record: Record) -> None:
        self.record = record


_T = TypeVar("_T", bound=_HasRecord)
_Sent = list[tuple[list[_T], "asyncio.Future[Any]"]]


class Publisher:
    """Publishes CloudEvents to their contract topic, keyed by facility id, with a durable spool."""

    def __init__(self, settings: Settings, options: PublisherOptions | None = None) -> None:
        self.settings = settings
        self.options = options or PublisherOptions()
        self.spool_path = self.options.resolved_spool_path(settings)
        self._spool: Spool | None = None
        self._producer: AIOKafkaProducer | None = None
        self._kafka_ok = False
        self._closing = False
        self._stopping = False
        self._held: set[int] = set()
        self._wake = asyncio.Event()
        self._enqueue_lock = asyncio.Lock()
        self._supervisor: asyncio.Task[None] | None = None
        self._topics: dict[type[CloudEvent], str] = {}
        self._keys: dict[str, tuple[bytes, int]] = {}
        self._partitions: dict[str, list[int]] = {}
        self.stats = _Stats()
        self._log = log.bind(publisher=self.options.name)

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        """Open the spool, try Kafka once (spooling if it does not answer), start the drainer."""
        opts = self.options
        self._spool = Spool(
            self.spool_path,
            max_bytes=opts.spool_max_bytes,
            min_free_bytes=opts.spool_min_free_bytes,
            synchronous=opts.spool_synchronous,
        )
        if len(self._spool):
            self._log.info("spool_found", records=len(self._spool), bytes=self._spool.used_bytes)
        await self._connect()
        self._update_gauges()
        self._supervisor = asyncio.create_task(self._supervise(), name=f"publisher-{opts.name}")

    async def close(self, *, drain: bool = True) -> None:
        """Stop taking events, drain the spool for up to ``close_timeout_s``, then close."""
        if self._closing:
            return
        self._closing = True
        deadline = time.monotonic() + self.options.close_timeout_s
        if drain and self._producer is not None and self.spooled:
            await self.wait_drained(self.options.close_timeout_s)
        self._stopping = True
        self._wake.set()
        if self._supervisor is not None:
            # let a drain chunk in flight finish; past the deadline, cancel it (its batches
            # then remove their rows if the producer still delivers them while stopping)
            await asyncio.wait({self._supervisor}, timeout=max(0.0, deadline - time.monotonic()))
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        if self._producer is not None:
            await self._stop_producer(self._producer, max(0.1, deadline - time.monotonic()))
            self._producer = None
        if self._spool is not None:
            left = len(self._spool)
            if left:
                self._log.warning(
                    "spool_left_for_next_start", records=left, path=str(self.spool_path)
                )
            self._spool.close()
            self._spool = None
        metrics.KAFKA_UP.labels(self.options.name).set(0)

    async def wait_drained(self, within_s: float) -> bool:
        """Wait until the spool is empty and Kafka is up (tests, CLI); False if not within_s."""
        self._wake.set()
        end = time.monotonic() + within_s
        while time.monotonic() < end:
            if self._spool is not None and not len(self._spool) and self._kafka_ok:
                return True
            await asyncio.sleep(0.05)
        return False

    @property
    def kafka_up(self) -> bool:
        """Whether new events go straight to Kafka (False while spooling everything)."""
        return self._producer is not None and self._kafka_ok

    @property
    def spooled(self) -> int:
        """Events waiting in the spool."""
        return len(self._spool) if self._spool is not None else 0

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
        spool = self._spool
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
        producer = self._producer
        if producer is None or not self._kafka_ok:
            self._spool_records(records)
            return PublishResult(spooled=len(records))
        if len(spool):
            direct = [r for r in records if not spool.has_pending(r.facility_id)]
            queued = [r for r in records if spool.has_pending(r.facility_id)]
            if queued:
                self._spool_records(queued)
        else:
            direct, queued = list(records), []
        result = await self._send_direct(producer, direct)
        return PublishResult(sent=result.sent, spooled=result.spooled + len(queued))

    def _spool_records(self, records: Sequence[Record]) -> list[int]:
        assert self._spool is not None
        try:
            seqs = self._spool.append(records)
        except SpoolFull:
            metrics.SPOOL_FULL.labels(self.options.name).inc()
            raise
        self.stats.spooled += len(records)
        metrics.EVENTS.labels(self.options.name, "spooled").inc(len(records))
        self._update_gauges()
        self._wake.set()
        return seqs

    async def _send_direct(
        self, producer: AIOKafkaProducer, records: list[Record]
    ) -> PublishResult:
        if not records:
            return PublishResult()
        items = [_Direct(r) for r in records]
        sent: _Sent[_Direct] = []
        try:
            async with asyncio.timeout(self.options.delivery_timeout_s):
                async with self._enqueue_lock:  # calls hand over whole, in call order
                    await self._enqueue(producer, items, sent)
                await asyncio.wait([future for _, future in sent])
        except TimeoutError:
            pass
        except KafkaError as exc:
            self._log.warning("send_failed", error=repr(exc))
        acked: list[Record] = []
        failed: list[Record] = []
        limbo: list[tuple[list[_Direct], asyncio.Future[Any]]] = []
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
            self._degrade("delivery_timeout" if limbo else "send_failed")
        spooled = 0
        if to_spool:
            self._spool_records(to_spool)
            spooled += len(to_spool)
        for batch, future in limbo:
            seqs = self._spool_records([item.record for item in batch])
            spooled += len(batch)
            held = [SpooledRecord(seq, item.record) for seq, item in zip(seqs, batch, strict=True)]
            self._held.update(seqs)
            future.add_done_callback(functools.partial(self._limbo_done, held))
        if acked:
            self.stats.sent += len(acked)
            metrics.EVENTS.labels(self.options.name, "sent").inc(len(acked))
        if session_lost:
            await self._reset_producer("producer_session_lost")
        return PublishResult(sent=len(acked), spooled=spooled)

    def _limbo_done(self, held: list[SpooledRecord], future: asyncio.Future[Any]) -> None:
        """A record spooled on timeout was finally resolved by aiokafka."""
        ok = not future.cancelled() and future.exception() is None
        self._held.difference_update(s.seq for s in held)
        if self._spool is None:  # closed: the rows stay for the next start
            return
        if ok:
            self._spool.remove(held)
            self.stats.limbo_resolved += len(held)
            self._recover()
        self._update_gauges()
        self._wake.set()

    # -- Kafka -------------------------------------------------------------------------------

    def _new_producer(self) -> AIOKafkaProducer:
        opts = self.options
        return AIOKafkaProducer(
            bootstrap_servers=self.settings.kafka,
            client_id=f"paris-live-{opts.name}",
            acks="all",
            enable_idempotence=True,
            linger_ms=opts.linger_ms,
            max_batch_size=opts.max_batch_bytes,
            max_request_size=max(1 << 20, opts.max_batch_bytes),
            compression_type=None if opts.compression == "none" else opts.compression,
            request_timeout_ms=int(opts.delivery_timeout_s * 1000),
            retry_backoff_ms=100,
        )

    async def _connect(self) -> bool:
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), self.options.connect_timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            await self._stop_producer(producer, 1.0)
            self._log.warning(
                "kafka_unreachable_spooling", bootstrap=self.settings.kafka, error=repr(exc)
            )
            return False
        self._producer = producer
        self.stats.connects += 1
        self._partitions.clear()
        self._log.info("kafka_connected", bootstrap=self.settings.kafka)
        if self._spool is not None and not len(self._spool):
            self._recover()
        self._wake.set()
        return True

    async def _stop_producer(self, producer: AIOKafkaProducer, grace_s: float) -> None:
        """Stop a producer within ``grace_s``: batches Kafka did not take by then fail (their
        events are in the spool already, or their publish call has not returned)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(producer.flush(), grace_s)
        # An idempotent producer retries forever while the broker is away: fail what is left so
        # that stop() returns (aiokafka has no public API for this).
        producer._message_accumulator.fail_all(ProducerClosed())
        try:
            await asyncio.wait_for(producer.stop(), max(grace_s, 1.0))
        except (TimeoutError, KafkaError) as exc:
            self._log.warning("producer_stop_incomplete", error=repr(exc))

    def _degrade(self, why: str) -> None:
        if self._kafka_ok:
            self._log.warning("kafka_degraded_spooling", reason=why)
        self._kafka_ok = False
        metrics.KAFKA_UP.labels(self.options.name).set(0)

    def _recover(self) -> None:
        if not self._kafka_ok:
            self._log.info("kafka_recovered", spooled=self.spooled)
        self._kafka_ok = True
        metrics.KAFKA_UP.labels(self.options.name).set(1)

    async def _partition_list(self, producer: AIOKafkaProducer, topic: str) -> list[int]:
        partitions = self._partitions.get(topic)
        if partitions is None:
            partitions = sorted(await producer.partitions_for(topic))
            self._partitions[topic] = partitions
        return partitions

    async def _enqueue(
        self, producer: AIOKafkaProducer, items: Sequence[_T], out: _Sent[_T]
    ) -> None:
        """Hand records to aiokafka as batches, one future per batch appended to ``out`` as soon
        as aiokafka owns it (so the caller knows exactly what was handed over if this raises)."""
        groups: dict[tuple[str, int], list[tuple[_T, bytes]]] = defaultdict(list)
        keys = self._keys
        for item in items:
            record = item.record
            partitions = self._partitions.get(record.topic)
            if partitions is None:
                partitions = await self._partition_list(producer, record.topic)
            cached = keys.get(record.facility_id)
            if cached is None:
                key = record.facility_id.encode()
                cached = keys[record.facility_id] = (key, murmur2(key) & 0x7FFFFFFF)
            groups[(record.topic, partitions[cached[1] % len(partitions)])].append(
                (item, cached[0])
            )
        for (topic, partition), group in groups.items():
            builder = producer.create_batch()
            members: list[_T] = []
            for item, key in group:
                record = item.record
                if builder.append(key=key, value=record.value, timestamp=None) is None:
                    await self._send_batch(producer, builder, topic, partition, members, out)
                    builder, members = producer.create_batch(), []
                    builder.append(key=key, value=record.value, timestamp=None)
                members.append(item)
            if members:
                await self._send_batch(producer, builder, topic, partition, members, out)

    @staticmethod
    async def _send_batch(
        producer: AIOKafkaProducer,
        builder: Any,
        topic: str,
        partition: int,
        members: list[_T],
        out: _Sent[_T],
    ) -> None:
        builder.close()  # no lingering: the batch is complete
        future = await producer.send_batch(builder, topic, partition=partition)
        future.add_done_callback(_consume_exception)
        out.append((members, future))

    # -- drainer -----------------------------------------------------------------------------

    async def _supervise(self) -> None:
        """Reconnect while Kafka is away; replay the spool oldest first once it answers."""
        low, high = self.options.reconnect_backoff_s
        backoff = low
        while not self._stopping:
            if self._producer is None:
                if not await self._connect():
                    await asyncio.sleep(backoff)
                    backoff = min(high, backoff * 2)
                    continue
                backoff = low
            drained = await self._drain_once(self._producer)
            if drained is None:  # nothing drainable
                self._wake.clear()
                await self._wake.wait()
            elif drained == 0:  # Kafka refused, try again later
                await asyncio.sleep(backoff)
                backoff = min(high, backoff * 2)
            else:
                backoff = low

    async def _drain_once(self, producer: AIOKafkaProducer) -> int | None:
        """Send the oldest chunk of the spool and wait for Kafka; returns how many were removed,
        or None when nothing can be drained now."""
        spool = self._spool
        assert spool is not None
        if not len(spool):
            if not self._held:
                self._recover()
            return None
        chunk = [s for s in spool.oldest(self.options.drain_chunk) if s.seq not in self._held]
        if not chunk:
            return None
        sent: _Sent[SpooledRecord] = []
        try:
            try:
                async with self._enqueue_lock:
                    await self._enqueue(producer, chunk, sent)
            except (KafkaError, TimeoutError) as exc:
                self._log.warning(
                    "drain_enqueue_failed",
                    error=repr(exc),
                    enqueued=sum(len(batch) for batch, _ in sent),
                    hint="do the topics exist? (paris-live up creates them)",
                )
            if not sent:
                return 0
            # No deadline here: an idempotent producer retries until the broker answers, and
            # the rows stay in the spool meanwhile.
            await asyncio.wait([future for _, future in sent])
        except asyncio.CancelledError:  # closing: what is still delivered removes its rows
            for batch, future in sent:
                self._held.update(s.seq for s in batch)
                future.add_done_callback(functools.partial(self._limbo_done, batch))
            raise
        acked: list[SpooledRecord] = []
        session_lost = False
        for batch, future in sent:
            error = future.exception() if not future.cancelled() else ProducerClosed()
            if error is None:
                acked.extend(batch)
            elif isinstance(error, RECORD_ERRORS):
                reason = type(error).__name__
                spool.reject(batch, reason)
                self.stats.rejected += len(batch)
                metrics.SPOOL_REJECTED.labels(self.options.name, reason).inc(len(batch))
                self._log.error("spool_records_rejected", reason=reason, count=len(batch))
            elif isinstance(error, SESSION_ERRORS):
                session_lost = True
            elif not isinstance(error, ProducerClosed):
                self._log.warning("spool_drain_refused", error=repr(error), count=len(batch))
        if acked:
            spool.remove(acked)
            self.stats.drained += len(acked)
            metrics.DRAINED.labels(self.options.name).inc(len(acked))
            self._recover()
        if session_lost:
            await self._reset_producer("producer_session_lost")
        self._update_gauges()
        return len(acked)

    async def _reset_producer(self, why: str) -> None:
        """Drop the current producer (its idempotence session is unusable); the supervisor
        connects a new one, with a new producer id, and drains the spool again."""
        producer, self._producer = self._producer, None
        if producer is None:
            return
        self._degrade(why)
        self.stats.resets += 1
        self._log.warning("producer_reset", reason=why)
        await self._stop_producer(producer, 1.0)
        self._wake.set()

    def _update_gauges(self) -> None:
        if self._spool is not None:
            metrics.SPOOL_RECORDS.labels(self.options.name).set(len(self._spool))
            metrics.SPOOL_BYTES.labels(self.options.name).set(self._spool.used_bytes)


def _consume_exception(future: asyncio.Future[Any]) -> None:
    """Mark a batch failure as seen (the publisher inspects every batch future itself)."""
    if not future.cancelled():
        future.exception()
