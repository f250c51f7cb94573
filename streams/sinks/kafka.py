"""Kafka output: ``facility-status`` (latest status per facility, compacted) and ``dead-letters``.

One idempotent aiokafka producer (``acks=all``); :meth:`KafkaSink.send` only enqueues and
:meth:`KafkaSink.flush` waits until every record sent since the last flush is acknowledged by the
brokers — the worker commits input offsets only after that.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from aiokafka import AIOKafkaProducer

from streams import metrics


class KafkaSink:
    """Fire-and-collect producer; ``flush`` raises if any record since the last flush failed."""

    def __init__(self, bootstrap: str, *, client_id: str = "paris-live-streams") -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
            compression_type=None,
        )
        self._pending: list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]]]] = []
        self._started = False

    async def start(self) -> None:
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        if self._started:
            try:
                await self.flush()
            finally:
                await self._producer.stop()
                self._started = False

    def send(
        self,
        topic: str,
        key: bytes | None,
        value: bytes,
        *,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> None:
        """Enqueue one record; it is sent and its delivery awaited by the next :meth:`flush`."""
        self._pending.append((topic, key, value, list(headers or ())))

    @property
    def pending(self) -> int:
        return len(self._pending)

    async def flush(self) -> int:
        """Wait for every enqueued record to be acknowledged; returns how many there were."""
        if not self._pending:
            return 0
        pending, self._pending = self._pending, []
        started = time.perf_counter()
        send = self._producer.send
        # send() returns a delivery future once the record is in the accumulator (batched by
        # partition, linger_ms); awaiting them all is one round trip per broker batch.
        deliveries = [
            await send(topic, value=value, key=key, headers=headers)
            for topic, key, value, headers in pending
        ]
        await asyncio.gather(*deliveries)
        metrics.SINK_FLUSH.labels(sink="kafka").observe(time.perf_counter() - started)
        metrics.SINK_BATCH.labels(sink="kafka").observe(len(pending))
        return len(pending)
