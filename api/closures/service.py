"""The agents' declarations as one transactional service.

Every declaration — declaring, updating or ending a closure; declaring or ending an equipment
outage (``facility-equipment``) — goes through :meth:`DeclarationService.run`::

    idempotency key claimed (or the first answer replayed)
      → the change, in the same PostgreSQL transaction (its rules, its rows)
      → audit_log row (who, when, facility, before/after, request id, client address)
      → closure_outbox row (the CloudEvent)
      → the answer stored under the idempotency key
    commit → the event published (ClosureBus; its relay re-sends it after a crash)

A kind of declaration only supplies the change: a function of the connection that applies its
rules and writes its rows, returning a :class:`Change`. :class:`ClosureService` is the closures',
:class:`EquipmentService` the equipment outages'.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol

from psycopg import AsyncConnection
from pydantic import BaseModel

from api.auth import Principal
from api.closures import outage_store, outages, rules, store
from api.closures.bus import Connect
from api.closures.models import Closure, DeclareClosure, EndClosure, UpdateClosure
from schemas.catalogue import Facility
from schemas.events import CloudEvent, EventType

__all__ = [
    "Change",
    "ClosureService",
    "DeclarationService",
    "EquipmentService",
    "EventBus",
    "Outcome",
    "Submission",
    "fingerprint",
]


class EventBus(Protocol):
    async def publish(self, event: CloudEvent) -> None:
        """Publish an event whose outbox row just committed (never raises for Kafka's sake)."""


@dataclass(frozen=True, slots=True)
class Submission:
    """One request to declare something: who (for the audit trail), its idempotency key and
    fingerprint, and when."""

    principal: Principal
    request_id: str
    client_address: str
    key: str | None
    fingerprint: str
    now: dt.datetime


@dataclass(frozen=True, slots=True)
class Change:
    """What one declaration did in its transaction: its audit row, its event and its answer."""

    action: str
    """Audit action, e.g. ``closure.declared``."""
    facility_id: str
    record_id: str
    """What the declaration is about (a closure id)."""
    before: dict[str, Any] | None
    after: dict[str, Any]
    event: CloudEvent
    status: int
    body: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Outcome:
    """The answer: a new one, or the first answer to the same idempotency key (``replayed``)."""

    status: int
    body: Any
    replayed: bool = False


Apply = Callable[[AsyncConnection[Any]], Awaitable[Change]]


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """What an idempotency key is bound to: the method, the path and the fields sent."""
    raw = body.model_dump_json(exclude_unset=True) if body is not None else ""
    return hashlib.sha256(f"{method} {path}\n{raw}".encode()).hexdigest()


class DeclarationService:
    """Idempotency → transaction → audit → outbox → publish, for any kind of declaration."""

    def __init__(self, connect: Connect, bus: EventBus) -> None:
        self.connect = connect
        self.bus = bus

    async def run(self, sub: Submission, apply: Apply) -> Outcome:
        principal, key = sub.principal, sub.key
        async with self.connect() as conn, conn.transaction():
            if key is not None:
                replay = await store.claim_key(conn, principal, key, sub.fingerprint)
                if replay is not None:
                    return Outcome(replay.status, replay.body, replayed=True)
            change = await apply(conn)
            await store.audit(
                conn,
                principal,
                action=change.action,
                facility_id=change.facility_id,
                record_id=change.record_id,
                before=change.before,
                after=change.after,
                request_id=sub.request_id,
                client_address=sub.client_address,
            )
            await store.outbox(conn, change.event, change.record_id)
            await store.store_key(conn, principal, key, change.status, change.body)
        await self.bus.publish(change.event)
        return Outcome(change.status, change.body)


def _change(
    action: str, before: Closure | None, after: Closure, event: CloudEvent, status: int
) -> Change:
    return Change(
        action=action,
        facility_id=after.facility_id,
        record_id=after.closure_id,
        before=before.snapshot() if before is not None else None,
        after=after.snapshot(),
        event=event,
        status=status,
        body=after.model_dump(mode="json"),
    )


class ClosureService:
    """Declare, update and end closures (:mod:`api.closures.rules`) through the service."""

    def __init__(self, declarations: DeclarationService, max_active: int) -> None:
        self.declarations = declarations
        self.max_active = max_active

    async def declare(self, sub: Submission, facility: Facility, body: DeclareClosure) -> Outcome:
        """201 with the new closure; 409 past the cap of closures in force."""
        principal, now = sub.principal, sub.now

        async def apply(conn: AsyncConnection[Any]) -> Change:
            closure, templated = rules.declared(principal, facility, body, now)
            in_force = await store.count_in_force(conn, facility.id)
            rules.check_room(facility.id, in_force, self.max_active)
            await store.insert(conn, closure, templated=templated)
            event = rules.state_event(EventType.CLOSURE_DECLARED, closure, principal.role, now)
            return _change("closure.declared", None, closure, event, 201)

        return await self.declarations.run(sub, apply)

    async def update(
        self, sub: Submission, facility: Facility, closure_id: str, body: UpdateClosure
    ) -> Outcome:
        """200 with the closure updated; 409 once it ended."""
        role, now = sub.principal.role, sub.now

        async def apply(conn: AsyncConnection[Any]) -> Change:
            before, templated = await _locked(conn, closure_id, now)
            after, templated = rules.updated(before, templated, facility, body, now)
            await store.update(conn, after, templated=templated)
            event = rules.state_event(EventType.CLOSURE_UPDATED, after, role, now)
            return _change("closure.updated", before, after, event, 200)

        return await self.declarations.run(sub, apply)

    async def end(self, sub: Submission, closure_id: str, body: EndClosure | None) -> Outcome:
        """200 with the closure ended now; 409 when it already had."""
        role, now = sub.principal.role, sub.now
        words = body.message if body is not None else None

        async def apply(conn: AsyncConnection[Any]) -> Change:
            before, _ = await _locked(conn, closure_id, now)
            after = rules.ended(before, now)
            await store.end(conn, after)
            event = rules.end_event(after, role, words, now)
            return _change("closure.ended", before, after, event, 200)

        return await self.declarations.run(sub, apply)


async def _locked(
    conn: AsyncConnection[Any], closure_id: str, now: dt.datetime
) -> tuple[Closure, bool]:
    found = await store.lock(conn, closure_id, now)
    if found is None:  # pragma: no cover - closures are never deleted
        raise rules.UnknownClosure(closure_id)
    rules.require_open(found[0])
    return found


class EquipmentService:
    """Declare and end equipment outages (:mod:`api.closures.outages`) through the service."""

    def __init__(self, declarations: DeclarationService) -> None:
        self.declarations = declarations

    async def declare(
        self, sub: Submission, facility: Facility, body: outages.DeclareOutage
    ) -> Outcome:
        """201 with the new outage; 200 with the outage in force updated."""
        principal, now = sub.principal, sub.now
        known = outages.equipment_for(facility, body.equipment_id, body.kind)

        async def apply(conn: AsyncConnection[Any]) -> Change:
            before = await outage_store.lock_in_force(conn, facility.id, known.equipment_id)
            if before is None:
                after = outages.declared(principal, facility, body, now)
                await outage_store.insert(conn, after)
            else:
                after = outages.updated(before, body, now)
                await outage_store.update(conn, after)
            event = outages.event_for(after, principal, now)
            action = "equipment.declared" if before is None else "equipment.updated"
            return _outage_change(action, before, after, event, 201 if before is None else 200)

        return await self.declarations.run(sub, apply)

    async def end(self, sub: Submission, facility: Facility, body: outages.EndOutage) -> Outcome:
        """200 with the outage ended now; 409 when the equipment has none in force."""
        principal, now = sub.principal, sub.now
        known = outages.equipment_for(facility, body.equipment_id, None)

        async def apply(conn: AsyncConnection[Any]) -> Change:
            before = await outage_store.lock_in_force(conn, facility.id, known.equipment_id)
            if before is None:
                raise outages.NoOutage(known.equipment_id)
            after = outages.ended(before, now)
            await outage_store.update(conn, after)
            event = outages.event_for(after, principal, now, body.message)
            return _outage_change("equipment.ended", before, after, event, 200)

        return await self.declarations.run(sub, apply)


def _outage_change(
    action: str,
    before: outages.Outage | None,
    after: outages.Outage,
    event: CloudEvent,
    status: int,
) -> Change:
    return Change(
        action=action,
        facility_id=after.facility_id,
        record_id=after.outage_id,
        before=before.snapshot() if before is not None else None,
        after=after.snapshot(),
        event=event,
        status=status,
        body=after.model_dump(mode="json"),
    )
