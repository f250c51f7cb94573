"""The SQL of the feedback family, and nothing else: the complaints case record (written by the
API, in a transaction that checks every transition) and the monthly aggregates the feedback job
(:mod:`streams.feedback`) keeps for ``/transparence`` and the open-data exports.

Functions take a connection (the caller owns the transaction) and answer typed rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from psycopg import AsyncConnection, sql

__all__ = [
    "COMPLAINT_STATS",
    "RESPONSE_DELAYS",
    "SATISFACTION",
    "CaseRecord",
    "MonthlyTable",
    "NewComplaint",
    "fetch_case",
    "insert_complaint",
    "list_cases",
    "monthly_rows",
    "months_available",
    "overdue_unanswered",
    "set_acknowledged",
    "set_answered",
]

Conn = AsyncConnection[Any]


# ── The case record ───────────────────────────────────────────────────────────────────────────


class CaseRecord(NamedTuple):
    """One row of ``complaints`` (personal fields included: never for a public answer)."""

    reference: str
    facility_id: str | None
    facility_type: str | None
    rule: str
    topic: str
    service_id: str
    channel: str
    language: str
    text: str | None
    contact: str | None
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    answer_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    answered_at: dt.datetime | None
    answer: dict[str, str] | None
    purged_at: dt.datetime | None
    procedure_id: str | None


_CASE = sql.SQL("SELECT {} FROM complaints").format(
    sql.SQL(", ").join(sql.Identifier(name) for name in CaseRecord._fields)
)


@dataclass(frozen=True, slots=True)
class NewComplaint:
    """A complaint as filed, before its reference is drawn (a facility, a démarche, or both)."""

    facility_id: str | None
    facility_type: str | None
    rule: str
    topic: str
    service_id: str
    channel: str
    language: str
    text: str
    contact: str | None
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    answer_due_at: dt.datetime
    procedure_id: str | None = None


async def insert_complaint(conn: Conn, reference: str, new: NewComplaint) -> bool:
    """Insert the case under ``reference``; ``False`` when that reference is already taken."""
    cur = await conn.execute(
        "INSERT INTO complaints (reference, facility_id, facility_type, rule, topic, "
        "service_id, channel, language, text, contact, filed_at, acknowledge_due_at, "
        "answer_due_at, procedure_id) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
        "ON CONFLICT (reference) DO NOTHING RETURNING reference",
        (
            reference,
            new.facility_id,
            new.facility_type,
            new.rule,
            new.topic,
            new.service_id,
            new.channel,
            new.language,
            new.text,
            new.contact,
            new.filed_at,
            new.acknowledge_due_at,
            new.answer_due_at,
            new.procedure_id,
        ),
    )
    return await cur.fetchone() is not None


async def fetch_case(conn: Conn, reference: str, *, for_update: bool = False) -> CaseRecord | None:
    """The case of ``reference`` (locked until the transaction ends with ``for_update``)."""
    query = _CASE + sql.SQL(" WHERE reference = %s")
    if for_update:
        query += sql.SQL(" FOR UPDATE")
    cur = await conn.execute(query, (reference,))
    row = await cur.fetchone()
    return None if row is None else CaseRecord(*row)


async def set_acknowledged(conn: Conn, reference: str, at: dt.datetime, by: str) -> None:
    await conn.execute(
        "UPDATE complaints SET acknowledged_at = %s, acknowledged_by = %s WHERE reference = %s",
        (at, by, reference),
    )


async def set_answered(
    conn: Conn, reference: str, at: dt.datetime, by: str, answer_json: str
) -> None:
    await conn.execute(
        "UPDATE complaints SET answered_at = %s, answered_by = %s, answer = %s "
        "WHERE reference = %s",
        (at, by, answer_json, reference),
    )


_STATES = {
    "open": sql.SQL("answered_at IS NULL"),
    "answered": sql.SQL("answered_at IS NOT NULL"),
    "all": sql.SQL("TRUE"),
}


async def list_cases(
    conn: Conn,
    services: Sequence[str],
    state: Literal["open", "answered", "all"],
    offset: int,
    limit: int,
) -> list[CaseRecord]:
    """The cases of ``services`` in ``state``, oldest filed first (a page of ``limit``)."""
    query = _CASE + sql.SQL(
        " WHERE service_id = ANY(%s) AND {} ORDER BY filed_at, reference OFFSET %s LIMIT %s"
    ).format(_STATES[state])
    cur = await conn.execute(query, (list(services), offset, limit))
    return [CaseRecord(*row) for row in await cur.fetchall()]


# ── Monthly aggregates (anonymous) ────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class MonthlyTable:
    """An aggregate keyed by month: the columns read, in order, and the order of its rows."""

    name: str
    columns: tuple[str, ...]
    order: tuple[str, ...]

    def query(self) -> sql.Composed:
        return sql.SQL("SELECT {} FROM {} WHERE month = %s ORDER BY {}").format(
            sql.SQL(", ").join(map(sql.Identifier, self.columns)),
            sql.Identifier(self.name),
            sql.SQL(", ").join(map(sql.Identifier, self.order)),
        )


SATISFACTION = MonthlyTable(
    "satisfaction_monthly",
    ("facility_id", "facility_type", "aspect", "responses", "rating_sum", "ratings", "not_kept"),
    ("facility_id", "aspect"),
)
COMPLAINT_STATS = MonthlyTable(
    "complaint_stats_monthly",
    (
        "facility_id",
        "facility_type",
        "service_id",
        "rule",
        "topic",
        "filed",
        "acknowledged",
        "answered",
        "answered_on_time",
        "procedure_id",
    ),
    ("facility_id", "procedure_id", "service_id", "rule", "topic"),
)
RESPONSE_DELAYS = MonthlyTable(
    "response_delay_monthly",
    (
        "service_id",
        "rule",
        "filed",
        "answered",
        "answered_on_time",
        "median_days",
        "p90_days",
        "committed_days",
    ),
    ("service_id", "rule"),
)


async def monthly_rows(conn: Conn, table: MonthlyTable, month: dt.date) -> list[dict[str, Any]]:
    """The rows of one month of ``table``, as ``{column: value}`` in the table's order."""
    cur = await conn.execute(table.query(), (month,))
    return [dict(zip(table.columns, row, strict=True)) for row in await cur.fetchall()]


async def months_available(conn: Conn) -> list[dt.date]:
    """The months some figure exists for, latest first (ten years at most)."""
    cur = await conn.execute(
        "SELECT month FROM satisfaction_monthly UNION SELECT month FROM complaint_stats_monthly "
        "ORDER BY 1 DESC LIMIT 120"
    )
    return [row[0] for row in await cur.fetchall()]


async def overdue_unanswered(conn: Conn, month: dt.date) -> int:
    """Complaints filed in ``month`` still unanswered past their délai."""
    cur = await conn.execute(
        "SELECT count(*) FROM complaint_facts WHERE month = %s AND answered_at IS NULL "
        "AND answer_due_at < now()",
        (month,),
    )
    row = await cur.fetchone()
    return int(row[0]) if row else 0
