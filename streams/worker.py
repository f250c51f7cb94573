"""The processing shell around the pure state machines: records in, effects out, offsets committed.

A :class:`Processor` owns the partitions faust assigned to this worker. For each partition it keeps
one :class:`~streams.core.machine.FacilityMachine` per catalogue facility hashed to it (Kafka's
default partitioner, the key being the facility id), so timers run even for a facility that never
sends an event. The hot path, :meth:`Processor.handle_records`, takes a whole fetched batch of one
topic-partition: decode with the fast codec, apply to the machine, encode the history row — no
per-event framework object, no await.

Effects are coalesced and flushed by :meth:`Processor.flush_live` every ``live_interval``
(100 ms): each facility that changed is written once to Redis and ``facility-status`` whatever
the event rate; dead letters are delivered; then the history accumulated up to that point is cut
into a :class:`~streams.sinks.spool.HistoryBatch` carrying the offsets it covers, and handed to the
PostgreSQL writer. Kafka offsets are committed once PostgreSQL holds the checkpoint (see
:mod:`streams.recovery` for why that is exactly-once in effect).

Records the machine must not see never stop the flow: undecodable or invalid ones, and events
whose ``time`` is outside the topic's window (:class:`~streams.core.policy.TimeWindow`), go to
``dead-letters``. A valid event on a partition that does not own its facility (a producer that
hashes keys with CRC32 — librdkafka's default — instead of Java's murmur2) is *forwarded* to the
owning partition of the same topic, bytes and headers kept, as Kafka Streams repartitions. Dead
letters and forwards are reliable records of the Kafka sink; a history batch carries the sink's
sequence number at its cut (``effects_seq``) and the writer stores its checkpoint — after which
the offsets are committed — only once they are all acknowledged.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import structlog
from aiokafka.partitioner import murmur2

from schemas.catalogue import Catalogue, Facility
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import CloudEvent
from schemas.status import FacilityStatus
from streams import metrics, recovery
from streams.core.policy import TimeWindow, reference_instant
from streams.deadletters import DeadLetters
from streams.sinks.kafka import KafkaSink, Outgoing
from streams.sinks.postgres import event_row, status_change_row, utc_iso
from streams.sinks.redis import LiveStatus, RedisSink
from streams.sinks.spool import HistoryBatch, Rollup, Spool

PROCESSING_ERROR = "processing_error"
"""Dead-letter reason when the state machine raised on a valid event (a bug, never a crash)."""
FORWARDED_FROM = "forwarded-from"
"""Header added to a forwarded record: ``<topic>/<partition>/<offset>`` it was first read at."""

log = structlog.get_logger(__name__)


class Machine(Protocol):
    """What the worker needs of :class:`streams.core.machine.FacilityMachine`."""

    def apply(self, event: CloudEvent, now: dt.datetime) -> bool: ...
    def tick(self, now: dt.datetime) -> bool: ...
    def next_wakeup(self) -> dt.datetime | None: ...
    def status(self) -> FacilityStatus: ...
    def drain_rollups(self) -> list[Any]: ...
    def to_snapshot(self) -> dict[str, Any]: ...


class HistorySink(Protocol):
    """What the worker needs of :class:`streams.sinks.postgres.HistoryWriter`."""

    def wake(self) -> None: ...
    async def wait_idle(self, within: float) -> bool: ...


class MachineFactory(Protocol):
    def new(self, facility: Facility) -> Machine: ...
    def restore(self, facility: Facility, state: dict[str, Any]) -> Machine: ...


class CoreMachines:
    """The real factory: :mod:`streams.core.machine` with its default configuration."""

    def __init__(self) -> None:
        from streams.core.machine import FacilityMachine, MachineConfig

        self._cls = FacilityMachine
        self._cfg = MachineConfig()

    def new(self, facility: Facility) -> Machine:
        machine: Machine = self._cls(facility, self._cfg)
        return machine

    def restore(self, facility: Facility, state: dict[str, Any]) -> Machine:
        machine: Machine = self._cls.from_snapshot(facility, state, self._cfg)
        return machine


@dataclass(frozen=True)
class WorkerConfig:
    """Tuning of the worker; the defaults are what production runs."""

    live_interval: float = 0.05
    """Coalescing window of live writes (Redis, ``facility-status``): one write per facility per
    window whatever the event rate; it adds half a window to the end-to-end latency on average."""
    history_interval: float = 0.5
    """How often the history of a partition is cut into a batch for PostgreSQL."""
    snapshot_interval: float = 30.0
    """Snapshot the machines that changed every this many seconds (a snapshot holds the dedup
    window, up to a few hundred kB per facility; a restart replays at most this much)."""
    status_history_interval: float = 60.0
    """A ``status_changes`` row is written when the open state, closures, occupancy level or
    staleness change, and otherwise at most once per this many seconds per facility."""
    tick_interval: float = 1.0
    spool_memory_bytes: int = 256 * 1024 * 1024
    spool_disk_bytes: int = 4 * 1024 * 1024 * 1024
    history_max_rows: int = 50_000


def partition_for(facility_id: str, partitions: int) -> int:
    """The partition Kafka's default partitioner puts a facility's records in."""
    return int(murmur2(facility_id.encode()) & 0x7FFFFFFF) % partitions


@dataclass
class PartitionState:
    """Everything this worker holds for one partition of the co-partitioned input topics."""

    partition: int
    machines: dict[str, Machine] = field(default_factory=dict)
    seq_bump: dict[str, int] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)
    """Last offset applied to the state, per topic."""
    effects_until: dict[str, int] = field(default_factory=dict)
    """Offsets whose effects are already stored (replayed silently after a restart)."""
    live_dirty: set[str] = field(default_factory=set)
    snap_dirty: set[str] = field(default_factory=set)
    recorded: dict[str, tuple[tuple[Any, ...], float]] = field(default_factory=dict)
    batch: HistoryBatch | None = None
    last_snapshot: float = 0.0
    last_cut: float = 0.0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    revoked: bool = False

    def current_batch(self) -> HistoryBatch:
        if self.batch is None:
            self.batch = HistoryBatch(self.partition, {})
        return self.batch


class Processor:
    """Owns the machines of the assigned partitions and turns records into effects."""

    def __init__(
        self,
        *,
        catalogue: Catalogue,
        partitions: int,
        machines: MachineFactory,
        redis: RedisSink,
        kafka: KafkaSink,
        dead_letters: DeadLetters,
        status_topic: str,
        spool: Spool,
        load_checkpoint: Callable[[int], Awaitable[recovery.PartitionCheckpoint]],
        commit: Callable[[dict[tuple[str, int], int]], Awaitable[None]],
        history: HistorySink,
        config: WorkerConfig | None = None,
        clock: Callable[[], dt.datetime] | None = None,
        windows: dict[str, TimeWindow] | None = None,
    ) -> None:
        self.config = config or WorkerConfig()
        self._catalogue = catalogue
        self._ids = catalogue.ids
        self._n_partitions = partitions
        self._owner = {fid: partition_for(fid, partitions) for fid in catalogue.ids}
        self._machines = machines
        self._redis = redis
        self._kafka = kafka
        self._dead = dead_letters
        self._status_topic = status_topic
        self._spool = spool
        self._load_checkpoint = load_checkpoint
        self._commit = commit
        self._history = history
        self._clock = clock or (lambda: dt.datetime.now(PARIS))
        self._windows = windows or {}
        """Event time window per input topic (the default window for a topic not listed)."""
        self.partitions: dict[int, PartitionState] = {}
        self._recoveries: dict[int, asyncio.Task[None]] = {}
        self._flush_lock = asyncio.Lock()
        self.applied_events = 0

    # -- assignment -------------------------------------------------------------------------

    def assign(self, partitions: Iterable[int]) -> None:
        """Start recovering newly assigned partitions (their records wait until ready)."""
        for p in partitions:
            if p in self.partitions and not self.partitions[p].revoked:
                continue
            state = PartitionState(p)
            self.partitions[p] = state
            self._recoveries[p] = asyncio.ensure_future(self._recover(state))
        metrics.FACILITIES.set(sum(len(s.machines) for s in self.partitions.values()))

    async def wait_ready(self, partition: int) -> PartitionState | None:
        """The partition's state once recovered; None if it is not (or no longer) ours."""
        state = self.partitions.get(partition)
        if state is None:  # a batch fetched before a rebalance took the partition away
            log.info("records_of_unassigned_partition_dropped", partition=partition)
            return None
        await state.ready.wait()
        return None if state.revoked else state

    async def _recover(self, state: PartitionState) -> None:
        backoff = 0.2
        while True:
            try:
                checkpoint = await self._load_checkpoint(state.partition)
                break
            except Exception as exc:  # PostgreSQL down: this partition waits, others flow
                log.warning("checkpoint_unavailable", partition=state.partition, error=str(exc))
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
        facilities = [f for f in self._catalogue if self._owner[f.id] == state.partition]
        for facility in facilities:
            saved = checkpoint.states.get(facility.id)
            if saved is not None:
                state.machines[facility.id] = self._machines.restore(facility, saved["machine"])
                state.seq_bump[facility.id] = int(saved.get("seq_bump", 0))
            else:
                state.machines[facility.id] = self._machines.new(facility)
        state.applied = dict(checkpoint.snapshot)
        state.effects_until = dict(checkpoint.effects)
        # Redis may be ahead of the snapshot (it kept updating while PostgreSQL was down):
        # publish above what it holds so that readers never see seq go backwards.
        stored = await self._redis.stored_seqs(list(state.machines))
        for fid, machine in state.machines.items():
            held = stored.get(fid)
            if held is None:
                state.live_dirty.add(fid)  # never published: give it a status now
                continue
            current = machine.status().seq + state.seq_bump.get(fid, 0)
            if held > current:
                state.seq_bump[fid] = state.seq_bump.get(fid, 0) + held - current
        state.last_cut = state.last_snapshot = time.monotonic()
        state.ready.set()
        metrics.FACILITIES.set(sum(len(s.machines) for s in self.partitions.values()))
        log.info(
            "partition_ready",
            partition=state.partition,
            facilities=len(state.machines),
            restored=len(checkpoint.states),
            snapshot_offsets=checkpoint.snapshot,
            effects_offsets=checkpoint.effects,
        )

    async def revoke(self, partitions: Iterable[int], *, within: float = 10.0) -> None:
        """Flush and checkpoint what this worker did for the partitions, then forget them."""
        doomed = [self.partitions[p] for p in partitions if p in self.partitions]
        if not doomed:
            return
        ready = [s for s in doomed if s.ready.is_set() and not s.revoked]
        for state in doomed:
            task = self._recoveries.pop(state.partition, None)
            if task is not None and not task.done():
                task.cancel()
                state.revoked = True
                state.ready.set()  # wake whoever waits for it: it will not be served here
        try:
            await asyncio.wait_for(self.flush_live(force_snapshot=True, only=ready), within)
        except (TimeoutError, OSError, ConnectionError) as exc:
            log.warning("revoke_flush_failed", error=str(exc))
        if not await self._history.wait_idle(within):
            log.warning("revoke_history_timeout", partitions=[s.partition for s in doomed])
        for state in doomed:
            state.revoked = True
            state.ready.set()
            dropped = self._spool.purge_partition(state.partition)
            if dropped:
                log.warning(
                    "history_left_to_next_owner", partition=state.partition, batches=dropped
                )
            self.partitions.pop(state.partition, None)
        metrics.FACILITIES.set(sum(len(s.machines) for s in self.partitions.values()))

    # -- hot path ---------------------------------------------------------------------------

    def handle_records(self, state: PartitionState, topic: str, records: Sequence[Any]) -> int:
        """Apply a fetched batch of one topic-partition; returns how many records were new."""
        applied_upto = state.applied.get(topic, -1)
        effects_upto = state.effects_until.get(topic, -1)
        partition = state.partition
        machines = state.machines
        owner = self._owner
        ids = self._ids
        live_dirty = state.live_dirty
        snap_dirty = state.snap_dirty
        batch = state.current_batch()
        rows = batch.events
        now = self._clock()
        now_s = now.timestamp()
        window = self._windows.get(topic) or _DEFAULT_WINDOW
        n = 0
        last_ts = None
        for rec in records:
            offset = rec.offset
            if offset <= applied_upto:
                continue  # already in the restored state
            n += 1
            applied_upto = offset
            silent = offset <= effects_upto  # effects already stored: rebuild state only
            raw = rec.value
            try:
                if raw is None:
                    raise InvalidEvent(Reason.BAD_JSON, None, "empty record (tombstone)")
                event = decode_event(raw, facilities=ids)
                fid = event.subject
                refusal = window.refusal(
                    event.time.timestamp(), reference_instant(now_s, rec.timestamp)
                )
                if refusal is not None:
                    raise InvalidEvent(Reason.TIME_OUT_OF_RANGE, "time", refusal)
                if owner[fid] != partition:
                    if not silent:  # (silent: forwarded before the restart)
                        self._forward(topic, partition, rec, fid, owner[fid], now)
                    continue
            except InvalidEvent as exc:
                if not silent:
                    self._dead.refuse(
                        exc,
                        topic=topic,
                        partition=partition,
                        offset=offset,
                        key=rec.key,
                        raw=raw,
                        received_at=now,
                    )
                continue
            try:
                changed = machines[fid].apply(event, now)
            except Exception as exc:  # a bug in the core must not stop the flow
                log.exception(
                    "machine_failed",
                    facility_id=fid,
                    event_id=event.id,
                    topic=topic,
                    partition=partition,
                    offset=offset,
                )
                if not silent:
                    self._dead.refuse(
                        InvalidEvent(PROCESSING_ERROR, None, f"{type(exc).__name__}: {exc}"),
                        topic=topic,
                        partition=partition,
                        offset=offset,
                        key=rec.key,
                        raw=raw,
                        received_at=now,
                    )
                continue
            if changed:
                snap_dirty.add(fid)
                if not silent:
                    live_dirty.add(fid)
            if not silent:
                rows += event_row(event, topic, partition, offset)
                batch.n_events += 1
            last_ts = rec.timestamp
        if n:
            state.applied[topic] = applied_upto
            self.applied_events += n
            metrics.EVENTS.labels(topic=topic).inc(n)
            if last_ts is not None:
                metrics.PROCESSING_LAG.set(max(0.0, time.time() - last_ts / 1000.0))
        return n

    def _forward(
        self, topic: str, partition: int, rec: Any, fid: str, target: int, now: dt.datetime
    ) -> None:
        """Send a valid event read on the wrong partition to its facility's partition."""
        offset = rec.offset
        headers = [
            *_headers_of(rec),
            (FORWARDED_FROM, f"{topic}/{partition}/{offset}".encode()),
        ]
        dead = self._dead

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

        self._kafka.send_reliable(
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

    def tick(self) -> int:
        """Advance every machine whose wakeup time passed (open → closing soon → closed …)."""
        now = self._clock()
        changed = 0
        for state in list(self.partitions.values()):
            if not state.ready.is_set():
                continue
            for fid, machine in state.machines.items():
                wakeup = machine.next_wakeup()
                if wakeup is not None and wakeup <= now and machine.tick(now):
                    state.live_dirty.add(fid)
                    state.snap_dirty.add(fid)
                    changed += 1
        return changed

    # -- flushing ---------------------------------------------------------------------------

    async def flush_live(
        self, *, force_snapshot: bool = False, only: Sequence[PartitionState] | None = None
    ) -> int:
        """Publish what changed, then hand the history up to this point to PostgreSQL."""
        async with self._flush_lock:
            return await self._flush_live(force_snapshot, only)

    async def _flush_live(self, force_snapshot: bool, only: Sequence[PartitionState] | None) -> int:
        mono = time.monotonic()
        statuses: list[LiveStatus] = []
        cut: list[HistoryBatch] = []
        states = list(only) if only is not None else list(self.partitions.values())
        for state in states:
            if not state.ready.is_set() or state.revoked:
                continue
            self._collect_statuses(state, statuses, mono)
            due = force_snapshot or mono - state.last_cut >= self.config.history_interval
            if due:
                cut.append(self._cut_batch(state, force_snapshot, mono))
        # Everything above ran without an await: statuses, rows and marks are one consistent cut.
        # History first: the rows this cut took out of the partitions must reach the spool whatever
        # happens to the live sinks below (a Redis outage once dropped them for good).
        for batch in cut:
            if batch.rows or batch.marks or batch.snapshots:
                await self._spool.wait_for_room()
                self._spool.push(batch)
        if cut:
            self._history.wake()
        if statuses:
            try:
                await self._redis.write(statuses)
            except Exception:
                self._republish_later(statuses, states)
                raise
            send = self._kafka.send
            topic = self._status_topic
            for st in statuses:
                send(topic, st.facility_id.encode(), st.json)
        await self._kafka.flush()
        return len(statuses)

    @staticmethod
    def _republish_later(statuses: Sequence[LiveStatus], states: Sequence[PartitionState]) -> None:
        """Mark facilities whose status could not be stored as changed again: the next flush
        publishes their latest status (Redis keeps only a newer seq, so nothing goes backwards)."""
        pending = {st.facility_id for st in statuses}
        for state in states:
            owned = pending.intersection(state.machines)
            state.live_dirty |= owned

    def _collect_statuses(self, state: PartitionState, out: list[LiveStatus], mono: float) -> None:
        if not state.live_dirty:
            return
        dirty, state.live_dirty = state.live_dirty, set()
        batch = state.current_batch()
        interval = self.config.status_history_interval
        for fid in dirty:
            status = state.machines[fid].status()
            bump = state.seq_bump.get(fid, 0)
            if bump:
                status = status.model_copy(update={"seq": status.seq + bump})
            json = status.to_json()
            out.append(LiveStatus(fid, status.seq, json, status.updated_at.isoformat()))
            occ = status.occupancy
            key = (
                status.open_state,
                status.stale,
                tuple(sorted(c.closure_id for c in status.closures)),
                occ.level if occ is not None else None,
            )
            last = state.recorded.get(fid)
            if last is None or last[0] != key or mono - last[1] >= interval:
                state.recorded[fid] = (key, mono)
                batch.status_changes += status_change_row(status, json)
                batch.n_status_changes += 1

    def _cut_batch(self, state: PartitionState, force_snapshot: bool, mono: float) -> HistoryBatch:
        batch = state.current_batch()
        state.batch = None
        state.last_cut = mono
        batch.marks = dict(state.applied)
        batch.effects_seq = self._kafka.last_seq  # dead letters and forwards of these records
        for fid, machine in state.machines.items():
            for fig in machine.drain_rollups():
                batch.rollups.append(rollup_from(fid, fig))
        if force_snapshot or mono - state.last_snapshot >= self.config.snapshot_interval:
            batch.snapshots = {
                fid: recovery.encode_snapshot(
                    {
                        "machine": state.machines[fid].to_snapshot(),
                        "seq_bump": state.seq_bump.get(fid, 0),
                    }
                )
                for fid in state.snap_dirty
            }
            state.snap_dirty = set()
            state.last_snapshot = mono
        return batch

    def commit_offsets_for(
        self, snapshot_marks: dict[int, dict[str, int]]
    ) -> dict[tuple[str, int], int]:
        """Kafka offsets to commit once a checkpoint is stored: next offset after the snapshot."""
        return {
            (topic, partition): offset + 1
            for partition, marks in snapshot_marks.items()
            if partition in self.partitions
            for topic, offset in marks.items()
        }


_DEFAULT_WINDOW = TimeWindow()


def _headers_of(rec: Any) -> list[tuple[str, bytes]]:
    """A consumed record's headers as a list of (name, bytes) (aiokafka, faust or test record)."""
    headers = getattr(rec, "headers", None) or ()
    if isinstance(headers, dict):
        headers = headers.items()
    return [(str(name), bytes(value)) for name, value in headers]


def rollup_from(facility_id: str, fig: Any) -> Rollup:
    """An ``occupancy_1m`` row from a figure of ``drain_rollups()`` (attributes or mapping)."""
    get = (
        fig.get
        if isinstance(fig, dict)
        else (lambda name, default=None: getattr(fig, name, default))
    )
    bucket = get("bucket")
    return Rollup(
        facility_id=get("facility_id", facility_id) or facility_id,
        bucket=utc_iso(bucket) if isinstance(bucket, dt.datetime) else str(bucket),
        count_avg=float(get("count_avg", 0.0)),
        count_min=get("count_min"),
        count_max=get("count_max"),
        count_last=get("count_last"),
        capacity=get("capacity"),
        passages_in=int(get("passages_in", 0) or 0),
        passages_out=int(get("passages_out", 0) or 0),
        samples=int(get("samples", 1) or 1),
    )
