"""The Python load generator of bench/e2e, kept as a cross-check of the compiled one (``main.go``
here): raw asyncio WebSocket clients (handshake, masked subscribe frame, pongs, frames read by
their headers) that speak the same line protocol on stdin/stdout.

    python -m bench.loadgen.pyclient

Latency sample: a client receives an ``update`` whose status ``last_data_at`` is newer than
anything it had for that facility → receive wall time − ``last_data_at``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import resource
import sys
import time
from array import array
from typing import Any, cast


def _percentiles(values: array[float] | list[float]) -> dict[str, float]:
    ordered = sorted(values)
    if not ordered:
        return dict.fromkeys(("p50_ms", "p95_ms", "p99_ms", "max_ms"), float("nan"))

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99), "max_ms": ordered[-1]}


HANDSHAKE = (
    "GET /v1/live HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)
PONG = b"\x8a\x80\x00\x00\x00\x00"
FID = b'"facility_id":"'
LAST = b'"last_data_at":"'


def masked_text(payload: bytes) -> bytes:
    """A client → server text frame (mask 0: the payload is sent as is, legally masked)."""
    n = len(payload)
    if n < 126:
        head = bytes([0x81, 0x80 | n])
    elif n < 65536:
        head = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head = bytes([0x81, 0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload


class Gen:
    """What every client of the load generator shares: the samples of the current window."""

    def __init__(self) -> None:
        self.clients: list[Client] = []
        self.since = float("inf")
        self.samples: array[float] = array("d")
        self.frames = 0
        self.ops_new = 0
        self.newest = 0.0
        self.newest_at = 0.0
        self.parsed: dict[bytes, float] = {}


class Client(asyncio.Protocol):
    def __init__(self, gen: Gen, ops: bool) -> None:
        self.gen = gen
        self.ops = ops
        self.buf = bytearray()
        self.open = False
        self.seen: dict[bytes, float] = {}
        loop = asyncio.get_running_loop()
        self.ready: asyncio.Future[None] = loop.create_future()
        self.snapshot: asyncio.Future[None] = loop.create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("closed during the handshake"))

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(bytes(buf[:80]).decode()))
                return
            del buf[: end + 4]
            self.open = True
            self.ready.set_result(None)
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode = buf[pos] & 0x0F
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            start = pos + head
            if opcode == 1:
                if buf[start + 7 : start + 13] == b"update":
                    self._update(bytes(buf[start : start + length]))
                elif not self.snapshot.done():
                    self.snapshot.set_result(None)
            elif opcode == 9 and self.transport is not None:
                self.transport.write(PONG)
            pos = start + length
        del buf[:pos]

    def _update(self, payload: bytes) -> None:
        now = time.time()
        gen = self.gen
        gen.frames += 1
        i = payload.find(FID)
        j = payload.find(LAST)
        if i < 0 or j < 0:
            return
        i += len(FID)
        facility = payload[i : payload.index(b'"', i)]
        j += len(LAST)
        raw = payload[j : payload.index(b'"', j)]
        at = gen.parsed.get(raw)
        if at is None:
            at = dt.datetime.fromisoformat(raw.decode()).timestamp()
            gen.parsed[raw] = at
        if at <= self.seen.get(facility, 0.0):
            return
        self.seen[facility] = at
        if at > gen.newest:
            gen.newest, gen.newest_at = at, now
        if at < gen.since:
            return
        gen.samples.append((now - at) * 1000.0)
        if self.ops:
            gen.ops_new += 1


async def _connect(gen: Gen, port: int, subscriptions: list[tuple[bytes, bool]]) -> None:
    loop = asyncio.get_running_loop()
    request = HANDSHAKE.format(port=port).encode()
    gate = asyncio.Semaphore(100)

    async def one(subscribe: bytes, ops: bool) -> None:
        async with gate:
            for attempt in range(6):
                try:
                    _, client = await loop.create_connection(
                        lambda: Client(gen, ops), "127.0.0.1", port
                    )
                    assert client.transport is not None
                    client.transport.write(request)
                    await asyncio.wait_for(client.ready, 30)
                    break
                except (OSError, TimeoutError):
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                raise RuntimeError("could not connect")
            client.transport.write(subscribe)
            await asyncio.wait_for(client.snapshot, 60)
            gen.clients.append(client)

    await asyncio.gather(*(one(masked_text(s), ops) for s, ops in subscriptions))


async def loadgen_main() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gen = Gen()
    loop = asyncio.get_running_loop()

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while line := await loop.run_in_executor(None, sys.stdin.readline):
        cmd = json.loads(line)
        if cmd["cmd"] == "connect":
            started = time.monotonic()
            subs = [(s.encode(), ops) for s, ops in cmd["subscriptions"]]
            await _connect(gen, cmd["port"], subs)
            reply({"connected": len(gen.clients), "secs": round(time.monotonic() - started, 1)})
        elif cmd["cmd"] == "window":
            gen.since, gen.samples, gen.frames, gen.ops_new = cmd["since"], array("d"), 0, 0
            gen.parsed.clear()
            usage = resource.getrusage(resource.RUSAGE_SELF)
            reply({"since": gen.since, "cpu_s": round(usage.ru_utime + usage.ru_stime, 3)})
        elif cmd["cmd"] == "newest":
            reply({"newest": gen.newest, "newest_at": gen.newest_at})
        elif cmd["cmd"] == "count":
            reply({"frames": gen.frames, "samples": len(gen.samples)})
        elif cmd["cmd"] == "collect":
            figures = _percentiles(gen.samples)
            usage = resource.getrusage(resource.RUSAGE_SELF)
            clients = len(gen.clients)
            reply(
                {
                    **figures,
                    "samples": len(gen.samples),
                    "frames": gen.frames,
                    "ops_new": gen.ops_new,
                    "clients": clients,
                    "frames_per_client": round(gen.frames / clients, 2) if clients else 0.0,
                    "cpu_s": round(usage.ru_utime + usage.ru_stime, 3),
                    "loadgen": "python",
                }
            )
            gen.since = float("inf")
        elif cmd["cmd"] == "drop":
            for client in gen.clients[cmd["keep"] :]:
                if client.transport is not None:
                    client.transport.abort()
            del gen.clients[cmd["keep"] :]
            await asyncio.sleep(0.5)
            reply({"connected": len(gen.clients)})
        elif cmd["cmd"] == "exit":
            return


if __name__ == "__main__":
    asyncio.run(loadgen_main())
