"""``GET /v1/live/sse`` — the live feed as Server-Sent Events, and the ``/v1/live`` documentation.

SSE goes through the same hub as the WebSocket: a snapshot event, then one ``update`` event per
change (the same JSON as the WebSocket messages), ``heartbeat`` events at least every 15 s. Event
ids are ``facility_id:seq``; a reconnecting browser sends ``Last-Event-ID`` and gets a snapshot
without the facility it is known to be up to date on (``since=id:seq,...`` tells more).
A slow reader's pending updates collapse to the latest per facility.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from api.context import Ctx
from api.errors import (
    ERROR_RESPONSES,
    NOT_FOUND,
    ApiError,
    ErrorResponse,
    InvalidParameter,
    UnknownFacilityError,
    error_response,
)
from api.hub import Hub
from api.i18n import bilingual
from api.ratelimit import client_address
from api.subscriber import Subscriber, Update
from schemas.status import FACILITY_TYPE_PATTERN
from schemas.text import ascii_int
from schemas.ws import SubscribeFilter, SubscribeMessage

__all__ = ["SseSubscriber", "router"]

router = APIRouter(prefix="/v1", tags=["live"])


def sse_event(payload: bytes, event: str, event_id: str | None = None) -> bytes:
    lines = payload.split(b"\n") if b"\n" in payload else [payload]
    head = (b"id: " + event_id.encode() + b"\n") if event_id is not None else b""
    data = b"".join(b"data: " + line + b"\n" for line in lines)
    return head + b"event: " + event.encode() + b"\n" + data + b"\n"


class SseSubscriber(Subscriber):
    """A subscriber whose 'transport' is the response stream; paused while a chunk is in flight."""

    __slots__ = ("buffer", "ended", "release", "wakeup")

    def __init__(self, hub: Hub, release: Callable[[], None] | None = None) -> None:
        super().__init__(hub)
        self.buffer: list[bytes] = []
        self.ended = False
        self.wakeup = asyncio.Event()
        self.release = release
        """Gives back this stream's place under the per-address cap — once, whichever of the
        stream's end or the hub's ending it comes first (a stream whose response never started
        is ended by the hub after ``dead_after``)."""

    def _let_go(self) -> None:
        release, self.release = self.release, None
        if release is not None:
            release()

    def write_updates(self, updates: list[Update]) -> None:
        self.buffer.extend(sse_event(u.payload, "update", u.event_id) for u in updates)
        self.pause()
        self.wakeup.set()

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        self.buffer.append(sse_event(payload, event, event_id))
        self.wakeup.set()

    def terminate(self, code: int, reason: str) -> None:
        self.hub.detach(self)
        self._let_go()
        self.ended = True
        self.wakeup.set()

    async def stream(self) -> AsyncIterator[bytes]:
        try:
            yield b"retry: 3000\n\n"
            while True:
                if not self.buffer:
                    if self.ended:
                        return
                    await self.wakeup.wait()
                self.wakeup.clear()
                data, self.buffer = b"".join(self.buffer), []
                if data:
                    yield data
                    # the chunk was taken (heartbeats at least every interval): alive, as a
                    # WebSocket's pong says — else the hub ends every stream after dead_after
                    self.last_seen = self.hub.clock()
                self.resume()  # the chunk left: send what collapsed meanwhile
        finally:
            self.hub.detach(self)
            self._let_go()


def _parse_since(since: str | None, last_event_id: str | None) -> dict[str, int]:
    result: dict[str, int] = {}
    parts = [p for p in (since or "").split(",") if p]
    if last_event_id:
        parts.append(last_event_id)
    for part in parts:
        facility_id, sep, digits = part.strip().rpartition(":")
        seq = ascii_int(digits)
        if not sep or seq is None or not facility_id:
            raise InvalidParameter(
                bilingual("« since » invalide : %(part)s (attendu id:seq)", part=part)
            )
        result[facility_id] = max(seq, result.get(facility_id, -1))
    return result


@router.get(
    "/live/sse",
    summary="Flux en direct (Server-Sent Events) / Live feed (Server-Sent Events)",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "events `snapshot`, `update`, `heartbeat`, `error`; ids `facility_id:seq`",
        },
        **NOT_FOUND,
        **ERROR_RESPONSES,
    },
)
async def live_sse(
    request: Request,
    ctx: Ctx,
    facilities: Annotated[
        str | None,
        Query(
            max_length=20000,
            description="ids séparés par des virgules / comma-separated ids",
            examples=["piscine-pontoise,mairie-05"],
        ),
    ] = None,
    type: Annotated[str | None, Query(pattern=FACILITY_TYPE_PATTERN, max_length=50)] = None,
    arrondissement: Annotated[int | None, Query(ge=1, le=20)] = None,
    since: Annotated[
        str | None,
        Query(max_length=20000, description="`id:seq,...` — highest seq seen per facility"),
    ] = None,
    last_event_id: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Give ``facilities`` or a filter (``type`` and/or ``arrondissement``), not both."""
    ids = [f.strip() for f in (facilities or "").split(",") if f.strip()]
    try:
        message = SubscribeMessage(
            op="subscribe",
            facilities=ids or None,
            filter=SubscribeFilter(type=type, arrondissement=arrondissement)
            if (type is not None or arrondissement is not None)
            else None,
            since=_parse_since(since, last_event_id) or None,
        )
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        detail = f"{'.'.join(str(p) for p in error['loc']) or 'query'}: {error['msg']}"
        raise InvalidParameter(
            bilingual("Abonnement invalide — %(detail)s", detail=detail)
        ) from None
    for facility_id in ids:
        if facility_id not in ctx.hub.latest and not ctx.knows(facility_id):
            raise UnknownFacilityError(facility_id)
    address = client_address(request)
    if not ctx.sse_guard.admit(address):
        raise ApiError(
            bilingual("Trop de connexions depuis cette adresse"),
            status=429,
            code="too_many_connections",
            headers={"Retry-After": str(ctx.sse_guard.policy.retry_after)},
        )
    sub = SseSubscriber(ctx.hub, functools.partial(ctx.sse_guard.release, address))
    ctx.hub.attach(sub)
    ctx.hub.subscribe(sub, message)
    return StreamingResponse(
        sub.stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.get(
    "/live",
    summary="WebSocket /v1/live (documentation)",
    status_code=426,
    responses={426: {"model": ErrorResponse, "description": "Upgrade: websocket required"}},
)
async def live_doc() -> Response:
    """Connect with a WebSocket client (``Upgrade: websocket``). Client → server:
    ``{"op": "subscribe", "facilities": [...]}`` or ``{"op": "subscribe", "filter": {"type": ...,
    "arrondissement": ...}}``, optionally ``"since": {"<id>": <seq>}``; ``{"op": "unsubscribe"}``.
    Server → client: ``snapshot``, then ``update`` on every change, ``heartbeat`` at least every
    15 s, ``error``. Frames over 64 KiB close with 1009, repeated invalid frames with 1008, a
    client that cannot keep up with 1013; server shutdown closes with 1001.
    """
    response = error_response(
        426,
        "upgrade_required",
        bilingual("Connexion WebSocket requise"),
    )
    response.headers["Upgrade"] = "websocket"
    return response
