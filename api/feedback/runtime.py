"""The Kafka side of the feedback family: the outbox it shares with closures.

Complaints and survey answers reach Kafka as closures do (:mod:`api.closures.bus`): each event
is written to the outbox in the transaction that records it (:func:`record_events`), published
once that transaction committed (:func:`send`), and re-published by the relay of any API process
if the one that wrote it died in between. Nothing the API answered for is lost between the database commit
and Kafka; consumers deduplicate on the event id.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import Request
from psycopg import AsyncConnection

from api.closures import store as outbox
from api.context import AppContext
from api.routes.history import FEEDBACK_UNAVAILABLE, pg
from schemas.events import CloudEvent

__all__ = ["publish", "record_events", "send"]


async def record_events(
    conn: AsyncConnection[Any],
    events: Sequence[CloudEvent],
    *,
    about: str,
    routed_to: str | None = None,
) -> None:
    """Write the events to the outbox, in the caller's transaction (``about``: the complaint
    reference or the answer's id). With ``routed_to``, each also goes to ``complaints-routed``
    keyed by that service."""
    for event in events:
        await outbox.outbox(conn, event, about, routed_to=routed_to)


async def send(
    request: Request, events: Sequence[CloudEvent], *, routed_to: str | None = None
) -> None:
    """Publish events already committed to the outbox; what Kafka does not take now, the relay
    re-sends."""
    ctx: AppContext = request.state.ctx
    for event in events:
        await ctx.closure_bus.publish(event, routed_to=routed_to)


async def publish(
    request: Request, events: Sequence[CloudEvent], *, about: str, routed_to: str | None = None
) -> None:
    """Record events in the outbox (their own transaction), then publish them."""
    ctx: AppContext = request.state.ctx
    async with pg(ctx, FEEDBACK_UNAVAILABLE) as conn, conn.transaction():
        await record_events(conn, events, about=about, routed_to=routed_to)
    await send(request, events, routed_to=routed_to)
