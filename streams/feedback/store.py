"""The feedback job's SQL: survey answers, complaint facts and the monthly figures in PostgreSQL.

Per batch, in the caller's transaction (:func:`apply_events`):

* each survey answer is inserted (``ON CONFLICT (response_id) DO NOTHING``) and only when the row
  is new are its counters added to ``satisfaction_monthly`` — a redelivered answer changes nothing;
* each complaint event is merged into ``complaint_facts`` (setting a field twice writes the same
  value), then ``complaint_stats_monthly`` and ``response_delay_monthly`` are recomputed for the
  months the batch touched, from the facts (:func:`refresh_month`) — idempotent and indifferent
  to arrival order.

The figures themselves come from the pure rules of :mod:`streams.feedback.rules`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import orjson
import psycopg

from schemas.catalogue import Catalogue
from schemas.events import (
    CloudEvent,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintFiled,
    SurveySubmitted,
)
from schemas.routing import RoutingTable
from streams.feedback.rules import (
    ComplaintFact,
    complaint_fact,
    complaint_stats,
    response_delays,
    satisfaction_deltas,
    survey_row,
)

PERMANENT_ERRORS: tuple[type[Exception], ...] = (psycopg.DataError, psycopg.IntegrityError)
"""Database errors an event causes by itself (a NUL byte, a constraint): dead-lettered. Expected
conflicts never raise (``ON CONFLICT``)."""
TRANSIENT_ERRORS: tuple[type[Exception], ...] = (
    psycopg.OperationalError,
    psycopg.InterfaceError,
    OSError,
)
"""Database errors that go away (connection lost, server restarting): retried, batch kept."""

_FACT_COLUMNS = (
    "complaint_id, facility_id, facility_type, service_id, rule, topic, filed_at, month, "
    "answer_due_at, acknowledged_at, answered_at, procedure_id"
)
_MERGE_FACT = f"""
INSERT INTO complaint_facts ({_FACT_COLUMNS})
VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
ON CONFLICT (complaint_id) DO UPDATE SET
    procedure_id = COALESCE(complaint_facts.procedure_id, EXCLUDED.procedure_id),
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
                fact.procedure_id,
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
            procedure_id=r[11],
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
                "service_id, rule, topic, filed, acknowledged, answered, answered_on_time, "
                "procedure_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
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
                        s.procedure_id,
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
