"""The fault suite's shared harness: a paced passage load with its exact reference, live clients
that keep the highest ``seq`` per facility and resume with ``since``, a TCP proxy that adds delay,
and the report every fault writes (``test-artifacts/faults.json``, printed too).

The invariant every fault checks (:meth:`Load.assert_invariants`):

* the final live state equals the reference computed from the produced events (exact occupancy);
* every acknowledged event is in the history (``events``), once — ``lost`` must be 0;
* every live client ends with the server's view (same ``seq`` and occupancy as Redis).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import redis.asyncio as aioredis
import websockets

from paris_live.live import facility_key
from paris_live.settings import Settings
from tests.streams.streams_testkit import (
    Record,
    passages_keeping_positive,
    pg_count,
    produce,
    quiet_facilities,
    wait_until,
)
from tests.testkit import merge_report

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "test-artifacts" / "faults.json"


@dataclass
class FaultResult:
    """One fault's figures, as RELIABILITY.md reports them."""

    fault: str
    produced: int
    acknowledged: int
    in_history: int
    lost: int
    recovery_s: float
    recovery_means: str
    clients: int = 0
    clients_stale: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def report(result: FaultResult) -> None:
    """Print the figures and merge them into ``test-artifacts/faults.json``."""
    merge_report(REPORT, result.fault, asdict(result))


class Load:
    """``n`` passage events over quiet facilities, paced, with the exact expected occupancy."""

    def __init__(self, settings: Settings, n: int, facilities: int = 10) -> None:
        self.settings = settings
        self.ids = quiet_facilities(facilities, min_capacity=250)
        self.records, self.expected = passages_keeping_positive(self.ids, n)
        self.acknowledged = 0

    async def produce(self, per_second: int, records: Sequence[Record] | None = None) -> None:
        """Send the records in 0.1 s chunks; each chunk counts once Kafka acknowledged it."""
        records = self.records if records is None else records
        chunk = max(1, per_second // 10)
        for start in range(0, len(records), chunk):
            part = records[start : start + chunk]
            await produce(self.settings, part)
            self.acknowledged += len(part)
            await asyncio.sleep(0.1)

    async def stored(self) -> int:
        return await pg_count(self.settings, "SELECT count(DISTINCT event_id) FROM events")

    async def live(self, redis: aioredis.Redis) -> dict[str, tuple[int, int | None]]:
        """(seq, occupancy) per facility, as Redis holds it."""
        out: dict[str, tuple[int, int | None]] = {}
        for fid in self.ids:
            raw = await redis.hget(facility_key(self.settings, fid), "json")
            if raw is None:
                continue
            doc = orjson.loads(raw)
            occ = doc["occupancy"]
            out[fid] = (int(doc["seq"]), None if occ is None else int(occ["count"]))
        return out

    async def seq_total(self, redis: aioredis.Redis) -> int:
        return sum(seq for seq, _ in (await self.live(redis)).values())

    async def settle(
        self, redis: aioredis.Redis, clients: Sequence[LiveClient] = (), within: float = 120
    ) -> None:
        """Until history, live state and clients reflect every produced event."""
        n = len(self.records)

        async def done() -> bool:
            if await self.stored() < n:
                return False
            live = await self.live(redis)
            if {fid: occ for fid, (_, occ) in live.items()} != self.expected:
                return False
            return all(c.view_matches(live) for c in clients)

        try:
            await wait_until(done, within=within, every=0.5, what="history, live state, clients")
        except AssertionError:
            live = await self.live(redis)
            wrong = {
                fid: (live.get(fid), want)
                for fid, want in self.expected.items()
                if (live.get(fid) or (0, None))[1] != want
            }
            stale = [c.view for c in clients if not c.view_matches(live)][:1]
            raise AssertionError(
                f"not settled after {within} s: {await self.stored()}/{n} events in history; "
                f"live (seq, occupancy) vs expected: {wrong}; {len(stale)} stale client(s), "
                f"first: { {f: (s['seq'], s['occupancy']) for f, s in (stale[0] if stale else {}).items()} }"
            ) from None

    async def assert_invariants(
        self, redis: aioredis.Redis, clients: Sequence[LiveClient] = ()
    ) -> tuple[int, int]:
        """The three invariants; returns (events in history, clients left stale)."""
        in_history = await self.stored()
        assert in_history == len(self.records) >= self.acknowledged
        duplicates = await pg_count(
            self.settings,
            "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
            "HAVING count(*) > 1) d",
        )
        assert duplicates == 0, "an event is in the history twice"
        live = await self.live(redis)
        assert {fid: occ for fid, (_, occ) in live.items()} == self.expected
        stale = sum(not c.view_matches(live) for c in clients)
        assert stale == 0, f"{stale} client(s) left with a stale view"
        return in_history, stale


class LiveClient:
    """A ``/v1/live`` client following facilities, as a browser does: it keeps the highest seq per
    facility, reconnects (to the next URL of its list) and resumes with ``since``."""

    open_timeout = 5.0

    def __init__(self, urls: Sequence[str], facilities: Sequence[str]) -> None:
        self.urls = list(urls)
        self.facilities = list(facilities)
        self.view: dict[str, dict[str, Any]] = {}
        self.snapshots = 0
        self.reconnects = 0
        self.last_frame_at = 0.0
        self.connected_to: str | None = None
        """The URL whose snapshot it last received (None while it reconnects)."""
        self.subscribed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def view_matches(self, live: dict[str, tuple[int, int | None]]) -> bool:
        for fid in self.facilities:
            if fid not in live:
                continue
            mine = self.view.get(fid)
            if mine is None or int(mine["seq"]) != live[fid][0]:
                return False
            occ = mine["occupancy"]
            if (None if occ is None else int(occ["count"])) != live[fid][1]:
                return False
        return True

    def _apply(self, status: dict[str, Any]) -> None:
        current = self.view.get(status["facility_id"])
        if current is None or int(status["seq"]) > int(current["seq"]):
            self.view[status["facility_id"]] = status

    async def _run(self) -> None:
        attempt = 0
        while True:
            url = self.urls[attempt % len(self.urls)]
            try:
                async with websockets.connect(
                    url, max_size=None, open_timeout=self.open_timeout
                ) as ws:
                    message: dict[str, Any] = {"op": "subscribe", "facilities": self.facilities}
                    if self.view:
                        message["since"] = {f: int(s["seq"]) for f, s in self.view.items()}
                    await ws.send(orjson.dumps(message).decode())
                    async for frame in ws:
                        msg = orjson.loads(frame)
                        self.last_frame_at = time.monotonic()
                        if msg["op"] == "snapshot":
                            self.snapshots += 1
                            for status in msg["facilities"]:
                                self._apply(status)
                            self.connected_to = url
                            self.subscribed.set()
                        elif msg["op"] == "update":
                            self._apply(msg["facility"])
            except (
                OSError,
                websockets.ConnectionClosed,
                TimeoutError,
                websockets.InvalidHandshake,
            ):
                pass
            self.connected_to = None
            self.subscribed.clear()
            self.reconnects += 1
            attempt += 1
            await asyncio.sleep(0.2)


class DelayProxy:
    """A TCP forwarder on 127.0.0.1 that delivers every byte ``delay_s`` later, each direction
    (latency, not a bandwidth cap: bytes are queued with their due time)."""

    def __init__(self, target_host: str, target_port: int, delay_s: float) -> None:
        import socket

        self.target = (target_host, target_port)
        self.delay_s = delay_s
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        for src, dst in ((reader, up_writer), (up_reader, writer)):
            queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()
            for coro in (self._read(src, queue), self._write(dst, queue)):
                task = asyncio.create_task(coro)
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

    async def _read(
        self, reader: asyncio.StreamReader, queue: asyncio.Queue[tuple[float, bytes]]
    ) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                queue.put_nowait((loop.time() + self.delay_s, data))
        queue.put_nowait((loop.time() + self.delay_s, b""))

    async def _write(
        self, writer: asyncio.StreamWriter, queue: asyncio.Queue[tuple[float, bytes]]
    ) -> None:
        loop = asyncio.get_running_loop()
        try:
            while True:
                due, data = await queue.get()
                if (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def port_of(url: str) -> int:
    """The port of a ``scheme://user@host:port/db`` URL or of a ``host:port`` address."""
    if "//" in url:
        port = urlsplit(url).port
        assert port is not None, url
        return port
    return int(url.rsplit(":", 1)[1])


async def time_until(check: Any, within: float, every: float = 0.1) -> float:
    """Seconds until ``await check()`` is true (AssertionError after ``within``)."""
    started = time.monotonic()
    await wait_until(check, within=within, every=every)
    return round(time.monotonic() - started, 2)
