"""Hostile inputs on WebSocket ``/v1/live``, against a real uvicorn server and real Redis.

Each test sends one hostile input, asserts the answer (error frame, close code or HTTP status of
the handshake), then that a normal client still gets its snapshot and a later update.

| input | answer |
|---|---|
| 4,000 re-subscribes in 4 s, never reading | back-pressure: nothing written or read past the high-water mark; ``rate_limited`` → 1008 (or 1013 when the budget is off); RSS bounded |
| subscribes faster than the budget (reading) | ``rate_limited`` error frames, then 1008 |
| a 10 MB frame | 1009 |
| binary frames | ``invalid_message``, then 1008 |
| invalid UTF-8 in a text frame | ``bad_json`` |
| 100,000 facility ids / a 10^6-entry ``since`` | 1009 (frame over 64 KiB) |
| 2,001 facility ids in one frame | ``invalid_message`` |
| ``since`` with a seq of 10^30 | a snapshot without that facility |
| a filter with a NUL byte / an unknown type | ``invalid_message`` |
| a foreign ``Origin`` | HTTP 403 at the handshake |
| hundreds of sockets from one address | HTTP 429 + ``Retry-After`` past the cap |
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import (
    InProcessServer,
    ProcessServer,
    facilities_of,
    fast_hub,
    make_status,
    put_status,
    recv,
    subscribe,
    wait_ready,
)

pytestmark = pytest.mark.integration

HANDSHAKE = (
    b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


def masked(opcode: Opcode, payload: bytes) -> bytes:
    return Frame(opcode, payload).serialize(mask=True)


def subscribe_frame(**fields: Any) -> bytes:
    return masked(Opcode.TEXT, orjson.dumps({"op": "subscribe", **fields}))


async def raw_client(port: int, rcvbuf: int | None = None) -> socket.socket:
    """A raw TCP client past the WebSocket handshake (101)."""
    sock = socket.socket()
    if rcvbuf is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", port))
    await loop.sock_sendall(sock, HANDSHAKE)
    head = b""
    while b"\r\n\r\n" not in head:
        head += await loop.sock_recv(sock, 1)
    assert head.startswith(b"HTTP/1.1 101"), head
    return sock


async def read_until_closed(sock: socket.socket, within: float = 15.0) -> tuple[list[Any], int]:
    """Every message the server sends on a raw socket, and the code of its close frame."""
    loop = asyncio.get_running_loop()
    buf, messages = b"", []
    deadline = time.monotonic() + within
    while True:
        while len(buf) >= 2:
            length, start = buf[1] & 0x7F, 2
            if length == 126:
                length, start = int.from_bytes(buf[2:4]), 4
            elif length == 127:
                length, start = int.from_bytes(buf[2:10]), 10
            if len(buf) < start + length:
                break
            opcode, payload, buf = buf[0] & 0x0F, buf[start : start + length], buf[start + length :]
            if opcode == Opcode.CLOSE:
                return messages, int.from_bytes(payload[:2])
            if opcode == Opcode.TEXT and (message := orjson.loads(payload))["op"] != "heartbeat":
                messages.append(message)
        chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), deadline - time.monotonic())
        assert chunk, f"EOF without a close frame after {messages[-3:]}"
        buf += chunk


async def expect_close(ws: Any, within: float = 10.0) -> tuple[list[Any], int]:
    """Messages received until the server closes, and its close code."""
    messages = []
    with pytest.raises(ConnectionClosed) as closed:
        while True:
            messages.append(await recv(ws, within=within))
    assert closed.value.rcvd is not None, "closed without a close frame"
    return messages, closed.value.rcvd.code


async def still_serves(
    url: str,
    redis: aioredis.Redis,
    settings: Settings,
    facility: Any,
    **connect: Any,
) -> None:
    """A normal client gets a snapshot of a facility, then its next change."""
    seq = int(await redis.hget(settings.key("facility", facility.id), "seq") or 0) + 1
    async with websockets.connect(url, **connect) as ws:
        snapshot = await subscribe(ws, facilities=[facility.id])
        assert snapshot["op"] == "snapshot", snapshot
        await put_status(redis, settings, make_status(facility, seq))
        while True:  # an older change still on its way through pub/sub may come first
            update = await recv(ws)
            assert update["op"] == "update", update
            assert update["facility"]["facility_id"] == facility.id
            if update["facility"]["seq"] >= seq:
                break
        assert update["facility"]["seq"] == seq


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


async def closed_total(base: str) -> dict[str, float]:
    async with httpx.AsyncClient(base_url=base) as client:
        text = (await client.get("/metrics")).text
    out = {}
    for line in text.splitlines():
        if line.startswith("paris_live_live_closed_total{"):
            labels, value = line.rsplit(" ", 1)
            out[labels.split('"')[1]] = float(value)
    return out


@pytest.fixture
async def server(settings: Settings, db: Settings) -> AsyncIterator[InProcessServer]:
    """The API in this event loop, with the default live policy and short hub timers."""
    api = InProcessServer(create_app(fast_hub(settings)), settings)
    await api.start()
    yield api
    await api.stop()


@pytest.fixture
def process_server(settings: Settings, db: Settings) -> Iterator[Any]:
    """``paris-live api serve`` in a process of its own (its RSS is measured)."""
    started: list[ProcessServer] = []

    def start(**env: str) -> ProcessServer:
        started.append(ProcessServer(settings, 1, **env))
        return started[-1]

    yield start
    for api in started:
        api.stop()


@pytest.mark.parametrize(
    ("env", "closed_as"),
    [
        ({}, {"abuse", "slow"}),
        ({"PARIS_LIVE_HUB_WS_MESSAGE_BURST": "1000000"}, {"slow"}),
    ],
    ids=["defaults", "budget-off"],
)
async def test_resubscribe_flood_without_reading(
    process_server: Any,
    redis_client: aioredis.Redis,
    settings: Settings,
    env: dict[str, str],
    closed_as: set[str],
) -> None:
    """Issue 13's reproduction: 4,000 re-subscribes in 4 s from a client that never reads. The API
    stays within 48 MB of its RSS (it grew by 137 MB before), the client is closed — 1008 by the
    message budget or 1013 as a slow client, whichever the server's reads reach first; 1013 when
    the budget is off — and a normal client is served."""
    pools = facilities_of("pool", 41)
    for pool in pools:  # each snapshot of the pools ≈ 60 KB
        await put_status(redis_client, settings, make_status(pool, 1))
    server = process_server(PARIS_LIVE_HUB_SLOW_TIMEOUT="2", **env)
    await wait_ready(server.http)
    before = rss_kib(server.proc.pid)
    sock = await raw_client(server.port, rcvbuf=2048)
    loop = asyncio.get_running_loop()
    frame = subscribe_frame(filter={"type": "pool"})
    started = loop.time()
    try:
        for i in range(4000):
            try:  # a send that cannot complete: the server stopped reading us (back-pressure)
                await asyncio.wait_for(loop.sock_sendall(sock, frame), timeout=3)
            except (TimeoutError, ConnectionError):
                break
            if i % 100 == 99:  # the reproduction's pace: 1,000 a second
                await asyncio.sleep(max(0.0, started + (i + 1) / 1000 - loop.time()))
        peak = rss_kib(server.proc.pid)
        deadline = time.monotonic() + 20
        while True:  # the server closes the connection: reading ends with EOF or a reset
            try:
                chunk = await asyncio.wait_for(loop.sock_recv(sock, 1 << 20), timeout=20)
            except ConnectionError:
                break
            if not chunk:
                break
            assert time.monotonic() < deadline, "the flooding client was never closed"
    finally:
        sock.close()
    closed = await closed_total(server.http)
    assert sum(closed.get(reason, 0.0) for reason in closed_as) == 1.0, closed
    assert sum(closed.values()) == 1.0, closed
    assert peak - before < 48 * 1024, (before, peak)
    assert rss_kib(server.proc.pid) - before < 48 * 1024
    await still_serves(server.ws, redis_client, settings, pools[0])


async def test_subscribes_past_the_budget_are_rate_limited_then_closed_1008(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Subscribes sent faster than the message budget get rate_limited error frames, then 1008."""
    async with websockets.connect(server.ws) as ws:
        for _ in range(60):
            await ws.send('{"op": "subscribe", "filter": {"type": "pool"}}')
        messages, code = await expect_close(ws)
    assert code == 1008
    errors = [m for m in messages if m["op"] == "error"]
    assert [m["code"] for m in errors] == ["rate_limited"] * 5
    assert errors[0]["message"].endswith("too many messages, slow down")
    assert messages[0]["op"] == "snapshot"
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_ten_megabyte_frame_closes_1009(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A 10 MB text frame is refused from its header: close 1009 (message too big)."""
    sock = await raw_client(server.port)
    loop = asyncio.get_running_loop()
    header = Frame(Opcode.TEXT, b"").serialize(mask=True)[:1] + b"\xff"
    header += (10 * 1024 * 1024).to_bytes(8, "big") + b"\x00\x00\x00\x00"
    try:
        await loop.sock_sendall(sock, header + b"x" * 65536)
        messages, code = await read_until_closed(sock)
    finally:
        sock.close()
    assert (messages, code) == ([], 1009)
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_binary_frames_are_refused_then_closed_1008(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Binary frames answer invalid_message; the fifth closes with 1008."""
    async with websockets.connect(server.ws) as ws:
        for _ in range(5):
            await ws.send(b'{"op": "subscribe", "filter": {"type": "pool"}}')
        messages, code = await expect_close(ws)
    assert [m["code"] for m in messages] == ["invalid_message"] * 5 and code == 1008
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_invalid_utf8_text_frame_answers_bad_json(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A text frame that is not UTF-8 answers bad_json and the connection stays usable."""
    sock = await raw_client(server.port)
    loop = asyncio.get_running_loop()
    try:
        await loop.sock_sendall(sock, masked(Opcode.TEXT, b'{"op": "\xff\xfe"}'))
        await loop.sock_sendall(sock, masked(Opcode.CLOSE, (1000).to_bytes(2, "big")))
        messages, code = await read_until_closed(sock)
    finally:
        sock.close()
    assert [m["code"] for m in messages] == ["bad_json"] and code == 1000
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_huge_subscriptions(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """100,000 facility ids or a since map of 10^6 entries close with 1009 (frame over 64 KiB);
    2,001 ids in a small frame answer invalid_message."""
    for fields in (
        {"facilities": [f"f{i}" for i in range(100_000)]},
        {"facilities": ["a"], "since": {f"f{i}": i for i in range(1_000_000)}},
    ):
        async with websockets.connect(server.ws, max_size=None) as ws:
            with pytest.raises(ConnectionClosed):
                await ws.send(orjson.dumps({"op": "subscribe", **fields}).decode())
                await recv(ws)
            assert ws.close_code == 1009
    async with websockets.connect(server.ws) as ws:
        await ws.send(orjson.dumps({"op": "subscribe", "facilities": ["a"] * 2001}).decode())
        error = await recv(ws)
    assert error["code"] == "invalid_message" and error["message"].startswith("facilities")
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_since_with_a_huge_seq(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A since of 10^30 is only a claim about the client: the snapshot leaves that facility out."""
    pool = facilities_of("pool", 1)[0]
    await put_status(redis_client, settings, make_status(pool, 3))
    async with websockets.connect(server.ws) as ws:
        huge = "1" + "0" * 30  # 10^30, past any 64-bit integer
        await ws.send(
            f'{{"op": "subscribe", "facilities": ["{pool.id}"], "since": {{"{pool.id}": {huge}}}}}'
        )
        assert await recv(ws) == {"op": "snapshot", "facilities": []}
    await still_serves(server.ws, redis_client, settings, pool)


@pytest.mark.parametrize(
    "filter_",
    [{"type": "pool\u0000"}, {"type": "Pool; DROP"}, {"type": "spaceship"}],
    ids=["nul", "malformed", "unknown"],
)
async def test_bad_filters_answer_invalid_message(
    server: InProcessServer,
    redis_client: aioredis.Redis,
    settings: Settings,
    filter_: dict[str, str],
) -> None:
    """A filter type with a NUL byte or that is no slug answers invalid_message; a well-formed
    type no facility has answers an empty snapshot."""
    async with websockets.connect(server.ws) as ws:
        answer = await subscribe(ws, filter=filter_)
    if filter_["type"] == "spaceship":  # a well-formed slug: a future type, nothing matches
        assert answer == {"op": "snapshot", "facilities": []}
    else:
        assert answer["op"] == "error" and answer["code"] == "invalid_message"
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_foreign_origin_is_refused_403(
    settings: Settings, db: Settings, redis_client: aioredis.Redis
) -> None:
    """A browser handshake from an origin that is not allowed answers HTTP 403."""
    strict = settings.model_copy(update={"allowed_origins": ("https://www.paris.fr",)})
    server = InProcessServer(create_app(fast_hub(strict)), strict)
    await server.start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(server.ws, origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        assert orjson.loads(refused.value.response.body)["error"]["code"] == "origin_refused"
        await still_serves(
            server.ws,
            redis_client,
            settings,
            facilities_of("pool", 1)[0],
            origin="https://www.paris.fr",
        )
    finally:
        await server.stop()


async def test_a_repeated_origin_or_forwarded_for_header_gets_an_answer(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Two ``Origin`` lines made websockets' ``Headers.get`` raise mid-handshake: the socket was
    closed without a byte and asyncio logged a fatal error. Two origins (which one to check?)
    now answer HTTP 400; two ``X-Forwarded-For`` lines are one list, joined as uvicorn joins them
    for HTTP routes (101). The server goes on serving."""

    async def answer_to(extra: bytes) -> tuple[bytes, bytes]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(HANDSHAKE[:-2] + extra + b"\r\n")
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
            body = b"" if b" 101 " in head else await asyncio.wait_for(reader.read(), 10)
            return head, body
        finally:
            writer.close()

    two_origins = b"Origin: https://a.example\r\nOrigin: https://b.example\r\n"
    head, body = await answer_to(two_origins)
    assert head.startswith(b"HTTP/1.1 400 "), head
    assert b"content-type: application/json" in head.lower(), head  # the one error shape
    error = orjson.loads(body)["error"]
    assert error["code"] == "bad_request" and " / " in error["message"], error
    two_hops = b"X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-For: 10.0.0.2\r\n"
    assert (await answer_to(two_hops))[0].startswith(b"HTTP/1.1 101 ")
    await still_serves(server.ws, redis_client, settings, facilities_of("pool", 1)[0])


async def test_hundreds_of_sockets_from_one_address(
    server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Past 256 sockets from one address the handshake answers 429 with Retry-After; another
    address (directly, or behind a trusted proxy's X-Forwarded-For) is served, and a closed
    socket frees its place."""
    assert settings.hub_ws_max_per_address == 256
    opened = [await websockets.connect(server.ws) for _ in range(256)]
    try:
        for _ in range(3):
            with pytest.raises(InvalidStatus) as refused:
                await websockets.connect(server.ws)
            assert refused.value.response.status_code == 429
            assert refused.value.response.headers["Retry-After"] == "10"
        pool = facilities_of("pool", 1)[0]
        await still_serves(server.ws, redis_client, settings, pool, local_addr=("127.0.0.2", 0))
        await still_serves(
            server.ws,
            redis_client,
            settings,
            pool,
            additional_headers={"X-Forwarded-For": "203.0.113.9"},
        )
        await opened.pop().close()
        deadline = time.monotonic() + 10
        while True:  # the server sees the close, then the address has room again
            try:
                opened.append(await websockets.connect(server.ws))
                break
            except InvalidStatus:
                assert time.monotonic() < deadline, "the closed socket never freed its place"
    finally:
        for ws in opened:
            await ws.close()
