"""The feedback job: consumes the feedback topics and keeps the aggregates in PostgreSQL.

:class:`FeedbackJob` consumes ``feedback-surveys`` and ``feedback-complaints`` (consumer group
``paris-live-feedback``) and, per fetched batch, applies it in one PostgreSQL transaction
(:mod:`streams.feedback.store`: survey answers counted once, complaint figures recomputed for the
months the batch touched, from the facts), then commits the Kafka offsets (at-least-once in,
exactly-once in effect).

No record stops the job: undecodable or invalid records, events dated more than
``event_max_future_s`` ahead, and events PostgreSQL refuses for good
(:data:`~streams.feedback.store.PERMANENT_ERRORS`: the batch is then applied event by event, each
in a savepoint, and the refused ones left out) go to ``dead-letters`` with the reason
(:mod:`streams.feedback.intake`) — offsets are committed once those dead letters are acknowledged.
A lost database connection (:data:`~streams.feedback.store.TRANSIENT_ERRORS`) is retried with
backoff, the batch kept. Run it with ``paris-live feedback aggregate`` (:mod:`streams.feedback_cli`)
or ``await FeedbackJob(settings).run(stop)`` inside the stream worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
from dataclasses import dataclass, field
from typing import Any

import structlog

from schemas.catalogue import Catalogue, load_catalogue
from schemas.errors import InvalidEvent
from schemas.events import SurveySubmitted
from schemas.routing import RoutingTable, load_routing
from streams.core.policy import TimeWindow
from streams.deadletters import DeadLetters
from streams.feedback.intake import Item, decode, park, refused_by_database
from streams.feedback.store import (
    PERMANENT_ERRORS,
    TRANSIENT_ERRORS,
    apply_event,
    apply_events,
    refresh_month,
)
from streams.sinks.kafka import KafkaSink

__all__ = ["FeedbackJob", "JobStats"]

log = structlog.get_logger(__name__)


@dataclass
class JobStats:
    """What the job did since it started (tests and logs)."""

    records: int = 0
    surveys: int = 0
    complaint_events: int = 0
    dead_letters: int = 0
    batches: int = 0
    months: set[dt.date] = field(default_factory=set)


class FeedbackJob:
    """Consumes the feedback topics and keeps the aggregates in PostgreSQL (see module doc)."""

    GROUP_ID = "paris-live-feedback"

    def __init__(
        self,
        settings: Any,
        *,
        catalogue: Catalogue | None = None,
        routing: RoutingTable | None = None,
        group_id: str | None = None,
        max_records: int = 500,
    ) -> None:
        self.settings = settings
        self.catalogue = catalogue or load_catalogue()
        self.routing = routing or load_routing()
        self.group_id = group_id or settings.topic(self.GROUP_ID)
        self.max_records = max_records
        self.stats = JobStats()

    @property
    def topics(self) -> list[str]:
        from schemas.topics import COMPLAINTS, SURVEYS

        return [self.settings.topic(SURVEYS), self.settings.topic(COMPLAINTS)]

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Consume until ``stop`` is set; each batch is applied, then its offsets committed.

        No record stops the job (see the module docstring): an undecodable, invalid or
        future-dated record, or one PostgreSQL refuses for good, goes to ``dead-letters``; a
        lost database connection is retried with backoff, the batch kept.
        """
        from aiokafka import AIOKafkaConsumer

        from schemas.topics import DEAD_LETTERS

        stop = stop or asyncio.Event()
        consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=self.settings.kafka,
            group_id=self.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
        )
        sink = KafkaSink(self.settings.kafka, client_id=f"{self.group_id}-dead-letters")
        dead = DeadLetters(
            sink,
            self.settings.topic(DEAD_LETTERS),
            max_raw_bytes=getattr(self.settings, "dead_letter_max_raw_bytes", 64 * 1024),
        )
        window = TimeWindow(getattr(self.settings, "event_max_future_s", 3600.0), None)
        conn: Any = None
        try:
            # Started inside the try: a start that fails (a topic not created yet) still closes
            # both clients before the supervisor restarts the job.
            await consumer.start()
            await sink.start()
            log.info("feedback_job_started", topics=self.topics, group=self.group_id)
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=self.max_records)
                if not batches:
                    continue
                now_s = time.time()
                items: list[Item] = []
                for tp, records in batches.items():
                    for record in records:
                        self.stats.records += 1
                        try:
                            event = decode(record, window, now_s)
                        except InvalidEvent as error:
                            self._refuse(dead, error, tp.topic, tp.partition, record)
                            continue
                        items.append(Item(tp.topic, tp.partition, record, event))
                conn, months = await self._store(conn, items, dead, stop)
                if months is None:
                    break  # stopped while the database was away: nothing committed
                if not await self._settle(sink, stop):
                    break  # stopped while Kafka was away: the batch will be read again
                await consumer.commit()
                self.stats.batches += 1
                self.stats.months |= months
                events = [item.event for item in items]
                self.stats.surveys += sum(isinstance(e, SurveySubmitted) for e in events)
                self.stats.complaint_events += sum(
                    not isinstance(e, SurveySubmitted) for e in events
                )
        finally:
            if conn is not None:
                await conn.close()
            try:
                await sink.stop()
            except Exception as exc:
                log.warning("feedback_dead_letters_stop_failed", error=str(exc))
            await consumer.stop()
            log.info("feedback_job_stopped", records=self.stats.records)

    def _refuse(
        self, dead: DeadLetters, error: InvalidEvent, topic: str, partition: int, record: Any
    ) -> None:
        park(dead, error, topic, partition, record)
        self.stats.dead_letters += 1

    async def _store(
        self, conn: Any, items: list[Item], dead: DeadLetters, stop: asyncio.Event
    ) -> tuple[Any, set[dt.date] | None]:
        """Apply a batch in one transaction, retrying while the database is unreachable; a
        batch PostgreSQL refuses is applied event by event, the refused ones dead-lettered.
        Returns the connection and the months touched (None: stopped before it was stored)."""
        from paris_live.db import connect

        backoff = 0.2
        while True:
            try:
                if conn is None or conn.closed:
                    conn = await connect(self.settings)
                try:
                    async with conn.transaction():
                        _, months = await apply_events(
                            conn,
                            [item.event for item in items],
                            catalogue=self.catalogue,
                            routing=self.routing,
                        )
                    return conn, months
                except PERMANENT_ERRORS as exc:
                    log.error("feedback_batch_refused", error=str(exc), events=len(items))
                    return conn, await self._store_isolating(conn, items, dead)
            except TRANSIENT_ERRORS as exc:
                log.warning("feedback_database_unavailable", error=str(exc), retry_in=backoff)
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await conn.close()
                conn = None
                if stop.is_set():
                    return None, None
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _store_isolating(
        self, conn: Any, items: list[Item], dead: DeadLetters
    ) -> set[dt.date]:
        """The events of a refused batch one by one (a savepoint each), in one transaction."""
        months: set[dt.date] = set()
        refused: list[tuple[Item, Exception]] = []
        async with conn.transaction():
            for item in items:
                try:
                    async with conn.transaction():
                        _, month = await apply_event(conn, item.event, catalogue=self.catalogue)
                except PERMANENT_ERRORS as exc:
                    refused.append((item, exc))
                    continue
                if month is not None:
                    months.add(month)
            for month in sorted(months):
                await refresh_month(conn, month, self.routing)
        for item, error in refused:
            self._refuse(dead, refused_by_database(error), item.topic, item.partition, item.record)
        return months

    async def _settle(self, sink: KafkaSink, stop: asyncio.Event) -> bool:
        """Wait until every dead letter sent so far is acknowledged (False: stopped first)."""
        while not await sink.wait_settled(sink.last_seq, 10.0):
            log.warning("feedback_dead_letters_unacknowledged", pending=sink.pending)
            if stop.is_set():
                return False
        return True
