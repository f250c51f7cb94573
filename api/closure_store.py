"""The closures' persistence shell: rows, audit trail, idempotency keys, outbox → Kafka.

Used by :mod:`api.routes.agents` inside one PostgreSQL transaction per change::

    async with pg(ctx) as conn, conn.transaction():
        replay = await claim_key(conn, principal, key, fingerprint(request, body))
        ...  # INSERT/UPDATE closures
        await audit(conn, request, principal, request_id, "closure.declared", None, closure)
        await outbox(conn, event, closure.closure_id)
        await store_key(conn, principal, key, 201, response_body)
    await bus.publish(event)   # after the commit

:class:`ClosureBus` publishes through the producers' :class:`~producers.publisher.Publisher`
(``facility-closures``, key: the facility id) and marks the outbox row once Kafka acknowledged
it; its relay re-sends, every few seconds, events a crash left unacknowledged (consumers
deduplicate on the event id). The outbox is the durable record, the Publisher's spool only a
per-process buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import logging
import os
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import JSONResponse
from psycopg import AsyncConnection
from psycopg.types.json import Jsonb
from pydantic import BaseModel, Field

from api.auth import Principal, Role
from api.context import AppContext
from api.errors import ApiError
from api.ratelimit import client_address
from api.routes.history import pg
from api.templates import declared_label
from paris_live.settings import Settings
from producers.errors import ProducerError, SpoolFull, SpoolLocked
from producers.spool import Record
from schemas import topics
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import (
    ClosureData,
    ClosureReason,
    ClosureScope,
    CloudEvent,
    DeadLetter,
    EventType,
    LocalizedText,
    make_event,
)

__all__ = [
    "COLUMNS",
    "Closure",
    "ClosureBus",
    "IdempotencyKeyReused",
    "audit",
    "claim_key",
    "event_source",
    "fingerprint",
    "from_row",
    "outbox",
    "snapshot",
    "state_event",
    "store_key",
]

logger = logging.getLogger("paris_live.api.agents")


class Closure(BaseModel):
    """A closure as stored; times in Paris time."""

    closure_id: str
    facility_id: str
    scope: ClosureScope
    reason: ClosureReason
    message: LocalizedText
    starts_at: dt.datetime
    expected_reopening_at: dt.datetime | None
    ended_at: dt.datetime | None
    declared_by: str
    declared_at: dt.datetime
    updated_at: dt.datetime
    sequence: int
    declared_label: LocalizedText = Field(
        description="« déclaré par l'équipe à HH:MM » for the public card"
    )


COLUMNS = (
    "closure_id, facility_id, scope, reason, message, starts_at, expected_reopening_at, "
    "ended_at, declared_by, declared_at, updated_at, sequence, templated"
)


def from_row(row: dict[str, Any], now: dt.datetime) -> Closure:
    def paris(value: dt.datetime | None) -> dt.datetime | None:
        return value.astimezone(PARIS) if value is not None else None

    return Closure(
        closure_id=row["closure_id"],
        facility_id=row["facility_id"],
        scope=row["scope"],
        reason=row["reason"],
        message=row["message"],
        starts_at=row["starts_at"].astimezone(PARIS),
        expected_reopening_at=paris(row["expected_reopening_at"]),
        ended_at=paris(row["ended_at"]),
        declared_by=row["declared_by"],
        declared_at=row["declared_at"].astimezone(PARIS),
        updated_at=row["updated_at"].astimezone(PARIS),
        sequence=row["sequence"],
        declared_label=declared_label(row["declared_at"], now),
    )


def snapshot(closure: Closure) -> dict[str, Any]:
    return closure.model_dump(mode="json", exclude={"declared_label"})


def fingerprint(request: Request, body: BaseModel | None) -> str:
    raw = body.model_dump_json(exclude_unset=True) if body is not None else ""
    text = f"{request.method} {request.url.path}\n{raw}"
    return hashlib.sha256(text.encode()).hexdigest()


class IdempotencyKeyReused(ApiError):
    status = 422
    code = "idempotency_key_reused"

    def __init__(self) -> None:
        super().__init__(
            "Clé d'idempotence déjà utilisée pour une autre requête / "
            "Idempotency key already used for a different request"
        )


async def claim_key(
    conn: AsyncConnection[Any], principal: Principal, key: str, fingerprint: str
) -> JSONResponse | None:
    """Claim the key in this transaction, or the response of the request that claimed it.

    A concurrent request with the same key waits here until the first one commits (unique
    index), then replays its response; if the first one failed, this one proceeds."""
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
    return JSONResponse(
        row[2],
        status_code=row[1],
        headers={"Idempotent-Replayed": "true", "Cache-Control": "no-store"},
    )


async def store_key(
    conn: AsyncConnection[Any], principal: Principal, key: str | None, status: int, body: Any
) -> None:
    if key is not None:
        await conn.execute(
            "UPDATE idempotency_keys SET status = %s, response = %s "
            "WHERE principal = %s AND key = %s",
            (status, Jsonb(body), principal.subject, key),
        )


async def audit(
    conn: AsyncConnection[Any],
    request: Request,
    principal: Principal,
    request_id: str,
    action: str,
    before: Closure | None,
    after: Closure,
) -> None:
    await conn.execute(
        "INSERT INTO audit_log (actor, actor_role, token_id, action, facility_id, closure_id, "
        "before, after, request_id, client_address) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (
            principal.subject,
            principal.role.value,
            principal.token_id,
            action,
            after.facility_id,
            after.closure_id,
            Jsonb(snapshot(before)) if before is not None else None,
            Jsonb(snapshot(after)),
            request_id,
            client_address(request),
        ),
    )


async def outbox(conn: AsyncConnection[Any], event: CloudEvent, closure_id: str) -> None:
    await conn.execute(
        "INSERT INTO closure_outbox (event_id, facility_id, closure_id, event) "
        "VALUES (%s, %s, %s, %s)",
        (event.id, event.subject, closure_id, Jsonb(orjson.loads(event.to_json()))),
    )


def state_event(kind: EventType, closure: Closure, role: Role, at: dt.datetime) -> CloudEvent:
    data = ClosureData(
        closure_id=closure.closure_id,
        scope=closure.scope,
        reason=closure.reason,
        message=closure.message,
        starts_at=closure.starts_at,
        expected_reopening_at=closure.expected_reopening_at,
        declared_by=role.value,
    )
    return make_event(kind, closure.facility_id, data, source=event_source(closure), time=at)


def event_source(closure: Closure) -> str:
    return f"/agents/{closure.facility_id}"


class ClosureBus:
    """Publishes closure events after their transaction committed; relays what was left behind."""

    RELAY_EVERY_S = 5.0
    RELAY_AGE_S = 5.0

    def __init__(self, settings: Settings, ctx: AppContext) -> None:
        from producers.publisher import Publisher, PublisherOptions

        self.ctx = ctx
        options = PublisherOptions(
            name=f"api-closures-{os.getpid()}",
            delivery_timeout_s=3.0,
            close_timeout_s=3.0,
            linger_ms=0,
        )
        self.publisher = Publisher(settings, options)
        self._relay: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self.publisher.start()
        self._relay = asyncio.create_task(self._relay_loop(), name="closure-outbox-relay")

    async def close(self) -> None:
        if self._relay is not None:
            self._relay.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._relay
        await self.publisher.close()
        # The outbox is the durable record: events still spooled here are re-sent by a relay.
        for path in self.publisher.spool_path.parent.glob(self.publisher.spool_path.name + "*"):
            path.unlink(missing_ok=True)

    async def publish(self, event: CloudEvent) -> None:
        """Publish after commit; the outbox row is marked once Kafka acknowledged it."""
        try:
            result = await self.publisher.publish(event)
        except Exception as exc:  # the relay retries: the closure is recorded either way
            logger.warning("closure event %s not published yet: %r", event.id, exc)
            return
        if result.sent:
            await self._mark([event.id])

    async def _mark(self, event_ids: list[str]) -> None:
        async with pg(self.ctx) as conn:
            await conn.execute(
                "UPDATE closure_outbox SET published_at = now() WHERE event_id = ANY(%s)",
                (event_ids,),
            )

    async def relay_once(self) -> int:
        """Re-publish events older than ``RELAY_AGE_S`` that were never acknowledged.

        Rows go one by one, oldest first. A row that can never be published — its event no
        longer decodes, or the producer refuses it for good (too large) — is set aside: a
        dead letter (``reason``, ``topic: closure_outbox``, the stored event as payload) goes to
        ``dead-letters`` and, once Kafka acknowledged it, the row is marked done, so it never
        blocks the rows behind it. A transient failure (Kafka unreachable, spool full) ends the
        round; the row and those after it are retried in the next one, in order."""
        if not self.publisher.kafka_up:
            return 0
        sent = 0
        async with pg(self.ctx) as conn, conn.transaction():
            cur = await conn.execute(
                "SELECT event_id, facility_id, event FROM closure_outbox "
                "WHERE published_at IS NULL AND created_at < now() - make_interval(secs => %s) "
                "ORDER BY created_at LIMIT 100 FOR UPDATE SKIP LOCKED",
                (self.RELAY_AGE_S,),
            )
            done: list[str] = []
            for event_id, facility_id, stored in await cur.fetchall():
                raw = orjson.dumps(stored)
                try:
                    result = await self.publisher.publish(decode_event(raw))
                except InvalidEvent as exc:
                    parked = await self._dead_letter(event_id, facility_id, raw, exc)
                except (SpoolFull, SpoolLocked) as exc:
                    logger.warning("closure outbox relay paused: %r", exc)
                    break
                except ProducerError as exc:  # refused for good (e.g. larger than a batch)
                    why = InvalidEvent(str(Reason.PERMANENT_ERROR), None, str(exc))
                    parked = await self._dead_letter(event_id, facility_id, raw, why)
                else:
                    if not result.sent:
                        break
                    sent += 1
                    done.append(event_id)
                    continue
                if not parked:
                    break
                done.append(event_id)
            if done:
                await conn.execute(
                    "UPDATE closure_outbox SET published_at = now() WHERE event_id = ANY(%s)",
                    (done,),
                )
        return sent

    async def _dead_letter(
        self, event_id: str, facility_id: str, raw: bytes, error: InvalidEvent
    ) -> bool:
        """Send the dead letter of an outbox row; whether Kafka acknowledged it."""
        letter = DeadLetter.from_error(
            error,
            topic="closure_outbox",
            partition=0,
            offset=0,
            key=facility_id.encode(),
            payload=raw,
        )
        record = Record(
            self.publisher.settings.topic(topics.DEAD_LETTERS),
            facility_id,
            f"dead-letter-{event_id}",
            letter.to_json(),
        )
        result = await self.publisher.publish_records([record])
        logger.error(
            "closure outbox row %s set aside (%s): %s", event_id, error.reason, error.message
        )
        return result.sent == 1

    async def _relay_loop(self) -> None:
        while True:
            await asyncio.sleep(self.RELAY_EVERY_S)
            try:
                sent = await self.relay_once()
                if sent:
                    logger.info("relayed %d closure events", sent)
            except Exception as exc:
                logger.warning("closure outbox relay failed: %r", exc)
