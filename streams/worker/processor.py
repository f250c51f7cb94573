"""The processing shell around the pure state machines: records in, effects out, offsets committed.

A :class:`Processor` owns the partitions faust assigned to this worker. For each partition it keeps
one :class:`~streams.core.machine.FacilityMachine` per catalogue facility hashed to it (Kafka's
default partitioner, the key being the facility id), so timers run even for a facility that never
sends an event. The hot path, :meth:`Processor.handle_records`, takes a whole fetched batch of one
topic-partition: decode with the fast codec, apply to the machine, encode the history row — no
per-event framework object, no await.

Effects are coalesced and flushed by :meth:`Processor.publish_forever`, on the leading edge of a
per-facility window of ``live_interval`` (:mod:`streams.worker.publishing`): a facility not
published within the window is written to Redis and ``facility-status`` at the end of the fetched
batch that changed it; its later changes within the window are coalesced and written when the
window ends, whatever the event rate. A loop that falls behind (Redis slow) publishes the latest
state of what changed meanwhile, never a queue of stale ones. Each round delivers the dead letters,
then the history accumulated up to that point is cut (every ``history_interval``) into a
:class:`~streams.sinks.spool.HistoryBatch` carrying the offsets it covers, and handed to the
PostgreSQL writer. Kafka offsets are committed once PostgreSQL holds the checkpoint (see
:mod:`streams.recovery` for why that is exactly-once in effect).

Records the machine must not see never stop the flow: undecodable or invalid ones, and events
whose ``time`` is outside the topic's window (:class:`~streams.core.policy.TimeWindow`), go to
``dead-letters``. A valid event on a partition that does not own its facility (a producer that
hashes keys with CRC32 — librdkafka's default — instead of Java's murmur2) is *forwarded* to the
owning partition of the same topic, bytes and headers kept, as Kafka Streams repartitions
(:mod:`streams.worker.forwarding`). Dead
letters and forwards are reliable records of the Kafka sink; a history batch carries the sink's
sequence number at its cut (``effects_seq``) and the writer stores its checkpoint — after which
the offsets are committed — only once they are all acknowledged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, Protocol

import structlog

from schemas.catalogue import Catalogue
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from streams import metrics, recovery
from streams.core.policy import TimeWindow, reference_instant
from streams.deadletters import DeadLetters
from streams.sinks.copy_rows import event_row
from streams.sinks.kafka import KafkaSink
from streams.sinks.redis import LiveStatus, RedisSink
from streams.sinks.spool import HistoryBatch, Spool
from streams.worker.batching import (
    collect_statuses,
    cut_batch,
    next_snapshot_at,
    snapshot_phase,
)
from streams.worker.config import WorkerConfig
from streams.worker.forwarding import forward
from streams.worker.machines import MachineFactory
from streams.worker.partitions import PartitionState, partition_for
from streams.worker.publishing import PublishWindow

LIVE_RETRY_S = 0.5
"""Pause of the publishing loop after a failed round (Redis/Kafka hiccup); changes are kept."""

PROCESSING_ERROR = "processing_error"
"""Dead-letter reason when the state machine raised on a valid event (a bug, never a crash)."""

log = structlog.get_logger(__name__)


class HistorySink(Protocol):
    """What the worker needs of :class:`streams.sinks.postgres.HistoryWriter`."""

    def wake(self) -> None: ...
    async def wait_idle(self, within: float) -> bool: ...


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
        self.publish_window = PublishWindow(self.config.live_interval)
        self._live_wanted = asyncio.Event()
        """Set when a round of the publishing loop has something to do (records applied)."""
        self._next_round: float | None = None
        """Monotonic time of the next round due (a held facility's window end, a history cut)."""

    # -- assignment -------------------------------------------------------------------------

    def assign(self, partitions: Iterable[int]) -> None:
        """Start recovering newly assigned partitions (their records wait until ready)."""
        for p in partitions:
            if p in self.partitions and not self.partitions[p].revoked:
                continue
            phase = snapshot_phase(p, self._n_partitions, self.config.snapshot_interval)
            state = PartitionState(p, snapshot_phase=phase)
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
        state.last_cut = time.monotonic()
        state.next_snapshot = next_snapshot_at(
            state.last_cut, state.snapshot_phase, self.config.snapshot_interval
        )
        state.ready.set()
        self._live_wanted.set()
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
            self.publish_window.forget(state.machines)
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
                        forward(
                            self._kafka, self._dead, topic, partition, rec, fid, owner[fid], now
                        )
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
            except InvalidEvent as exc:  # valid shape, refused by the facility (unknown equipment)
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
            self._live_wanted.set()  # publish at the end of this batch (leading edge)
            state.applied[topic] = applied_upto
            self.applied_events += n
            metrics.EVENTS.labels(topic=topic).inc(n)
            if last_ts is not None:
                metrics.PROCESSING_LAG.set(max(0.0, time.time() - last_ts / 1000.0))
        return n

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
        if changed:
            self._live_wanted.set()
        return changed

    # -- flushing ---------------------------------------------------------------------------

    async def publish_forever(self, stopping: Callable[[], bool]) -> None:
        """The publishing loop: a round at the end of every batch that applied records, when a
        held facility's window ends, and when a history cut is due. Whatever changed while a
        round was awaiting Redis or Kafka collapses into the next one."""
        wanted = self._live_wanted
        gap = self.config.live_round_gap
        while not stopping():
            wanted.clear()
            started = time.monotonic()
            try:
                await self.flush_live(due_only=True)
            except Exception as exc:  # Redis/Kafka hiccup: keep the changes, retry shortly
                metrics.SINK_ERRORS.labels(sink="live").inc()
                log.warning("live_flush_failed", error=str(exc))
                await asyncio.sleep(LIVE_RETRY_S)
                continue
            wait = self.config.history_interval
            if self._next_round is not None:
                wait = min(wait, self._next_round - time.monotonic())
            if wait > 0 and not wanted.is_set():
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await wanted.wait()
            rest = started + gap - time.monotonic()
            if rest > 0:  # what changes meanwhile collapses into the next round
                await asyncio.sleep(rest)

    async def flush_live(
        self,
        *,
        force_snapshot: bool = False,
        only: Sequence[PartitionState] | None = None,
        due_only: bool = False,
    ) -> int:
        """Publish what changed (with ``due_only``, what the publish window lets out now), then
        hand the history up to this point to PostgreSQL (every ``history_interval``, or now with
        ``force_snapshot``)."""
        async with self._flush_lock:
            return await self._flush_live(force_snapshot, only, due_only)

    async def _flush_live(
        self, force_snapshot: bool, only: Sequence[PartitionState] | None, due_only: bool
    ) -> int:
        mono = time.monotonic()
        statuses: list[LiveStatus] = []
        cut: list[tuple[PartitionState, HistoryBatch]] = []
        states = list(only) if only is not None else list(self.partitions.values())
        window = self.publish_window
        history_interval = self.config.history_interval
        next_round: float | None = None
        for state in states:
            if not state.ready.is_set() or state.revoked:
                continue
            held_until = collect_statuses(
                state, statuses, mono, self.config, window, force=not due_only
            )
            if held_until is not None and (next_round is None or held_until < next_round):
                next_round = held_until
            due = force_snapshot or mono - state.last_cut >= history_interval
            if due:
                # effects_seq: the dead letters and forwards of these records
                batch = cut_batch(state, self._kafka.last_seq, force_snapshot, mono, self.config)
                cut.append((state, batch))
            cut_at = state.last_cut + history_interval
            if next_round is None or cut_at < next_round:
                next_round = cut_at
        self._next_round = next_round
        # Everything above ran without an await: statuses, rows and marks are one consistent cut.
        # History first: the rows this cut took out of the partitions must reach the spool whatever
        # happens to the live sinks below (a Redis outage once dropped them for good).
        pushed = False
        for state, batch in cut:
            # a cut with no rows, no snapshot due and no new offset would store the same
            # checkpoint again (an idle partition, every history_interval): not written
            moved = batch.marks != state.cut_marks or batch.snapshots is not None
            if batch.rows or batch.snapshots or (batch.marks and moved):
                await self._spool.wait_for_room()
                self._spool.push(batch)
                state.cut_marks = batch.marks
                pushed = True
        if pushed:
            self._history.wake()
        if statuses:
            primary_changes = self._redis.primary_changes
            try:
                await self._redis.write(statuses)
            except Exception:
                self._republish_later(statuses, states)
                raise
            if self._redis.primary_changes != primary_changes:
                self._republish_all()
            send = self._kafka.send
            topic = self._status_topic
            for st in statuses:
                send(topic, st.facility_id.encode(), st.json)
        await self._kafka.flush()
        return len(statuses)

    def _republish_later(
        self, statuses: Sequence[LiveStatus], states: Sequence[PartitionState]
    ) -> None:
        """Mark facilities whose status could not be stored as changed again, and due: the next
        round publishes their latest status (Redis keeps only a newer seq, so nothing goes
        backwards)."""
        pending = {st.facility_id for st in statuses}
        self.publish_window.forget(pending)
        for state in states:
            owned = pending.intersection(state.machines)
            state.live_dirty |= owned
        self._live_wanted.set()

    def _republish_all(self) -> None:
        """After a failover (or a Redis restart) the primary may have lost the last statuses the
        old one acknowledged: the next flush publishes every facility's status again (the newer
        seq is kept, so a status the primary still holds changes nothing and notifies no one)."""
        states = [s for s in self.partitions.values() if s.ready.is_set() and not s.revoked]
        for state in states:
            state.live_dirty |= set(state.machines)
        log.warning("redis_primary_changed_republishing", partitions=[s.partition for s in states])

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
