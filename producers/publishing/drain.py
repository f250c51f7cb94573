"""The publisher's side of the spool: what goes into it, and how it comes back out.

Per-facility order: while a facility has records in the spool, its new events are spooled behind
them; the drainer replays the spool oldest first, one chunk at a time, and removes a record only
after Kafka acknowledged it. Records spooled on a delivery timeout but still owned by the producer
are *held*: the drainer skips them, and their rows are removed when aiokafka delivers them.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    CorruptRecordException,
    KafkaError,
    MessageSizeTooLargeError,
    ProducerClosed,
    RecordListTooLargeError,
    RecordTooLargeError,
)
from structlog.typing import FilteringBoundLogger

from producers import metrics
from producers.errors import SpoolFull
from producers.publishing.batching import PartitionBatcher, Sent
from producers.publishing.options import PublisherOptions, PublisherStats
from producers.publishing.session import SESSION_ERRORS, KafkaSession
from producers.spool import Record, Spool, SpooledRecord

RECORD_ERRORS: tuple[type[BaseException], ...] = (
    MessageSizeTooLargeError,
    RecordTooLargeError,
    RecordListTooLargeError,
    CorruptRecordException,
)
"""Errors about the records themselves: resending can never succeed, so they are set aside in the
spool's ``rejected`` table (with the reason) instead of blocking it. Nothing else is rejected."""


class SpoolDrain:
    """Appends to the spool, and replays it to Kafka (reconnecting while Kafka is away)."""

    def __init__(
        self,
        options: PublisherOptions,
        stats: PublisherStats,
        log: FilteringBoundLogger,
        session: KafkaSession,
        batcher: PartitionBatcher,
        wake: asyncio.Event,
        enqueue_lock: asyncio.Lock,
    ) -> None:
        self.options = options
        self.stats = stats
        self.spool: Spool | None = None
        """Open between the publisher's start and close."""
        self.held: set[int] = set()
        """Sequence numbers of spooled rows that the producer may still deliver."""
        self.stopping = False
        self._log = log
        self._session = session
        self._batcher = batcher
        self._wake = wake
        self._enqueue_lock = enqueue_lock

    def append(self, records: Sequence[Record]) -> list[int]:
        """Commit records to the spool (:class:`SpoolFull` when it cannot take them)."""
        assert self.spool is not None
        try:
            seqs = self.spool.append(records)
        except SpoolFull:
            metrics.SPOOL_FULL.labels(self.options.name).inc()
            raise
        self.stats.spooled += len(records)
        metrics.EVENTS.labels(self.options.name, "spooled").inc(len(records))
        self.update_gauges()
        self._wake.set()
        return seqs

    def limbo_done(self, held: list[SpooledRecord], future: asyncio.Future[Any]) -> None:
        """A record spooled on timeout was finally resolved by aiokafka."""
        ok = not future.cancelled() and future.exception() is None
        self.held.difference_update(s.seq for s in held)
        if self.spool is None:  # closed: the rows stay for the next start
            return
        if ok:
            self.spool.remove(held)
            self.stats.limbo_resolved += len(held)
            self._session.recover(len(self.spool))
        self.update_gauges()
        self._wake.set()

    async def supervise(self) -> None:
        """Reconnect while Kafka is away; replay the spool oldest first once it answers."""
        low, high = self.options.reconnect_backoff_s
        backoff = low
        while not self.stopping:
            if self._session.producer is None:
                if not await self._session.connect(self.spool):
                    await asyncio.sleep(backoff)
                    backoff = min(high, backoff * 2)
                    continue
                backoff = low
            drained = await self.drain_once(self._session.producer)
            if drained is None:  # nothing drainable
                self._wake.clear()
                await self._wake.wait()
            elif drained == 0:  # Kafka refused, try again later
                await asyncio.sleep(backoff)
                backoff = min(high, backoff * 2)
            else:
                backoff = low

    async def drain_once(self, producer: AIOKafkaProducer) -> int | None:
        """Send the oldest chunk of the spool and wait for Kafka; returns how many were removed,
        or None when nothing can be drained now."""
        spool = self.spool
        assert spool is not None
        if not len(spool):
            if not self.held:
                self._session.recover(len(spool))
            return None
        chunk = [s for s in spool.oldest(self.options.drain_chunk) if s.seq not in self.held]
        if not chunk:
            return None
        sent: Sent[SpooledRecord] = []
        try:
            try:
                async with self._enqueue_lock:
                    await self._batcher.enqueue(producer, chunk, sent)
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
                self.held.update(s.seq for s in batch)
                future.add_done_callback(functools.partial(self.limbo_done, batch))
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
            self._session.recover(len(spool))
        if session_lost:
            await self._session.reset("producer_session_lost")
        self.update_gauges()
        return len(acked)

    def update_gauges(self) -> None:
        if self.spool is not None:
            metrics.SPOOL_RECORDS.labels(self.options.name).set(len(self.spool))
            metrics.SPOOL_BYTES.labels(self.options.name).set(self.spool.used_bytes)
