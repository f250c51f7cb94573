"""The closures' SQL: ``closures`` rows, and the declarations' journal — ``audit_log``,
``idempotency_keys`` and ``closure_outbox`` — that :class:`api.closures.service.DeclarationService`
writes in the transaction of every change, whatever was declared.

Every function takes the connection (and so the transaction) it works in; nothing here commits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import orjson
from psycopg import AsyncConnection
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from api.auth import Principal
from api.closures.models import AuditEntry, Closure
from api.errors import ApiError
from api.i18n import bilingual
from api.templates import declared_label
from schemas.clock import PARIS
from schemas.events import CloudEvent

__all__ = [
    "COLUMNS",
    "IdempotencyKeyReused",
    "Replay",
    "audit",
    "audit_entries",
    "claim_key",
    "count_in_force",
    "end",
    "facility_of",
    "from_row",
    "insert",
    "lock",
    "mark_published",
    "outbox",
    "recent_closures",
    "store_key",
    "unpublished",
    "update",
]

Conn = AsyncConnection[Any]

# ── closures ──────────────────────────────────────────────────────────────────────────────────

COLUMNS = (
    "closure_id, facility_id, scope, reason, message, starts_at, expected_reopening_at, "
    "ended_at, declared_by, declared_at, updated_at, sequence, templated"
)


def _paris(value: dt.datetime | None) -> dt.datetime | None:
    return value.astimezone(PARIS) if value is not None else None


def from_row(row: dict[str, Any], now: dt.datetime) -> Closure:
    return Closure(
        closure_id=row["closure_id"],
        facility_id=row["facility_id"],
        scope=row["scope"],
        reason=row["reason"],
        message=row["message"],
        starts_at=row["starts_at"].astimezone(PARIS),
        expected_reopening_at=_paris(row["expected_reopening_at"]),
        ended_at=_paris(row["ended_at"]),
        declared_by=row["declared_by"],
        declared_at=row["declared_at"].astimezone(PARIS),
        updated_at=row["updated_at"].astimezone(PARIS),
        sequence=row["sequence"],
        declared_label=declared_label(row["declared_at"], now),
    )


def _message(closure: Closure) -> Jsonb:
    return Jsonb(closure.message.model_dump(mode="json", exclude_none=True))


async def facility_of(conn: Conn, closure_id: str) -> str | None:
    """The facility of a closure, None when there is no such closure."""
    cur = await conn.execute(
        "SELECT facility_id FROM closures WHERE closure_id = %s", (closure_id,)
    )
    row = await cur.fetchone()
    return str(row[0]) if row is not None else None


async def count_in_force(conn: Conn, facility_id: str) -> int:
    """Closures of the facility not ended yet. Declarations for one facility are serialised by a
    transaction-scoped advisory lock taken here, so two concurrent ones cannot both take the last
    place under the cap."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext('closures:' || %s))", (facility_id,))
    cur = await conn.execute(
        "SELECT count(*) FROM closures WHERE facility_id = %s AND ended_at IS NULL",
        (facility_id,),
    )
    row = await cur.fetchone()
    return int(row[0]) if row is not None else 0


async def insert(conn: Conn, closure: Closure, *, templated: bool) -> None:
    await conn.execute(
        f"INSERT INTO closures ({COLUMNS}) "
        "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            closure.closure_id,
            closure.facility_id,
            Jsonb(closure.scope.model_dump(mode="json")),
            closure.reason.value,
            _message(closure),
            closure.starts_at,
            closure.expected_reopening_at,
            closure.ended_at,
            closure.declared_by,
            closure.declared_at,
            closure.updated_at,
            closure.sequence,
            templated,
        ),
    )


async def lock(conn: Conn, closure_id: str, now: dt.datetime) -> tuple[Closure, bool] | None:
    """The closure, row-locked until the transaction ends, and whether its message is templated."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            f"SELECT {COLUMNS} FROM closures WHERE closure_id = %s FOR UPDATE", (closure_id,)
        )
        row = await cur.fetchone()
    if row is None:
        return None
    return from_row(row, now), bool(row["templated"])


async def update(conn: Conn, closure: Closure, *, templated: bool) -> None:
    await conn.execute(
        "UPDATE closures SET reason = %s, message = %s, expected_reopening_at = %s, "
        "updated_at = %s, sequence = %s, templated = %s WHERE closure_id = %s",
        (
            closure.reason.value,
            _message(closure),
            closure.expected_reopening_at,
            closure.updated_at,
            closure.sequence,
            templated,
            closure.closure_id,
        ),
    )


async def recent_closures(
    conn: Conn, facility_id: str, *, since: dt.datetime
) -> list[tuple[Any, ...]]:
    """The facility's closures not ended before ``since``, latest start first (at most 500), as
    :class:`api.closures.calendar.ClosureRecord` fields."""
    cur = await conn.execute(
        "SELECT closure_id, reason, message, scope, starts_at, expected_reopening_at, "
        "ended_at, declared_at, updated_at, sequence FROM closures "
        "WHERE facility_id = %s AND (ended_at IS NULL OR ended_at >= %s) "
        "ORDER BY starts_at DESC LIMIT 500",
        (facility_id, since),
    )
    return list(await cur.fetchall())


async def end(conn: Conn, closure: Closure) -> None:
    await conn.execute(
        "UPDATE closures SET ended_at = %s, updated_at = %s WHERE closure_id = %s",
        (closure.ended_at, closure.updated_at, closure.closure_id),
    )


# ── idempotency keys ──────────────────────────────────────────────────────────────────────────


class IdempotencyKeyReused(ApiError):
    status = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(bilingual("Clé d'idempotence déjà utilisée pour une autre requête"))


@dataclass(frozen=True, slots=True)
class Replay:
    """The stored answer of the request that first used an idempotency key."""

    status: int
    body: Any


async def claim_key(conn: Conn, principal: Principal, key: str, fingerprint: str) -> Replay | None:
    """Claim the key in this transaction, or the answer of the request that claimed it.

    A concurrent request with the same key waits here until the first one commits (unique
    index), then replays its response; if the first one failed, this one proceeds. Keys expire
    after 24 h."""
    cur = await conn.execute(
        "INSERT INTO idempotency_keys (principal, key, fingerprint) VALUES (%s, %s, %s) "
        "ON CONFLICT (principal, key) DO UPDATE SET fingerprint = EXCLUDED.fingerprint, "
        "status = NULL, response = NULL, created_at = now() "
        "WHERE idempotency_keys.created_at < now() - interval '24 hours' RETURNING 1",
        (principal.subject, key, fingerprint),
    )
    if await cur.fetchone() is not None:
        return None
    cur = await conn.execute(
        "SELECT fingerprint, status, response FROM idempotency_keys "
        "WHERE principal = %s AND key = %s",
        (principal.subject, key),
    )
    row = await cur.fetchone()
    if row is None or row[1] is None:  # pragma: no cover - expired and deleted meanwhile
        raise IdempotencyKeyReused()
    if row[0] != fingerprint:
        raise IdempotencyKeyReused()
    return Replay(int(row[1]), row[2])


async def store_key(
    conn: Conn, principal: Principal, key: str | None, status: int, body: Any
) -> None:
    """Record the answer under the key claimed by :func:`claim_key` (nothing without a key)."""
    if key is not None:
        await conn.execute(
            "UPDATE idempotency_keys SET status = %s, response = %s "
            "WHERE principal = %s AND key = %s",
            (status, Jsonb(body), principal.subject, key),
        )


# ── audit trail ───────────────────────────────────────────────────────────────────────────────


async def audit(
    conn: Conn,
    principal: Principal,
    *,
    action: str,
    facility_id: str,
    record_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any],
    request_id: str,
    client_address: str,
) -> None:
    """One ``audit_log`` row: who, when, what (``record_id`` in its ``closure_id`` column),
    before/after snapshots, request id and client address."""
    await conn.execute(
        "INSERT INTO audit_log (actor, actor_role, token_id, action, facility_id, closure_id, "
        "before, after, request_id, client_address) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            principal.subject,
            principal.role.value,
            principal.token_id,
            action,
            facility_id,
            record_id,
            Jsonb(before) if before is not None else None,
            Jsonb(after),
            request_id,
            client_address,
        ),
    )


async def audit_entries(
    conn: Conn, *, before_id: int, facilities: list[str] | None, limit: int
) -> list[AuditEntry]:
    """Newest first, below ``before_id``; ``facilities`` None: all of them."""
    async with conn.cursor(row_factory=dict_row) as cur:
        await cur.execute(
            "SELECT audit_id, at, actor, actor_role, action, facility_id, closure_id, before, "
            "after, request_id, client_address FROM audit_log WHERE audit_id < %s "
            "AND (%s::text[] IS NULL OR facility_id = ANY(%s::text[])) "
            "ORDER BY audit_id DESC LIMIT %s",
            (before_id, facilities, facilities, limit),
        )
        rows = await cur.fetchall()
    return [AuditEntry.model_validate({**r, "at": r["at"].astimezone(PARIS)}) for r in rows]


# ── outbox ────────────────────────────────────────────────────────────────────────────────────


async def outbox(
    conn: Conn, event: CloudEvent, record_id: str, *, routed_to: str | None = None
) -> None:
    """The event, to be published once the transaction committed (``record_id``: what it is
    about, in the ``closure_id`` column — a closure, a complaint reference, a survey answer).
    With ``routed_to``, it also goes to ``complaints-routed`` keyed by that service id."""
    await conn.execute(
        "INSERT INTO closure_outbox (event_id, facility_id, closure_id, event, routed_to) "
        "VALUES (%s, %s, %s, %s, %s)",
        (event.id, event.subject, record_id, Jsonb(orjson.loads(event.to_json())), routed_to),
    )


async def unpublished(
    conn: Conn, older_than_s: float, limit: int
) -> list[tuple[str, str, Any, str | None]]:
    """(event id, facility id, stored event, routed-to service) of rows never acknowledged, older
    than ``older_than_s``, oldest first; locked (others' locked rows skipped) until the
    transaction ends — whichever API process wrote them."""
    cur = await conn.execute(
        "SELECT event_id, facility_id, event, routed_to FROM closure_outbox "
        "WHERE published_at IS NULL AND created_at < now() - make_interval(secs => %s) "
        "ORDER BY created_at LIMIT %s FOR UPDATE SKIP LOCKED",
        (older_than_s, limit),
    )
    return [(str(a), str(b), c, d) for a, b, c, d in await cur.fetchall()]


async def mark_published(conn: Conn, event_ids: list[str]) -> None:
    await conn.execute(
        "UPDATE closure_outbox SET published_at = now() WHERE event_id = ANY(%s)", (event_ids,)
    )
