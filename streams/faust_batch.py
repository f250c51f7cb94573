"""The one module that reaches into faust-streaming's private consumer API: the batch fast path.

faust has no public hook handing a whole fetched batch to the application (see ``streams/app.py``
for why the worker wants one). :class:`BatchConsumer` therefore overrides or uses these private
members of faust's consumer (``faust.transport.consumer.Consumer`` and its aiokafka driver), as
they are in faust-streaming :data:`FAUST_STREAMING_VERSION`:

- ``_drain_messages(fetcher)``: faust's fetch loop, replaced while a batch handler is set;
- ``_wait_next_records(timeout)``: one fetch through faust's consumer thread;
- ``_new_offset(tp)``: the offset to commit, fed by the processor for the batch topics;
- ``_filter_tps_with_pending_acks(topics)``: the partitions that have something to commit;
- ``_commit_offsets(offsets, start_new_transaction)``: the commit (observed for the metrics);
- ``_to_message(tp, record)``: a record as a ``ConsumerMessage`` (topics not batched);
- the attributes ``_acked``, ``_acked_index``, ``_read_offset``, ``_buffered_partitions``, the
  fetcher's ``_stopped`` event, and ``faust.App._new_transport``;
- for the stall watch only (read, never written): ``_active_partitions`` and
  ``_paused_partitions`` (set in ``Consumer._reset_state``) and the aiokafka driver's ``_thread``
  with its aiokafka consumer's subscription state and fetcher buffer.

:data:`PRIVATE_METHODS` and :data:`PRIVATE_ATTRIBUTES` name them; ``tests/streams/
test_faust_batch.py`` checks each against the installed faust, and the version: upgrading faust
fails that test until this module is reviewed against the new version and the pin moved.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import Any, Protocol, cast

import faust
import structlog
from faust.transport.consumer import CONSUMER_FETCHING
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.transport.drivers.aiokafka import Transport as AIOKafkaTransport
from faust.types import TP
from mode.types import ServiceT

from streams import metrics

__all__ = [
    "FAUST_STREAMING_VERSION",
    "PRIVATE_ATTRIBUTES",
    "PRIVATE_METHODS",
    "BatchApp",
    "BatchConsumer",
    "BatchHandler",
    "BatchTransport",
    "check_faust_version",
]

log = structlog.get_logger(__name__)

FAUST_STREAMING_VERSION = "0.15.3"
"""The faust-streaming release this module was written and tested against."""

PRIVATE_METHODS: dict[str, tuple[str, ...]] = {
    "_drain_messages": ("self", "fetcher"),
    "_wait_next_records": ("self", "timeout"),
    "_new_offset": ("self", "tp"),
    "_filter_tps_with_pending_acks": ("self", "topics"),
    "_commit_offsets": ("self", "offsets", "start_new_transaction"),
    "_to_message": ("self", "tp", "record"),
}
"""Private methods of faust's aiokafka ``Consumer`` used here, with their parameters."""

PRIVATE_ATTRIBUTES: tuple[str, ...] = (
    "_acked",
    "_acked_index",
    "_read_offset",
    "_buffered_partitions",
)
"""Private attributes a faust ``Consumer`` sets in ``__init__`` and this module reads or writes."""

BatchHandler = Callable[[TP, list[Any], Callable[[], bool]], Awaitable[bool | None]]
"""Applies one fetched batch (aiokafka ``ConsumerRecord`` objects, untyped) of a partition;
the third argument says whether the partition is still this worker's. True: applied. False:
refused (revoked or not ours yet): it is read again from the committed offsets. None: skipped
because it does not follow what was applied (fetched from a position a seek has since moved
back) — the handler has already moved the partition's position back to the first record not
applied."""


def check_faust_version() -> bool:
    """Whether the installed faust-streaming is the one this module was checked against (logs a
    warning otherwise: the batch path relies on faust internals)."""
    installed = str(faust.__version__)
    if installed != FAUST_STREAMING_VERSION:
        log.warning("faust_version_unchecked", installed=installed, checked=FAUST_STREAMING_VERSION)
        return False
    return True


class BatchHost(Protocol):
    """What :class:`BatchConsumer` reads from its app."""

    batch_handler: BatchHandler | None
    batch_topics: frozenset[str]
    consumer_generation_id: int


class BatchConsumer(AIOKafkaConsumer):
    """faust's aiokafka consumer, handing whole fetched batches of the input topics to the app.

    Everything else — group membership, rebalancing, pausing, seeking, committing — is faust's.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._committable: dict[TP, int] = {}

    def set_committable(self, offsets: Mapping[TP, int]) -> None:
        """Offsets (next to read) that are safe to commit: their effects are durable."""
        for tp, offset in offsets.items():
            if offset > self._committable.get(tp, -1):
                self._committable[tp] = offset

    def _filter_tps_with_pending_acks(
        self, topics: AbstractSet[str | TP] | None = None
    ) -> Iterator[TP]:
        tps = set(super()._filter_tps_with_pending_acks(topics))
        tps.update(
            tp for tp in self._committable if topics is None or tp in topics or tp.topic in topics
        )
        return iter(tps)

    def _new_offset(self, tp: TP) -> int | None:
        app = cast(BatchHost, self.app)
        if tp.topic in app.batch_topics:
            self._acked.pop(tp, None)
            self._acked_index.pop(tp, None)
            return self._committable.pop(tp, None)
        offset: int | None = super()._new_offset(tp)
        return offset

    async def _commit_offsets(
        self, offsets: Mapping[TP, int], start_new_transaction: bool = True
    ) -> bool:
        done: bool = await super()._commit_offsets(offsets, start_new_transaction)
        if done:
            for tp, offset in offsets.items():
                metrics.COMMITTED.labels(topic=tp.topic, partition=str(tp.partition)).set(offset)
        return done

    async def _apply_fetched(self, records: Mapping[TP, list[Any]], generation: int) -> bool:
        """Hand each partition's batch of one fetch to the batch handler (the input topics) or to
        faust's per-message callback (other topics). False when some were not applied: the flow
        stopped or the generation changed (a rebalance), a partition was paused, or the handler
        refused a batch (revoked, not ours yet)."""
        app = cast(BatchHost, self.app)
        handler = app.batch_handler
        assert handler is not None

        def current(gen: int = generation) -> bool:
            return self.flow_active and app.consumer_generation_id == gen

        for tp, batch in records.items():
            if not batch:
                continue
            if not current():
                return False
            active = self._active_partitions  # now, not when the fetch began
            if active is not None and tp not in active and tp not in self._buffered_partitions:
                return False
            if tp.topic in app.batch_topics:
                done = await handler(tp, batch, current)
                if done is None:
                    continue  # its position was moved back to the first record not applied
                if not done:
                    return False
                with contextlib.suppress(AssertionError):  # revoked meanwhile
                    highwater = self.highwater(tp)
                    if highwater is not None:
                        metrics.CONSUMER_LAG.labels(
                            topic=tp.topic, partition=str(tp.partition)
                        ).set(max(0, highwater - batch[-1].offset - 1))
            else:
                for record in batch:
                    await self.callback(self._to_message(tp, record))
            self._read_offset[tp] = batch[-1].offset
            # let the live flush, the history writer and the timers run between batches
            await asyncio.sleep(0)
        return True

    def fetch_state(self, tps: AbstractSet[TP]) -> dict[TP, dict[str, Any]]:
        """What faust and aiokafka hold of each partition's fetching, for the stall watch
        (:meth:`streams.app.StreamsRuntime._stall_watch`): faust's paused/active sets and read
        offset, aiokafka's position, highwater, pause flag and buffered records. Read-only."""
        out: dict[TP, dict[str, Any]] = {}
        try:
            client = cast(Any, self)._thread._ensure_consumer()
            assignment = client._subscription.subscription.assignment
            buffered = client._fetcher._records
        except Exception:  # not started, or rebalancing
            return out
        active = self._active_partitions
        for tp in tps:
            try:
                ts = assignment.state_value(tp)
            except Exception:
                ts = None
            out[tp] = {
                "faust_paused": tp in self._paused_partitions,
                "faust_active": active is None or tp in active,
                "flow_active": self.flow_active,
                "read_offset": self._read_offset.get(tp),
                "position": getattr(ts, "_position", None),
                "highwater": getattr(ts, "highwater", None),
                "aiokafka_paused": getattr(ts, "paused", None),
                "buffered": tp in buffered,
            }
        return out

    async def _drain_messages(self, fetcher: ServiceT) -> None:  # pragma: no cover - faust's loop
        app = cast(BatchHost, self.app)
        handler = app.batch_handler
        if handler is None:
            await super()._drain_messages(fetcher)
            return
        consumer_should_stop = self._stopped.is_set
        fetcher_should_stop = cast(Any, fetcher)._stopped.is_set
        # Fetch one batch ahead: the round trip through faust's consumer thread overlaps the
        # processing of the previous batch instead of adding to it.
        ahead: asyncio.Queue[tuple[int, Any]] = asyncio.Queue(maxsize=1)

        async def prefetch() -> None:
            while not (consumer_should_stop() or fetcher_should_stop()):
                # the generation when the fetch began: a fetch that spans a rebalance is dropped
                generation = app.consumer_generation_id
                records, _ = await self._wait_next_records(1.0)
                if records:
                    await ahead.put((generation, records))
                else:
                    await asyncio.sleep(0)

        prefetcher = asyncio.ensure_future(prefetch())
        try:
            while not (consumer_should_stop() or fetcher_should_stop()):
                self.diag.set_flag(CONSUMER_FETCHING)
                try:
                    generation, records = await asyncio.wait_for(ahead.get(), 1.0)
                except TimeoutError:
                    if prefetcher.done():
                        prefetcher.result()  # re-raise what stopped the fetching
                    continue
                if self.should_stop:
                    break
                if not self.flow_active or app.consumer_generation_id != generation:
                    # rebalancing: drop what was fetched, seek back (as faust's getmany does)
                    await self.perform_seek()
                    continue
                if not await self._apply_fetched(records, generation):
                    # records taken from the fetcher were not applied (a partition paused,
                    # revoked or not yet ready meanwhile): its position is already past them,
                    # so read again from the committed offsets — the processor skips what it
                    # had applied. faust's own seek at the end of a rebalance may have come
                    # before this fetch returned: without this, those records were skipped.
                    metrics.FETCHES_READ_AGAIN.inc()
                    log.info("fetch_read_again", generation=generation)
                    await self.perform_seek()
                self.diag.unset_flag(CONSUMER_FETCHING)
        except self.consumer_stopped_errors:
            if self.transport.app.should_stop:
                return
            raise
        except asyncio.CancelledError:
            if self.transport.app.should_stop:
                return
            raise
        finally:
            prefetcher.cancel()
            self.diag.unset_flag(CONSUMER_FETCHING)


class BatchTransport(AIOKafkaTransport):
    """The aiokafka transport with :class:`BatchConsumer`."""

    Consumer = BatchConsumer


class BatchApp(faust.App):
    """faust.App whose consumer hands the batches of :attr:`batch_topics` to :attr:`batch_handler`
    (None: faust's own per-event path for every topic)."""

    batch_handler: BatchHandler | None = None
    batch_topics: frozenset[str] = frozenset()

    def _new_transport(self) -> BatchTransport:
        return BatchTransport(self.conf.broker_consumer, self)
