"""The faust-streaming application: consumer group over the co-partitioned facility input topics.

It is a regular faust app — ``faust worker``, one consumer group, faust's co-partitioning
assignor and rebalancing, an agent subscribed to the six input topics, ``app.timer`` ticks — with
one change on the hot path, chosen from a profile of the plain agent (see ``bench/ingest.py``):
faust spends most of its per-event time outside the user's code (one ``ConsumerMessage``, one
``Event``, an ``asyncio.wait`` race per record in ``Consumer._drain_messages``, queue put/get,
context variables and an ack per event). :class:`~streams.faust_batch.BatchConsumer` (the one
module using faust's private consumer API, with its version pin) therefore hands each fetched
*batch* of an input topic-partition straight to the :class:`~streams.worker.processor.Processor`; offsets are
committed through faust's own commit path, but only to what :mod:`streams.recovery` has made
durable (``_new_offset`` is fed by the processor, never by per-event acks). With
``WorkerConfig(fast_path=False)`` the same processor runs inside the agent, event by event.

State lives in plain dicts (no faust Table): see :mod:`streams.recovery` for how it survives a
restart.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, NamedTuple, cast

import faust
import psycopg
import structlog
from faust.types import TP
from mode import Service
from structlog.contextvars import bound_contextvars

from paris_live.db import migrate, search_path
from paris_live.runtime_gc import record_pauses, settle_heap
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import Catalogue, load_catalogue
from streams import metrics, recovery
from streams.core.policy import TimeWindow
from streams.deadletters import DeadLetters
from streams.faust_batch import BatchApp, BatchConsumer, check_faust_version
from streams.sinks.kafka import KafkaSink
from streams.sinks.postgres import HistoryWriter
from streams.sinks.redis import RedisSink
from streams.sinks.spool import MergedBatch, Spool, default_spool_dir
from streams.worker.config import WorkerConfig
from streams.worker.machines import CoreMachines, MachineFactory
from streams.worker.processor import Processor

log = structlog.get_logger(__name__)

APP_NAME = "paris-live-streams"


@dataclass(frozen=True)
class AppOptions:
    """How to run the worker (beyond :class:`WorkerConfig`)."""

    worker: WorkerConfig = field(default_factory=WorkerConfig)
    fast_path: bool = True
    """Batch hand-off from the consumer (True) or faust's per-event agent path (False)."""
    database_url: str | None = None
    """History/checkpoint database; defaults to ``settings.database`` (tests point it at a proxy)."""
    metrics_port: int | None = None
    """Serve Prometheus ``/metrics`` on 127.0.0.1:port from the worker (None: no web server)."""
    max_poll_records: int = 10_000
    max_fetch_bytes_per_partition: int = 8 * 1024 * 1024
    """Bigger fetches mean fewer round trips through faust's consumer thread (see run_worker)."""
    spool_dir: Path | None = None
    group_id: str | None = None
    """Consumer group (= faust app id); defaults to ``settings.topic("paris-live-streams")``."""


class _Record(NamedTuple):
    """The fields of a Kafka record the processor reads (per-event path adapter)."""

    offset: int
    key: bytes | None
    value: bytes | None
    timestamp: int
    headers: Any = ()


class StreamsApp(BatchApp):
    """The worker's faust app: its consumer hands input batches to :attr:`batch_handler`."""

    runtime: StreamsRuntime

    def on_init_dependencies(self) -> Iterable[Any]:
        # the runtime (sinks, processor) starts before the consumer and stops after it
        return [self.runtime, *super().on_init_dependencies()]


class StreamsRuntime(Service):
    """Sinks, spool, history writer and processor of one worker process."""

    def __init__(
        self,
        app: StreamsApp,
        settings: Settings,
        options: AppOptions,
        catalogue: Catalogue,
        machines: MachineFactory,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.app = app
        self.settings = settings
        self.options = options
        self.catalogue = catalogue
        self.machines = machines
        self.group_id = app.conf.id
        self.input_topics = frozenset(settings.topic(t) for t in contract.INPUT_TOPICS)
        self._processor: Processor | None = None
        self.redis: RedisSink | None = None
        self.kafka: KafkaSink | None = None
        self.writer: HistoryWriter | None = None
        self.spool: Spool | None = None
        self._runtime_ready = asyncio.Event()

    @property
    def processor(self) -> Processor:
        assert self._processor is not None, "runtime not started"
        return self._processor

    async def on_start(self) -> None:
        settings, options = self.settings, self.options
        url = options.database_url or settings.database
        while True:  # the checkpoint tables must exist before any partition can be served
            try:
                await migrate(settings.model_copy(update={"database_url": url}))
                break
            except (psycopg.OperationalError, OSError) as exc:
                log.warning("database_unavailable_at_start", error=str(exc))
                await asyncio.sleep(1.0)
        self.redis = RedisSink(settings)
        self.kafka = KafkaSink(settings.kafka, client_id=f"{self.group_id}-sinks")
        await self.kafka.start()
        spool_dir = options.spool_dir or default_spool_dir(settings.state_dir, self.group_id)
        self.spool = Spool(
            spool_dir,
            memory_bytes=options.worker.spool_memory_bytes,
            disk_bytes=options.worker.spool_disk_bytes,
        )
        dead_letters = DeadLetters(
            self.kafka,
            settings.topic(contract.DEAD_LETTERS),
            max_raw_bytes=settings.dead_letter_max_raw_bytes,
        )
        self.writer = HistoryWriter(
            settings,
            self.spool,
            self.group_id,
            self._on_history_stored,
            database_url=url,
            max_rows=options.worker.history_max_rows,
            effects=self.kafka,
            dead_letters=dead_letters,
        )
        self._processor = Processor(
            catalogue=self.catalogue,
            partitions=settings.partitions,
            machines=self.machines,
            redis=self.redis,
            kafka=self.kafka,
            dead_letters=dead_letters,
            status_topic=settings.topic(contract.STATUS),
            spool=self.spool,
            load_checkpoint=self._load_checkpoint,
            commit=self._commit,
            history=self.writer,
            config=options.worker,
            windows=time_windows(settings),
        )
        self._runtime_ready.set()

    async def _load_checkpoint(self, partition: int) -> recovery.PartitionCheckpoint:
        url = self.options.database_url or self.settings.database
        async with await psycopg.AsyncConnection.connect(url, connect_timeout=5) as conn:
            await conn.execute(search_path(self.settings.db_schema))
            return await recovery.load_partition(conn, self.group_id, partition)

    async def _on_history_stored(self, merged: MergedBatch) -> None:
        if merged.snapshot_marks:
            await self._commit(self.processor.commit_offsets_for(merged.snapshot_marks))

    async def _commit(self, offsets: dict[tuple[str, int], int]) -> None:
        if not offsets:
            return
        consumer = cast(BatchConsumer, self.app.consumer)
        consumer.set_committable({TP(topic, p): off for (topic, p), off in offsets.items()})
        await consumer.commit()

    @Service.task
    async def _live_loop(self) -> None:
        await self._runtime_ready.wait()
        await self.processor.publish_forever(lambda: self.should_stop)

    @Service.task
    async def _history_loop(self) -> None:
        await self._runtime_ready.wait()
        assert self.writer is not None
        await self.writer.run()

    @Service.task
    async def _settle_heap(self) -> None:
        """Once the partitions first assigned are restored (catalogue loaded, machines built),
        freeze that heap out of the cyclic collector and make collections rare
        (:func:`paris_live.runtime_gc.settle_heap`)."""
        await self._runtime_ready.wait()
        while not self.should_stop:
            states = list(self.processor.partitions.values())
            if states and all(s.ready.is_set() for s in states):
                frozen = settle_heap()
                log.info("heap_settled", frozen_objects=frozen, partitions=len(states))
                return
            await self.sleep(0.2)

    @Service.task
    async def _stall_watch(self) -> None:
        """Every 5 s: a partition of this worker with records to read whose fetch position has
        not moved for 15 s is logged (``partition_stalled``) with what faust and aiokafka hold of
        it — a consumer that silently stopped fetching is otherwise invisible."""
        await self._runtime_ready.wait()
        consumer = cast(BatchConsumer, self.app.consumer)
        last: dict[TP, tuple[Any, int]] = {}
        while not self.should_stop:
            await self.sleep(5.0)
            try:
                tps = {tp for tp in consumer.assignment() if tp.topic in self.input_topics}
            except Exception:
                continue
            for tp, st in consumer.fetch_state(tps).items():
                position, highwater = st["position"], st["highwater"]
                behind = position is not None and highwater is not None and position < highwater
                seen, still = last.get(tp, (None, 0))
                still = still + 1 if behind and position == seen else 0
                last[tp] = (position, still)
                if still == 3:
                    metrics.PARTITION_STALLS.labels(
                        topic=tp.topic, partition=str(tp.partition)
                    ).inc()
                    part = self.processor.partitions.get(tp.partition)
                    log.warning(
                        "partition_stalled",
                        topic=tp.topic,
                        partition=tp.partition,
                        ready=part is not None and part.ready.is_set(),
                        revoked=part is not None and part.revoked,
                        applied=part.applied.get(tp.topic) if part is not None else None,
                        generation=self.app.consumer_generation_id,
                        **st,
                    )

    async def assigned(self, tps: set[TP]) -> None:
        await self._runtime_ready.wait()
        owned = {tp.partition for tp in tps if tp.topic in self.input_topics}
        gone = [p for p in self.processor.partitions if p not in owned]
        log.info(
            "partitions_assigned",
            owned=sorted(owned),
            kept=sorted(p for p in owned if p in self.processor.partitions),
            gone=sorted(gone),
            generation=self.app.consumer_generation_id,
        )
        self.processor.assign(owned)  # first: faust may already be fetching them
        if gone:
            await self.processor.revoke(gone)

    async def checkpoint(self, within: float = 10.0) -> None:
        """Flush live status, snapshot every machine, wait for PostgreSQL, commit (rebalance/stop)."""
        if self._processor is None or self.writer is None:
            return
        try:
            await asyncio.wait_for(self.processor.flush_live(force_snapshot=True), within)
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.warning("checkpoint_flush_failed", error=str(exc))
        if not await self.writer.wait_idle(within):
            log.warning("checkpoint_history_timeout", backlog=self.spool.rows if self.spool else 0)
        log.info(
            "checkpointed",
            applied={p: s.applied for p, s in self.processor.partitions.items()},
        )

    async def on_stop(self) -> None:
        if self.writer is not None:
            await self.writer.close()
        if self.kafka is not None:
            try:
                await self.kafka.stop()
            except Exception as exc:
                log.warning("kafka_sink_stop_failed", error=str(exc))
        if self.redis is not None:
            await self.redis.close()
        if self.spool is not None:
            self.spool.close()


class FetchGaps:
    """Whether a fetched batch follows what a partition applied.

    A batch whose first offset is past the next one to apply was fetched from a position that a
    seek has since moved back (faust's at the end of a rebalance, or the worker's after refusing
    a batch) and handed over after it: applying it would make the records in between look
    applied, and they would be skipped for good. Such a batch is read again from the first record
    not applied — unless the same gap comes back: those records left the log (retention)."""

    def __init__(self) -> None:
        self._last: dict[TP, tuple[int, int]] = {}

    def check(self, tp: TP, applied: int | None, first: int) -> str:
        """ "apply", "read_again" (seek to ``applied + 1``) or "gone" (apply, records lost)."""
        if applied is None or first <= applied + 1:
            self._last.pop(tp, None)
            return "apply"
        if self._last.get(tp) == (applied, first):
            del self._last[tp]
            return "gone"
        self._last[tp] = (applied, first)
        return "read_again"


def time_windows(settings: Settings) -> dict[str, TimeWindow]:
    """The event time window of each input topic: ``event_max_future_s`` ahead, and back to
    ``event_max_age_s`` or, when that is unset, the topic's retention."""
    windows = {}
    for base in contract.INPUT_TOPICS:
        retention_ms = contract.TOPICS[base].retention_ms
        max_age = settings.event_max_age_s
        if max_age is None and retention_ms is not None:
            max_age = retention_ms / 1000.0
        windows[settings.topic(base)] = TimeWindow(settings.event_max_future_s, max_age)
    return windows


def create_app(
    settings: Settings,
    options: AppOptions | None = None,
    *,
    catalogue: Catalogue | None = None,
    machines: MachineFactory | None = None,
) -> StreamsApp:
    """The worker's faust app for these settings (group id and topics carry the topic prefix)."""
    options = options or AppOptions()
    if options.fast_path:
        check_faust_version()
    catalogue = catalogue or load_catalogue()
    group_id = options.group_id or settings.topic(APP_NAME)
    datadir = settings.state_dir / "faust" / group_id
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = StreamsApp(
        group_id,
        broker=f"kafka://{settings.kafka}",
        key_serializer="raw",
        value_serializer="raw",
        topic_partitions=settings.partitions,
        topic_disable_leader=True,
        consumer_auto_offset_reset="earliest",
        stream_wait_empty=False,
        broker_max_poll_records=options.max_poll_records,
        consumer_max_fetch_size=options.max_fetch_bytes_per_partition,
        broker_commit_interval=1.0,
        # A worker that dies (kill -9) gives its partitions up after 10 s, not faust's default 60 s.
        broker_session_timeout=10.0,
        broker_heartbeat_interval=3.0,
        web_enabled=options.metrics_port is not None,
        web_bind="127.0.0.1",
        web_port=options.metrics_port or 6066,
        datadir=str(datadir),
        store="memory://",
    )
    runtime = StreamsRuntime(
        app, settings, options, catalogue, machines or CoreMachines(), loop=None
    )
    app.runtime = runtime
    input_names = [settings.topic(t) for t in contract.INPUT_TOPICS]
    inputs = app.topic(*input_names, key_serializer="raw", value_serializer="raw")

    if options.fast_path:
        gaps = FetchGaps()

        async def handle_batch(
            tp: TP, records: list[Any], current: Callable[[], bool]
        ) -> bool | None:
            """Apply one fetched batch; False if the partition was revoked meanwhile, None if it
            does not follow what was applied (its position was moved back)."""
            processor = runtime.processor
            state = processor.partitions.get(tp.partition)
            while state is None and current():
                # faust resumed fetching before on_assigned gave the partition to the processor
                # (it may still be checkpointing the partitions it lost): wait for it
                await asyncio.sleep(0.05)
                state = processor.partitions.get(tp.partition)
            if state is None or not state.ready.is_set():
                state = await processor.wait_ready(tp.partition)
            assert runtime.spool is not None
            await runtime.spool.wait_for_room()  # backpressure while history cannot be written
            if state is None or state.revoked or not current():
                return False
            applied = state.applied.get(tp.topic)
            first = records[0].offset
            verdict = gaps.check(tp, applied, first)
            if verdict == "read_again":
                log.info(
                    "fetch_gap_read_again",
                    topic=tp.topic,
                    partition=tp.partition,
                    applied=applied,
                    first=first,
                )
                await app.consumer.seek(tp, (applied or 0) + 1)
                return None
            if verdict == "gone":
                log.warning(
                    "records_gone_before_read",
                    topic=tp.topic,
                    partition=tp.partition,
                    applied=applied,
                    first=first,
                )
            with bound_contextvars(topic=tp.topic, partition=tp.partition):
                processor.handle_records(state, tp.topic, records)
            return True

        app.batch_handler = handle_batch
        app.batch_topics = frozenset(input_names)

    @app.agent(inputs, name="facility-events")
    async def facility_events(stream: faust.StreamT[bytes]) -> None:
        """Per-event path (``fast_path=False``); with the fast path it receives nothing."""
        async for event in cast(Any, stream).noack().events():
            message = event.message
            processor = runtime.processor
            state = await processor.wait_ready(message.partition)
            if state is None:
                continue
            ts = int((message.timestamp or 0) * 1000)
            processor.handle_records(
                state,
                message.topic,
                [_Record(message.offset, message.key, message.value, ts, message.headers or ())],
            )

    @app.timer(options.worker.tick_interval)  # type: ignore[untyped-decorator]
    async def tick() -> None:
        """Open → closing soon → closed (and staleness) happen on time, without any event."""
        if runtime._processor is not None:
            runtime.processor.tick()

    # faust's eager rebalancing revokes every partition, then assigns the new set: checkpoint all
    # on revoke (another worker may get them), keep the state of those assigned back.
    async def on_revoked(sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        await runtime.checkpoint()

    async def on_assigned(sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        assigned: set[TP] = args[0] if args else kwargs.get("assigned", set())
        await runtime.assigned(assigned)

    async def on_shutdown(sender: Any, *args: Any, signal: Any = None, **kwargs: Any) -> None:
        await runtime.checkpoint()

    # (mode's signal typing rejects coroutine receivers, which it supports: hence the casts)
    app.on_partitions_revoked.connect(cast(Any, on_revoked))
    app.on_partitions_assigned.connect(cast(Any, on_assigned))
    app.on_before_shutdown.connect(cast(Any, on_shutdown))

    if options.metrics_port is not None:
        from faust.contrib.asgi import serve_asgi
        from prometheus_client import make_asgi_app

        serve_asgi(
            app,
            _MetricsApp(make_asgi_app()),
            host="127.0.0.1",
            port=options.metrics_port,
            interface="asgi3",  # uvicorn's guess takes prometheus' app for ASGI2
            lifespan="off",
            log_level="warning",
        )

    return app


class _MetricsApp:
    """prometheus-client's ASGI app in an object: ``serve_asgi`` stores the app as a class
    attribute, which would turn a plain function into a method (and pass it ``self``)."""

    def __init__(self, asgi: Any) -> None:
        self._asgi = asgi

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self._asgi(scope, receive, send)


def with_worker(options: AppOptions, **changes: Any) -> AppOptions:
    """A copy of ``options`` with some :class:`WorkerConfig` fields changed."""
    return replace(options, worker=replace(options.worker, **changes))


def run_worker(app: StreamsApp, *, loglevel: str = "info") -> None:
    """Run the faust worker for ``app`` in this process until SIGTERM/SIGINT (blocking)."""
    # faust runs the aiokafka consumer in its own thread: with the default 5 ms GIL switch
    # interval that thread waits up to 5 ms per wake-up while the main thread applies a batch,
    # and fetching stalls. 0.5 ms lets it keep the fetch pipeline full (measured in bench.ingest).
    sys.setswitchinterval(0.0005)
    record_pauses()  # (only when PARIS_LIVE_GC_PAUSES names a file: diagnostics)
    asyncio.set_event_loop(asyncio.new_event_loop())
    worker = faust.Worker(app, loglevel=loglevel, quiet=True, redirect_stdouts=False)
    worker.execute_from_commandline()
