"""Equipment outages' SQL: the ``equipment_outages`` rows (the history of outages). The journal
of every declaration — audit, idempotency keys, outbox — is :mod:`api.closures.store`'s.

Every function takes the connection (and so the transaction) it works in; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.closures.outages import Outage
from schemas.clock import PARIS

__all__ = ["insert", "lock_in_force", "recent", "update"]

Conn = AsyncConnection[Any]

COLUMNS = (
    "outage_id, facility_id, equipment_id, kind, status, area, message, expected_back_at, "
    "declared_by, declared_at, updated_at, ended_at, sequence"
)


def _paris(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(PARIS) if value is not None else None


def _from_row(row: dict[str, Any]) -> Outage:
    return Outage.model_validate(
        {
            **row,
            "expected_back_at": _paris(row["expected_back_at"]),
            "declared_at": row["declared_at"].astimezone(PARIS),
            "updated_at": row["updated_at"].astimezone(PARIS),
            "ended_at": _paris(row["ended_at"]),
        }
    )


async def lock_in_force(conn: Conn, facility_id: str, equipment_id: str) -> Outage | None:
    """The equipment's outage in force, row-locked until the transaction ends (None: it works).
    Declarations for one equipment are serialised by a transaction-scoped advisory lock, so two
    concurrent ones cannot both open an outage."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('equipment:' || %s || '/' || %s))",
        (facility_id, equipment_id),
    )
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM equipment_outages WHERE facility_id = %s "
            "AND equipment_id = %s AND ended_at IS NULL FOR UPDATE",
            (facility_id, equipment_id),
        )
        row = await cur.fetchone()
    return _from_row(row) if row is not None else None


async def insert(conn: Conn, outage: Outage) -> None:
    await conn.execute(
        f"INSERT INTO equipment_outages ({COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            outage.outage_id,
            outage.facility_id,
            outage.equipment_id,
            outage.kind.value,
            outage.status,
            outage.area,
            Jsonb(outage.message.model_dump(mode="json", exclude_none=True)),
            outage.expected_back_at,
            outage.declared_by,
            outage.declared_at,
            outage.updated_at,
            outage.ended_at,
            outage.sequence,
        ),
    )


async def update(conn: Conn, outage: Outage) -> None:
    """Write the outage's changeable fields (a new declaration, or its end)."""
    await conn.execute(
        "UPDATE equipment_outages SET status = %s, area = %s, message = %s, "
        "expected_back_at = %s, updated_at = %s, ended_at = %s, sequence = %s "
        "WHERE outage_id = %s",
        (
            outage.status,
            outage.area,
            Jsonb(outage.message.model_dump(mode="json", exclude_none=True)),
            outage.expected_back_at,
            outage.updated_at,
            outage.ended_at,
            outage.sequence,
            outage.outage_id,
        ),
    )


async def recent(conn: Conn, facility_id: str, limit: int = 100) -> list[Outage]:
    """The facility's outages, latest declared first (the history)."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM equipment_outages WHERE facility_id = %s "
            "ORDER BY declared_at DESC LIMIT %s",
            (facility_id, limit),
        )
        rows = await cur.fetchall()
    return [_from_row(r) for r in rows]
