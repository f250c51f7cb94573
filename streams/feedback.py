"""Feedback aggregates: satisfaction per facility, rule and month; complaint volume, nature and
response délais against the commitment — a pure core and the job that feeds it from Kafka.

Pure core (no I/O, unit-tested): :func:`survey_row` and :func:`satisfaction_deltas` turn a survey
answer into the row and counter increments it contributes; :func:`complaint_fact` turns a complaint
event into the lifecycle fields it sets; :func:`complaint_stats` and :func:`response_delays` fold a
month of lifecycle facts into the published figures (median and p90 with :func:`quantile`).

Shell: :class:`FeedbackJob` consumes ``feedback-surveys`` and ``feedback-complaints`` (consumer
group ``paris-live-feedback``) and, per fetched batch, in one PostgreSQL transaction:

* inserts each survey answer (``ON CONFLICT (response_id) DO NOTHING``) and only when the row is
  new adds its counters to ``satisfaction_monthly`` — a redelivered answer changes nothing;
* merges each complaint event into ``complaint_facts`` (setting a field twice writes the same
  value), then recomputes ``complaint_stats_monthly`` and ``response_delay_monthly`` for the
  months the batch touched, from the facts — idempotent and indifferent to arrival order;

then commits the Kafka offsets (at-least-once in, exactly-once in effect). No record stops the
job: undecodable or invalid records, events dated more than ``event_max_future_s`` ahead, and
events PostgreSQL refuses for good (:data:`PERMANENT_ERRORS`: the batch is then applied event by
event, each in a savepoint, and the refused ones left out) go to ``dead-letters`` with the reason
— offsets are committed once those dead letters are acknowledged. A lost database connection
(:data:`TRANSIENT_ERRORS`) is retried with backoff, the batch kept. Run it with ``paris-live feedback aggregate`` (:mod:`streams.feedback_cli`) or
``await FeedbackJob(settings).run(stop)`` inside the stream worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import psycopg
import structlog

from schemas.catalogue import Catalogue, load_catalogue
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import (
    CloudEvent,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintFiled,
    GoldenRule,
    SurveySubmitted,
)
from schemas.routing import RoutingTable, load_routing
from streams.core.policy import TimeWindow, reference_instant
from streams.deadletters import DeadLetters
from streams.sinks.kafka import KafkaSink

__all__ = [
    "ALL_RULES",
    "ASPECTS",
    "ComplaintFact",
    "ComplaintStat",
    "DelayStat",
    "FeedbackJob",
    "SatisfactionDelta",
    "SurveyRow",
    "complaint_fact",
    "complaint_stats",
    "paris_month",
    "quantile",
    "response_delays",
    "satisfaction_deltas",
    "survey_row",
]

OVERALL = "overall"
ASPECTS: tuple[str, ...] = (OVERALL, *(rule.value for rule in GoldenRule))
"""What a survey rates: overall satisfaction, then each golden rule."""
ALL_RULES = "*"
"""The ``rule`` of the per-service line of ``response_delay_monthly`` (every rule together)."""
DAY_S = 86_400.0
PERMANENT_ERRORS: tuple[type[Exception], ...] = (psycopg.DataError, psycopg.IntegrityError)
"""Database errors an event causes by itself (a NUL byte, a constraint): dead-lettered. Expected
conflicts never raise (``ON CONFLICT``)."""
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OSError,
)
"""Database errors that go away (connection lost, server restarting): retried, batch kept."""

log = structlog.get_logger(__name__)


# ── pure core ─────────────────────────────────────────────────────────────────────────────────


def paris_month(at: dt.datetime) -> dt.date:
    """First day of the Paris-local month of an instant (naive datetimes are refused)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    local = at.astimezone(PARIS)
    return dt.date(local.year, local.month, 1)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) with linear interpolation between closest ranks (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class SatisfactionDelta:
    """What one answer adds to ``satisfaction_monthly`` for one aspect."""

    aspect: str
    rating: int | None
    not_kept: bool


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """A survey answer as stored in ``survey_responses``."""

    response_id: str
    event_id: str
    facility_id: str
    facility_type: str
    service_id: str | None
    channel: str
    language: str
    submitted_at: dt.datetime
    month: dt.date
    rating: int
    rule_ratings: dict[str, int]
    rules_not_kept: list[str]
    liked: str | None
    to_improve: str | None
    went_wrong: str | None


def survey_row(event: SurveySubmitted, facility_type: str) -> SurveyRow:
    """The stored row of a survey answer (its month is the Paris month of the event ``time``)."""
    data = event.data
    ratings = data.rule_ratings.model_dump(exclude_none=True) if data.rule_ratings else {}
    return SurveyRow(
        response_id=data.response_id,
        event_id=event.id,
        facility_id=event.subject,
        facility_type=facility_type,
        service_id=data.service_id,
        channel=data.channel,
        language=data.language,
        submitted_at=event.time,
        month=paris_month(event.time),
        rating=data.rating,
        rule_ratings=ratings,
        rules_not_kept=sorted({GoldenRule(r).value for r in data.rules_not_kept}),
        liked=data.liked,
        to_improve=data.to_improve,
        went_wrong=data.went_wrong or data.comment,
    )


def satisfaction_deltas(row: SurveyRow) -> list[SatisfactionDelta]:
    """Counter increments of one answer: overall, then each rule it rated or said was not kept."""
    deltas = [SatisfactionDelta(OVERALL, row.rating, False)]
    for rule in GoldenRule:
        rating = row.rule_ratings.get(rule.value)
        not_kept = rule.value in row.rules_not_kept
        if rating is not None or not_kept:
            deltas.append(SatisfactionDelta(rule.value, rating, not_kept))
    return deltas


@dataclass(frozen=True, slots=True)
class ComplaintFact:
    """A complaint's lifecycle as known so far (every field but the id may still be unknown)."""

    complaint_id: str
    facility_id: str
    facility_type: str | None = None
    service_id: str | None = None
    rule: str | None = None
    topic: str | None = None
    filed_at: dt.datetime | None = None
    answer_due_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None

    @property
    def month(self) -> dt.date | None:
        return paris_month(self.filed_at) if self.filed_at else None


def complaint_fact(event: CloudEvent, facility_type: str | None) -> ComplaintFact:
    """The lifecycle fields a complaint event sets (the others stay ``None``: unknown here)."""
    if isinstance(event, ComplaintFiled):
        data = event.data
        return ComplaintFact(
            complaint_id=data.complaint_id,
            facility_id=event.subject,
            facility_type=facility_type,
            service_id=data.service_id,
            rule=data.rule.value if data.rule else None,
            topic=data.topic,
            filed_at=event.time,
            answer_due_at=data.answer_due_at,
        )
    if isinstance(event, ComplaintAcknowledged):
        return ComplaintFact(
            complaint_id=event.data.complaint_id,
            facility_id=event.subject,
            service_id=event.data.service_id,
            acknowledged_at=event.time,
        )
    if isinstance(event, ComplaintAnswered):
        return ComplaintFact(
            complaint_id=event.data.complaint_id,
            facility_id=event.subject,
            service_id=event.data.service_id,
            answered_at=event.time,
        )
    raise TypeError(f"not a complaint event: {event.type}")


def _on_time(fact: ComplaintFact) -> bool:
    return (
        fact.answered_at is not None
        and fact.answer_due_at is not None
        and fact.answered_at <= fact.answer_due_at
    )


def _delay_days(fact: ComplaintFact) -> float | None:
    if fact.answered_at is None or fact.filed_at is None:
        return None
    return max(0.0, (fact.answered_at - fact.filed_at).total_seconds() / DAY_S)


@dataclass(frozen=True, slots=True)
class ComplaintStat:
    """A line of ``complaint_stats_monthly``."""

    month: dt.date
    facility_id: str
    facility_type: str
    service_id: str
    rule: str
    topic: str
    filed: int
    acknowledged: int
    answered: int
    answered_on_time: int


def _complete(facts: Iterable[ComplaintFact]) -> list[ComplaintFact]:
    """Facts whose filing was seen (an acknowledgement alone is not yet a complaint to count)."""
    return [f for f in facts if f.filed_at is not None and f.service_id and f.rule]


def complaint_stats(facts: Iterable[ComplaintFact]) -> list[ComplaintStat]:
    """Volume and nature per filing month, facility, service, rule and topic."""
    groups: dict[tuple[dt.date, str, str, str, str, str], list[ComplaintFact]] = defaultdict(list)
    for fact in _complete(facts):
        assert fact.month is not None and fact.service_id is not None and fact.rule is not None
        key = (
            fact.month,
            fact.facility_id,
            fact.facility_type or "unknown",
            fact.service_id,
            fact.rule,
            fact.topic or "other",
        )
        groups[key].append(fact)
    return [
        ComplaintStat(
            month,
            facility_id,
            facility_type,
            service_id,
            rule,
            topic,
            filed=len(group),
            acknowledged=sum(1 for f in group if f.acknowledged_at or f.answered_at),
            answered=sum(1 for f in group if f.answered_at),
            answered_on_time=sum(1 for f in group if _on_time(f)),
        )
        for (month, facility_id, facility_type, service_id, rule, topic), group in sorted(
            groups.items()
        )
    ]


@dataclass(frozen=True, slots=True)
class DelayStat:
    """A line of ``response_delay_monthly``: how fast a service answered, against its commitment."""

    month: dt.date
    service_id: str
    rule: str
    filed: int
    answered: int
    answered_on_time: int
    median_days: float | None
    p90_days: float | None
    committed_days: int


def response_delays(
    facts: Iterable[ComplaintFact], committed_days: Callable[[str], int]
) -> list[DelayStat]:
    """Median and p90 response délai (days, filing → answer) per month, service and rule.

    Each service also gets a line for every rule together (``rule = "*"``). ``committed_days``
    gives the service's committed answer délai (routing table).
    """
    groups: dict[tuple[dt.date, str, str], list[ComplaintFact]] = defaultdict(list)
    for fact in _complete(facts):
        month = fact.month
        assert month is not None and fact.service_id is not None and fact.rule is not None
        groups[(month, fact.service_id, fact.rule)].append(fact)
        groups[(month, fact.service_id, ALL_RULES)].append(fact)
    stats = []
    for (month, service_id, rule), group in sorted(groups.items()):
        delays = [d for d in map(_delay_days, group) if d is not None]
        median, p90 = quantile(delays, 0.5), quantile(delays, 0.9)
        stats.append(
            DelayStat(
                month=month,
                service_id=service_id,
                rule=rule,
                filed=len(group),
                answered=len(delays),
                answered_on_time=sum(1 for f in group if _on_time(f)),
                median_days=None if median is None else round(median, 2),
                p90_days=None if p90 is None else round(p90, 2),
                committed_days=committed_days(service_id),
            )
        )
    return stats


# ── shell: Kafka in, PostgreSQL out ───────────────────────────────────────────────────────────

_FACT_COLUMNS = (
    "complaint_id, facility_id, facility_type, service_id, rule, topic, filed_at, month, "
    "answer_due_at, acknowledged_at, answered_at"
)
_MERGE_FACT = f"""
INSERT INTO complaint_facts ({_FACT_COLUMNS})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (complaint_id) DO UPDATE SET
    facility_type = COALESCE(EXCLUDED.facility_type, complaint_facts.facility_type),
    service_id = COALESCE(complaint_facts.service_id, EXCLUDED.service_id),
    rule = COALESCE(EXCLUDED.rule, complaint_facts.rule),
    topic = COALESCE(EXCLUDED.topic, complaint_facts.topic),
    filed_at = COALESCE(EXCLUDED.filed_at, complaint_facts.filed_at),
    month = COALESCE(EXCLUDED.month, complaint_facts.month),
    answer_due_at = COALESCE(EXCLUDED.answer_due_at, complaint_facts.answer_due_at),
    acknowledged_at = LEAST(EXCLUDED.acknowledged_at, complaint_facts.acknowledged_at),
    answered_at = LEAST(EXCLUDED.answered_at, complaint_facts.answered_at)
RETURNING month
"""
_INSERT_SURVEY = """
INSERT INTO survey_responses (response_id, event_id, facility_id, facility_type, service_id,
    channel, language, submitted_at, month, rating, rule_ratings, rules_not_kept, liked,
    to_improve, went_wrong)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (response_id) DO NOTHING
RETURNING response_id
"""
_ADD_SATISFACTION = """
INSERT INTO satisfaction_monthly AS s
    (month, facility_id, facility_type, aspect, responses, rating_sum, ratings, not_kept)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (month, facility_id, aspect) DO UPDATE SET
    responses = s.responses + EXCLUDED.responses,
    rating_sum = s.rating_sum + EXCLUDED.rating_sum,
    ratings = ARRAY[s.ratings[1] + EXCLUDED.ratings[1], s.ratings[2] + EXCLUDED.ratings[2],
                    s.ratings[3] + EXCLUDED.ratings[3], s.ratings[4] + EXCLUDED.ratings[4],
                    s.ratings[5] + EXCLUDED.ratings[5]],
    not_kept = s.not_kept + EXCLUDED.not_kept
"""


async def apply_events(
    conn: Any,
    events: Sequence[CloudEvent],
    *,
    catalogue: Catalogue,
    routing: RoutingTable,
) -> tuple[int, set[dt.date]]:
    """Apply a batch in the caller's transaction; returns (new survey answers, months touched).

    ``conn`` is an async psycopg connection whose search_path is the deployment's schema.
    """
    new_answers = 0
    months: set[dt.date] = set()
    for event in events:
        new, month = await apply_event(conn, event, catalogue=catalogue)
        new_answers += new
        if month is not None:
            months.add(month)
    for month in sorted(months):
        await refresh_month(conn, month, routing)
    return new_answers, months


async def apply_event(
    conn: Any, event: CloudEvent, *, catalogue: Catalogue
) -> tuple[bool, dt.date | None]:
    """Store one event (not the monthly complaint figures: see :func:`refresh_month`); returns
    whether it was a new survey answer and the filing month a complaint event touched."""
    facility_type = catalogue.get(event.subject).type if event.subject in catalogue else None
    if isinstance(event, SurveySubmitted):
        row = survey_row(event, facility_type or "unknown")
        cur = await conn.execute(
            _INSERT_SURVEY,
            (
                row.response_id,
                row.event_id,
                row.facility_id,
                row.facility_type,
                row.service_id,
                row.channel,
                row.language,
                row.submitted_at,
                row.month,
                row.rating,
                orjson.dumps(row.rule_ratings).decode(),
                row.rules_not_kept,
                row.liked,
                row.to_improve,
                row.went_wrong,
            ),
        )
        if await cur.fetchone() is None:
            return False, None  # already counted
        for delta in satisfaction_deltas(row):
            ratings = [0] * 5
            if delta.rating is not None:
                ratings[delta.rating - 1] = 1
            await conn.execute(
                _ADD_SATISFACTION,
                (
                    row.month,
                    row.facility_id,
                    row.facility_type,
                    delta.aspect,
                    int(delta.rating is not None),
                    delta.rating or 0,
                    ratings,
                    int(delta.not_kept),
                ),
            )
        return True, None
    if isinstance(event, ComplaintFiled | ComplaintAcknowledged | ComplaintAnswered):
        fact = complaint_fact(event, facility_type)
        cur = await conn.execute(
            _MERGE_FACT,
            (
                fact.complaint_id,
                fact.facility_id,
                fact.facility_type,
                fact.service_id,
                fact.rule,
                fact.topic,
                fact.filed_at,
                fact.month,
                fact.answer_due_at,
                fact.acknowledged_at,
                fact.answered_at,
            ),
        )
        stored = await cur.fetchone()
        if stored is not None and stored[0] is not None:
            month: dt.date = stored[0]
            return False, month
    return False, None


async def refresh_month(conn: Any, month: dt.date, routing: RoutingTable) -> None:
    """Recompute the complaint figures of one filing month from ``complaint_facts``."""
    cur = await conn.execute(
        f"SELECT {_FACT_COLUMNS} FROM complaint_facts WHERE month = %s", (month,)
    )
    facts = [
        ComplaintFact(
            complaint_id=r[0],
            facility_id=r[1],
            facility_type=r[2],
            service_id=r[3],
            rule=r[4],
            topic=r[5],
            filed_at=r[6],
            answer_due_at=r[8],
            acknowledged_at=r[9],
            answered_at=r[10],
        )
        for r in await cur.fetchall()
    ]

    def committed(service_id: str) -> int:
        service = routing.services.get(service_id)
        return service.answer_days if service else 0

    await conn.execute("DELETE FROM complaint_stats_monthly WHERE month = %s", (month,))
    await conn.execute("DELETE FROM response_delay_monthly WHERE month = %s", (month,))
    stats = complaint_stats(facts)
    if stats:
        async with conn.cursor() as c:
            await c.executemany(
                "INSERT INTO complaint_stats_monthly (month, facility_id, facility_type, "
                "service_id, rule, topic, filed, acknowledged, answered, answered_on_time) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        s.month,
                        s.facility_id,
                        s.facility_type,
                        s.service_id,
                        s.rule,
                        s.topic,
                        s.filed,
                        s.acknowledged,
                        s.answered,
                        s.answered_on_time,
                    )
                    for s in stats
                ],
            )
    delays = response_delays(facts, committed)
    if delays:
        async with conn.cursor() as c:
            await c.executemany(
                "INSERT INTO response_delay_monthly (month, service_id, rule, filed, answered, "
                "answered_on_time, median_days, p90_days, committed_days) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [
                    (
                        d.month,
                        d.service_id,
                        d.rule,
                        d.filed,
                        d.answered,
                        d.answered_on_time,
                        d.median_days,
                        d.p90_days,
                        d.committed_days,
                    )
                    for d in delays
                ],
            )


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
        await consumer.start()
        await sink.start()
        conn: Any = None
        log.info("feedback_job_started", topics=self.topics, group=self.group_id)
        try:
            while not stop.is_set():
                batches = await consumer.getmany(timeout_ms=300, max_records=self.max_records)
                if not batches:
                    continue
                now_s = time.time()
                items: list[_Item] = []
                for tp, records in batches.items():
                    for record in records:
                        self.stats.records += 1
                        try:
                            event = decode_event(record.value or b"")
                            refusal = window.refusal(
                                event.time.timestamp(), reference_instant(now_s, record.timestamp)
                            )
                            if refusal is not None:
                                raise InvalidEvent(Reason.TIME_OUT_OF_RANGE, "time", refusal)
                        except InvalidEvent as error:
                            self._refuse(dead, error, tp.topic, tp.partition, record)
                            continue
                        items.append(_Item(tp.topic, tp.partition, record, event))
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
        dead.refuse(
            error,
            topic=topic,
            partition=partition,
            offset=record.offset,
            key=record.key,
            raw=record.value or b"",
        )
        self.stats.dead_letters += 1
        log.warning(
            "feedback_dead_letter",
            reason=str(error.reason),
            field=error.field,
            topic=topic,
            partition=partition,
            offset=record.offset,
        )

    async def _store(
        self, conn: Any, items: list[_Item], dead: DeadLetters, stop: asyncio.Event
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
        self, conn: Any, items: list[_Item], dead: DeadLetters
    ) -> set[dt.date]:
        """The events of a refused batch one by one (a savepoint each), in one transaction."""
        months: set[dt.date] = set()
        refused: list[tuple[_Item, Exception]] = []
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
            sqlstate = getattr(error, "sqlstate", None)
            self._refuse(
                dead,
                InvalidEvent(
                    Reason.PERMANENT_ERROR,
                    None,
                    f"PostgreSQL refused the event ({sqlstate}): {str(error).strip()}",
                ),
                item.topic,
                item.partition,
                item.record,
            )
        return months

    async def _settle(self, sink: KafkaSink, stop: asyncio.Event) -> bool:
        """Wait until every dead letter sent so far is acknowledged (False: stopped first)."""
        while not await sink.wait_settled(sink.last_seq, 10.0):
            log.warning("feedback_dead_letters_unacknowledged", pending=sink.pending)
            if stop.is_set():
                return False
        return True


@dataclass(frozen=True, slots=True)
class _Item:
    """A decoded record of a batch and where it came from."""

    topic: str
    partition: int
    record: Any
    event: CloudEvent
