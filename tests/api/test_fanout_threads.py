"""One update to a large audience, its ``send()`` calls shared with a helper thread
(:class:`api.live_ws.ThreadedSend`, issue 18): on real loopback sockets, every client gets every
frame whole and in order, and a client that stops reading still gets its frames through its
transport (buffered, then collapsed while paused) once it reads again."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from api.hub import Hub
from api.live_ws import LiveConnection, LiveEndpoint, ThreadedSend
from tests.api.api_testkit import make_status

HANDSHAKE = (
    b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
SPREAD_MIN = 8
"""The audience size from which the hub spreads a frame over threads, lowered for these tests."""


class Client:
    """A raw WebSocket client on a real socket: handshake, one subscribe, frames parsed."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.buf = b""
        self.got: list[dict[str, Any]] = []

    async def messages(self, until: Any) -> list[dict[str, Any]]:
        """Read frames until ``until(messages so far)`` holds; every byte must parse as whole
        frames."""
        got = self.got
        while not until(got):
            chunk = await asyncio.wait_for(self.reader.read(1 << 16), 20)
            assert chunk, "the server closed the connection"
            self.buf += chunk
            while len(self.buf) >= 2:
                assert self.buf[0] == 0x81, f"not a whole text frame: {self.buf[:8]!r}"
                length, start = self.buf[1] & 0x7F, 2
                if length == 126:
                    length, start = int.from_bytes(self.buf[2:4]), 4
                if len(self.buf) < start + length:
                    break
                got.append(orjson.loads(self.buf[start : start + length]))
                self.buf = self.buf[start + length :]
        return got


def seqs(messages: list[dict[str, Any]]) -> list[int]:
    return [m["facility"]["seq"] for m in messages if m["op"] == "update"]


@pytest.fixture
async def live(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[tuple[Hub, Any]]:
    """A hub behind a real listening socket whose connections write through one helper
    thread; yields it and an ``open(facility, rcvbuf=None)`` that connects and subscribes."""
    monkeypatch.setattr("api.hub.SPREAD_MIN", SPREAD_MIN)
    hub = Hub()
    endpoint = LiveEndpoint(hub=hub, send_threads=1)
    sender = hub.spread
    assert isinstance(sender, ThreadedSend)
    state = ServerState()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: LiveConnection(Config(app=None), state, {"live": endpoint}), "127.0.0.1", 0
    )
    port = server.sockets[0].getsockname()[1]
    clients: list[Client] = []

    async def open_(facility: str, rcvbuf: int | None = None) -> Client:
        sock = socket.socket()
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", port))
        reader, writer = await asyncio.open_connection(sock=sock)
        writer.write(HANDSHAKE)
        await reader.readuntil(b"\r\n\r\n")
        subscribe = orjson.dumps({"op": "subscribe", "facilities": [facility]})
        writer.write(Frame(Opcode.TEXT, subscribe).serialize(mask=True))
        client = Client(reader, writer)
        await client.messages(lambda got: any(m["op"] == "snapshot" for m in got))
        clients.append(client)
        return client

    try:
        yield hub, open_
    finally:
        for client in clients:
            client.writer.close()
        server.close()
        await server.wait_closed()
        sender.pool.shutdown()


async def test_every_client_gets_every_frame_in_order(live: tuple[Hub, Any]) -> None:
    """40 viewers of one pool, 300 updates dispatched one by one, ten at a time between reads
    (below the high-water mark, so nothing collapses): each viewer receives the 300 seqs, each
    frame whole, in order."""
    hub, open_ = live
    spread = hub.spread
    assert spread is not None
    spread_calls: list[int] = []  # subscribers each spread left to the hub

    def counted(subs: Any, data: bytes) -> list[Any]:
        left = spread(subs, data)
        spread_calls.append(len(left))
        return left

    hub.spread = counted
    hub.dispatch([make_status("pool-a", 1)])
    viewers = [await open_("pool-a") for _ in range(40)]
    sent = list(range(2, 302))
    for at in range(0, len(sent), 10):
        for seq in sent[at : at + 10]:
            hub.dispatch([make_status("pool-a", seq)])
        await asyncio.gather(
            *(v.messages(lambda got, upto=at + 10: len(seqs(got)) >= upto) for v in viewers)
        )
    assert not hub.paused
    assert spread_calls and all(left == 0 for left in spread_calls), "not written by threads"
    assert all(seqs(v.got) == sent for v in viewers)


async def test_a_client_that_stops_reading_gets_its_frames_through_its_transport(
    live: tuple[Hub, Any],
) -> None:
    """Beside 20 readers, one viewer with a tiny receive buffer stops reading while 200 updates
    of ≈ 4 KB go out: its socket fills and its transport buffers (then holds updates while
    paused); once it reads again it gets whole frames, in strictly increasing order, up to the
    newest — and every reader got all 200."""
    hub, open_ = live
    closure = {
        "closure_id": "clo-1",
        "scope": {"kind": "area", "name": "Bassin 50 m"},
        "reason": "works",
        "message": {"fr": "Travaux. " * 200, "en": "Works. " * 200},
        "starts_at": "2025-06-14T09:00:00+02:00",
        "expected_reopening_at": None,
        "declared_by": "agent-1",
        "declared_at": "2025-06-14T08:55:12+02:00",
    }
    hub.dispatch([make_status("pool-a", 1, closures=[closure])])
    readers = [await open_("pool-a") for _ in range(20)]
    slow = await open_("pool-a", rcvbuf=4096)
    port = slow.writer.get_extra_info("sockname")[1]
    slow_conn = next(
        s
        for s in hub.subscribers
        if isinstance(s, LiveConnection)
        and s.transport is not None
        and s.transport.get_extra_info("peername")[1] == port
    )
    buffered = False
    sent = list(range(2, 202))
    reading = [
        asyncio.create_task(r.messages(lambda got: len(seqs(got)) >= len(sent))) for r in readers
    ]
    for seq in sent:
        hub.dispatch([make_status("pool-a", seq, closures=[closure])])
        transport = slow_conn.transport
        buffered = buffered or (transport is not None and transport.get_write_buffer_size() > 0)
        await asyncio.sleep(0)
    assert buffered, "the slow client's socket never filled: the test did not test anything"
    results = await asyncio.gather(*reading)
    assert all(seqs(got) == sent for got in results)
    got = seqs(await slow.messages(lambda got: bool(seqs(got)) and seqs(got)[-1] == sent[-1]))
    assert got == sorted(set(got)), "frames out of order or repeated"
    assert got[-1] == sent[-1]
