"""Kafka output: ``facility-status`` (latest status per facility, compacted), ``dead-letters`` and
records forwarded to their facility's partition.

One idempotent aiokafka producer (``acks=all``) and two kinds of records:

* **live** records (:meth:`KafkaSink.send`: ``facility-status``) — enqueued, sent by the next
  :meth:`KafkaSink.flush`, which raises if any of them failed (the caller publishes again later);
* **reliable** records (:meth:`KafkaSink.send_reliable`: dead letters, forwarded events) — each
  gets a sequence number and its own delivery future, and stays queued until the brokers
  acknowledge it: one failing record never drops another. A transient failure (broker down,
  timeout) is retried by the next flush; a permanent one (the record is too large, the partition
  does not exist) is replaced by the record's ``fallback`` (a smaller dead letter, the dead letter
  of a forward) and retried, or — with no fallback left — logged as an error, counted and given
  up. :attr:`KafkaSink.settled_through` is the sequence number up to which every reliable record
  is settled; the worker commits input offsets only past records whose effects are settled
  (see :class:`~streams.sinks.spool.HistoryBatch` ``effects_seq``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError

from producers.publishing.aiokafka_shim import fail_pending
from streams import metrics

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]]


class KafkaSinkError(Exception):
    """Some records of a flush were not acknowledged; the reliable ones stay queued."""


@dataclass(slots=True)
class Outgoing:
    """One reliable record and what to send instead if it can never be delivered as it is."""

    topic: str
    key: bytes | None
    value: bytes
    headers: Headers = field(default_factory=list)
    partition: int | None = None
    fallback: Callable[[BaseException], Outgoing | None] | None = None
    """Called with the permanent error: the record to send instead (None: give up)."""
    seq: int = 0
    in_flight: bool = False
    attempts: int = 0


def is_transient(error: BaseException) -> bool:
    """Whether a send error may go away by itself (retry the same record later)."""
    if isinstance(error, KafkaTimeoutError | KafkaConnectionError):
        return True
    return isinstance(error, KafkaError) and bool(error.retriable)


class KafkaSink:
    """Fire-and-collect producer (see the module docstring for live vs reliable records)."""

    def __init__(
        self,
        bootstrap: str,
        *,
        client_id: str = "paris-live-streams",
        delivery_timeout_s: float = 10.0,
    ) -> None:
        self._bootstrap = bootstrap
        self._client_id = client_id
        self.delivery_timeout_s = delivery_timeout_s
        """How long one flush waits for acknowledgements before it gives the producer up."""
        self._producer = self._new_producer()
        self._pending: list[tuple[str, bytes | None, bytes, Headers]] = []
        self._unsettled: dict[int, Outgoing] = {}
        self._last_seq = 0
        self._progress = asyncio.Event()
        self._started = False
        self._connected = True  # the producer started by start() (replaced: see _delivered)

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._bootstrap,
            client_id=self._client_id,
            acks="all",
            enable_idempotence=True,
            linger_ms=5,
            max_batch_size=256 * 1024,
            compression_type=None,
        )

    async def start(self) -> None:
        await self._producer.start()
        self._started = True

    async def stop(self) -> None:
        if not self._started:
            await self._producer.stop()  # never started: still closed, no "Unclosed" at exit
            return
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
        """Enqueue one live record; it is sent and its delivery awaited by the next :meth:`flush`."""
        self._pending.append((topic, key, value, list(headers or ())))

    def send_reliable(self, record: Outgoing) -> int:
        """Queue a record that must be delivered (or replaced by its fallback); its seq number."""
        self._last_seq += 1
        record.seq = self._last_seq
        self._unsettled[record.seq] = record
        return record.seq

    @property
    def pending(self) -> int:
        return len(self._pending) + len(self._unsettled)

    @property
    def last_seq(self) -> int:
        """The sequence number of the last reliable record queued (0: none yet)."""
        return self._last_seq

    @property
    def settled_through(self) -> int:
        """Every reliable record with a sequence number up to this one is settled."""
        if not self._unsettled:
            return self._last_seq
        return min(self._unsettled) - 1

    async def flush(self) -> int:
        """Send what is queued and wait for the acknowledgements; returns how many were sent.

        Raises :class:`KafkaSinkError` when a live record failed or a reliable one must be retried
        (it stays queued; the next flush sends it again).
        """
        live, self._pending = self._pending, []
        reliable = [r for r in sorted(self._unsettled.values(), key=_seq) if not r.in_flight]
        if not live and not reliable:
            return 0
        if not self._connected:
            self._connected = await self._connect()
            if not self._connected:  # nothing sent: the caller publishes live records again
                raise KafkaSinkError(f"producer not connected: {len(live)} live record(s) failed")
        started = time.perf_counter()
        send = self._producer.send
        live_failed = 0
        # send() returns a delivery future once the record is in the accumulator (batched by
        # partition, linger_ms); awaiting them all is one round trip per broker batch. Each
        # record has its own future: a refusal (too large, …) concerns that record only.
        live_futures: list[asyncio.Future[object]] = []
        for topic, key, value, headers in live:
            try:
                live_futures.append(await send(topic, value=value, key=key, headers=headers))
            except Exception as exc:
                live_failed += 1
                log.warning("kafka_send_failed", topic=topic, error=repr(exc))
        deliveries: list[tuple[Outgoing, asyncio.Future[object]]] = []
        for record in reliable:
            record.in_flight = True
            record.attempts += 1
            try:
                future = await send(
                    record.topic,
                    value=record.value,
                    key=record.key,
                    partition=record.partition,
                    headers=record.headers,
                )
            except Exception as exc:
                record.in_flight = False
                self._failed(record, exc)
                continue
            deliveries.append((record, future))
        results = await self._delivered([*live_futures, *(f for _, f in deliveries)])
        live_failed += sum(isinstance(r, BaseException) for r in results[: len(live_futures)])
        for (record, _), result in zip(deliveries, results[len(live_futures) :], strict=True):
            record.in_flight = False
            if isinstance(result, BaseException):
                self._failed(record, result)
            else:
                self._settle(record)
        self._progress.set()
        self._progress = asyncio.Event()
        metrics.SINK_FLUSH.labels(sink="kafka").observe(time.perf_counter() - started)
        metrics.SINK_BATCH.labels(sink="kafka").observe(len(live) + len(reliable))
        # this flush's records still owed (failed transiently, or replaced by their fallback) —
        # not those queued while it awaited the acknowledgements: they were never sent yet, and
        # counting them raised on every flush of a burst of dead letters (a 0.5 s pause each)
        owed = (self._unsettled.get(r.seq) for r in reliable)
        retry = sum(1 for r in owed if r is not None and not r.in_flight)
        if live_failed or retry:
            raise KafkaSinkError(
                f"{live_failed} live record(s) failed, {retry} reliable record(s) to retry"
            )
        return len(live) + len(reliable)

    async def _delivered(self, futures: list[asyncio.Future[object]]) -> list[object]:
        """Each delivery's result or error, waiting at most :attr:`delivery_timeout_s`.

        An idempotent producer retries for as long as a partition has no reachable leader, and
        after a leader broker was killed it can wait on a metadata refresh that never comes (the
        worker froze there with every thread idle): past the limit, the deliveries still open fail
        as transient — their live records are published again by the caller, the reliable ones
        stay queued — and the producer is replaced by a new one (a new idempotence session).
        """
        if not futures:
            return []
        _, open_ = await asyncio.wait(futures, timeout=self.delivery_timeout_s)
        if open_:
            log.warning("kafka_delivery_stuck", open=len(open_), after_s=self.delivery_timeout_s)
            await self._replace_producer()
        results: list[object] = []
        for future in futures:
            if not future.done():
                results.append(KafkaTimeoutError("delivery not acknowledged in time"))
            elif future.cancelled():
                results.append(asyncio.CancelledError())
            elif (error := future.exception()) is not None:
                results.append(error)
            else:
                results.append(future.result())
        return results

    async def _replace_producer(self) -> None:
        """Fail what the stuck producer holds, stop it (bounded) and start a fresh one."""
        stuck, self._producer = self._producer, self._new_producer()
        self._connected = False  # whatever happens below, nothing is sent through an unstarted one
        try:
            fail_pending(stuck, KafkaTimeoutError("producer replaced"))
            await asyncio.wait_for(stuck.stop(), 5.0)
        except Exception as exc:  # its sender may have died of the failed batches: it is gone
            log.warning("kafka_producer_stop_incomplete", error=repr(exc))
        self._connected = await self._connect()

    async def _connect(self) -> bool:
        """Start the (replacement) producer; False while Kafka cannot be reached."""
        try:
            await asyncio.wait_for(self._producer.start(), self.delivery_timeout_s)
        except Exception as exc:
            log.warning("kafka_producer_restart_failed", error=repr(exc))
            try:
                await asyncio.wait_for(self._producer.stop(), 5.0)
            except Exception as stop_exc:
                log.warning("kafka_producer_stop_incomplete", error=repr(stop_exc))
            self._producer = self._new_producer()
            return False
        return True

    async def wait_settled(self, seq: int, within: float) -> bool:
        """Flush until every reliable record up to ``seq`` is settled; False after ``within`` s."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        backoff = 0.05
        while self.settled_through < seq:
            if loop.time() >= deadline:
                return False
            progress = self._progress
            try:
                await self.flush()
            except KafkaSinkError:
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 1.0)
            if self.settled_through < seq and any(r.in_flight for r in self._unsettled.values()):
                # another flush has them in flight: wait for it to finish
                try:
                    await asyncio.wait_for(progress.wait(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    return self.settled_through >= seq
        return True

    def _settle(self, record: Outgoing) -> None:
        self._unsettled.pop(record.seq, None)

    def _failed(self, record: Outgoing, error: BaseException) -> None:
        if is_transient(error):
            metrics.SINK_ERRORS.labels(sink="kafka").inc()
            log.warning(
                "kafka_record_retry",
                topic=record.topic,
                attempts=record.attempts,
                error=repr(error),
            )
            return  # stays queued: the next flush sends it again
        replacement = record.fallback(error) if record.fallback is not None else None
        if replacement is not None:
            log.warning(
                "kafka_record_replaced",
                topic=record.topic,
                size=len(record.value),
                error=repr(error),
            )
            replacement.seq = record.seq
            self._unsettled[record.seq] = replacement
            return
        metrics.SINK_DROPPED.labels(sink="kafka").inc()
        log.error(
            "kafka_record_given_up",
            topic=record.topic,
            partition=record.partition,
            size=len(record.value),
            error=repr(error),
        )
        self._settle(record)


def _seq(record: Outgoing) -> int:
    return record.seq
