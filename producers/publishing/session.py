"""The publisher's idempotent Kafka producer: connected, degraded to spooling, or reset.

``acks="all"`` and an idempotent producer: a record acknowledged once is written once, even when
aiokafka retries it over a broken connection. While the session is degraded (Kafka did not answer
in time), the publisher spools every new event until the drainer gets an acknowledgement again.
"""

from __future__ import annotations

import asyncio
import contextlib

from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidProducerEpoch,
    InvalidProducerIdMapping,
    KafkaError,
    OutOfOrderSequenceNumber,
    ProducerClosed,
    ProducerFenced,
    UnknownProducerId,
)
from structlog.typing import FilteringBoundLogger

from paris_live.settings import Settings
from producers import metrics
from producers.publishing.aiokafka_shim import fail_pending
from producers.publishing.batching import PartitionBatcher
from producers.publishing.options import PublisherOptions, PublisherStats
from producers.spool import Spool

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


class KafkaSession:
    """The current aiokafka producer (None while Kafka is away) and whether it is trusted."""

    def __init__(
        self,
        settings: Settings,
        options: PublisherOptions,
        stats: PublisherStats,
        log: FilteringBoundLogger,
        batcher: PartitionBatcher,
        wake: asyncio.Event,
    ) -> None:
        self.settings = settings
        self.options = options
        self.stats = stats
        self.producer: AIOKafkaProducer | None = None
        self.ok = False
        """False while new events must be spooled (Kafka away, or a send not acknowledged)."""
        self._log = log
        self._batcher = batcher
        self._wake = wake

    @property
    def up(self) -> bool:
        """Whether new events go straight to Kafka."""
        return self.producer is not None and self.ok

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

    async def connect(self, spool: Spool | None) -> bool:
        """Start a new producer; False (and spooling goes on) when Kafka does not answer."""
        producer = self._new_producer()
        try:
            await asyncio.wait_for(producer.start(), self.options.connect_timeout_s)
        except (KafkaError, OSError, TimeoutError) as exc:
            await self.stop_producer(producer, 1.0)
            self._log.warning(
                "kafka_unreachable_spooling", bootstrap=self.settings.kafka, error=repr(exc)
            )
            return False
        self.producer = producer
        self.stats.connects += 1
        self._batcher.forget_partitions()
        self._log.info("kafka_connected", bootstrap=self.settings.kafka)
        if spool is not None and not len(spool):
            self.recover(len(spool))
        self._wake.set()
        return True

    async def stop_producer(self, producer: AIOKafkaProducer, grace_s: float) -> None:
        """Stop a producer within ``grace_s``: batches Kafka did not take by then fail (their
        events are in the spool already, or their publish call has not returned)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(producer.flush(), grace_s)
        # An idempotent producer retries forever while the broker is away: fail what is left so
        # that stop() returns (aiokafka has no public API for this: see the shim).
        fail_pending(producer, ProducerClosed())
        try:
            await asyncio.wait_for(producer.stop(), max(grace_s, 1.0))
        except (TimeoutError, KafkaError) as exc:
            self._log.warning("producer_stop_incomplete", error=repr(exc))

    def degrade(self, why: str) -> None:
        """Spool every new event until Kafka acknowledges again."""
        if self.ok:
            self._log.warning("kafka_degraded_spooling", reason=why)
        self.ok = False
        metrics.KAFKA_UP.labels(self.options.name).set(0)

    def recover(self, spooled: int) -> None:
        """Kafka acknowledged: new events go straight to it again."""
        if not self.ok:
            self._log.info("kafka_recovered", spooled=spooled)
        self.ok = True
        metrics.KAFKA_UP.labels(self.options.name).set(1)

    async def reset(self, why: str) -> None:
        """Drop the current producer (its idempotence session is unusable); the supervisor
        connects a new one, with a new producer id, and drains the spool again."""
        producer, self.producer = self.producer, None
        if producer is None:
            return
        self.degrade(why)
        self.stats.resets += 1
        self._log.warning("producer_reset", reason=why)
        await self.stop_producer(producer, 1.0)
        self._wake.set()
