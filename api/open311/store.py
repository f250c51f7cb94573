"""The SQL of the Open311 listing: the public columns of ``complaints`` only (no text, no contact,
no answer is ever read here), newest first."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

from psycopg import AsyncConnection, sql

__all__ = ["MAX_REQUESTS", "PublicCase", "list_public"]

MAX_REQUESTS = 1000
"""Open311's cap on one listing."""


class PublicCase(NamedTuple):
    """What anyone may read of a complaint."""

    reference: str
    facility_id: str | None
    procedure_id: str | None
    rule: str
    topic: str
    service_id: str
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    answer_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    answered_at: dt.datetime | None


_SELECT = sql.SQL("SELECT {} FROM complaints").format(
    sql.SQL(", ").join(sql.Identifier(name) for name in PublicCase._fields)
)


async def list_public(
    conn: AsyncConnection[Any],
    *,
    references: Sequence[str] | None = None,
    rules_topics: Sequence[tuple[str, str]] | None = None,
    start: dt.datetime | None = None,
    end: dt.datetime | None = None,
    closed: bool | None = None,
    limit: int = MAX_REQUESTS,
) -> list[PublicCase]:
    """The complaints matching every filter given, newest filed first."""
    where: list[sql.Composable] = []
    params: list[Any] = []
    if references is not None:
        where.append(sql.SQL("reference = ANY(%s)"))
        params.append(list(references))
    if rules_topics is not None:
        where.append(sql.SQL("(rule || '-' || topic) = ANY(%s)"))
        params.append([f"{rule}-{topic}" for rule, topic in rules_topics])
    if start is not None:
        where.append(sql.SQL("filed_at >= %s"))
        params.append(start)
    if end is not None:
        where.append(sql.SQL("filed_at <= %s"))
        params.append(end)
    if closed is not None:
        where.append(sql.SQL("answered_at IS NOT NULL" if closed else "answered_at IS NULL"))
    query = _SELECT
    if where:
        query += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where)
    query += sql.SQL(" ORDER BY filed_at DESC, reference LIMIT %s")
    params.append(limit)
    cur = await conn.execute(query, params)
    return [PublicCase(*row) for row in await cur.fetchall()]
