"""The API process's heap under many viewers (issue 18): what start-up built is frozen out of the
collector's walks, and a closed ``/v1/live`` connection is freed by reference counting alone —
so nothing of it can be kept forever by a frozen generation, and nothing leaks."""

from __future__ import annotations

import asyncio
import gc
import socket
from collections import Counter

import orjson
import pytest
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol

from api.live_ws import LiveConnection
from paris_live.runtime_gc import GEN0_THRESHOLD
from tests.api.api_testkit import InProcessServer
from tests.testkit import wait_until

pytestmark = pytest.mark.integration

HANDSHAKE = (
    b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
VIEWERS = 200


async def view_and_leave(port: int, *, close_frame: bool) -> None:
    """One viewer on a bare socket (no client-side objects to count): handshake, subscribe,
    read until the snapshot, then leave with a close frame or by dropping the connection."""
    loop = asyncio.get_running_loop()
    with socket.socket() as sock:
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        subscribe = orjson.dumps({"op": "subscribe", "filter": {"type": "pool"}})
        await loop.sock_sendall(sock, HANDSHAKE)
        received = b""
        while b"\r\n\r\n" not in received:
            received += await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 20)
        await loop.sock_sendall(sock, Frame(Opcode.TEXT, subscribe).serialize(mask=True))
        while b'"op":"snapshot"' not in received:
            chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 16), 20)
            assert chunk, f"the server closed the connection after {received[:300]!r}"
            received += chunk
        if close_frame:
            await loop.sock_sendall(sock, Frame(Opcode.CLOSE, b"\x03\xe8").serialize(mask=True))


def live_connections() -> int:
    return sum(isinstance(o, LiveConnection) for o in gc.get_objects())


async def test_start_up_is_frozen_out_of_the_collectors_walks(api_server: InProcessServer) -> None:
    """Once the API has started, start-up's objects are in the permanent generation (no
    collection walks them again) and young collections come far less often than CPython's
    default."""
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold()[0] == GEN0_THRESHOLD


async def test_closed_connections_are_freed_and_nothing_leaks(
    api_server: InProcessServer,
) -> None:
    """200 viewers connect, subscribe and leave (half with a close frame, half dropping the
    socket). With the cyclic collector off, every ``LiveConnection`` and its websockets protocol
    is gone (reference counting alone frees them, so a frozen generation can never keep one);
    once the collector has run, no kind of object has 200 more instances than before (uvicorn's
    HTTP protocol that did the upgrade is a cycle, young garbage for the collector). A few
    viewers come and go first: what a first connection fills once (``abc``'s isinstance caches
    hold weak references, a few hundred in the whole suite's process) is not a leak."""
    await asyncio.gather(
        *(view_and_leave(api_server.port, close_frame=i % 2 == 0) for i in range(4))
    )
    await wait_until(lambda: not api_server.hub.subscribers, within=20, every=0.1, what="warm-up")
    gc.collect()
    gc.disable()
    try:
        before = Counter(type(o).__qualname__ for o in gc.get_objects())
        await asyncio.gather(
            *(view_and_leave(api_server.port, close_frame=i % 2 == 0) for i in range(VIEWERS))
        )
        await wait_until(
            lambda: not api_server.hub.subscribers and live_connections() == 0,
            within=20,
            every=0.1,
            what="every connection to be closed and freed without the collector",
        )
        protocols = sum(isinstance(o, ServerProtocol) for o in gc.get_objects())
        assert protocols <= before["ServerProtocol"]
    finally:
        gc.enable()
    gc.collect()
    after = Counter(type(o).__qualname__ for o in gc.get_objects())
    grown = {kind: n - before[kind] for kind, n in after.items() if n - before[kind] >= VIEWERS}
    assert grown == {}
