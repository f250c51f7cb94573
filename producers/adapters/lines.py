"""Line-oriented device input over TCP or stdin, published in micro-batches by one flusher task.

A bad line is logged (structlog, with the reason and the peer) and counted
(``paris_live_producer_input_rejected``), then the next line is read: nothing stops the adapter.
When the spool is full the events wait in memory (up to ``max_backlog``) and reading pauses, so a
device feels back-pressure instead of losing passages.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import sys
from abc import ABC, abstractmethod

import structlog

from producers import metrics
from producers.errors import MalformedInput, SpoolFull
from producers.publisher import Publisher
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent

log = structlog.get_logger("producers.adapters")


class LineAdapter(ABC):
    """Reads lines, turns them into events (subclass), publishes them every ``flush_s``."""

    name = "lines"

    def __init__(self, publisher: Publisher, *, flush_s: float = 0.25, max_backlog: int = 100_000):
        self.publisher = publisher
        self.flush_s = flush_s
        self.max_backlog = max_backlog
        self.accepted = 0
        self.rejected = 0
        self._backlog: list[CloudEvent] = []
        self._readable = asyncio.Event()
        self._readable.set()
        self._servers: list[asyncio.Server] = []

    # -- subclass hooks ----------------------------------------------------------------------

    @abstractmethod
    def on_line(self, line: str, now: dt.datetime) -> None:
        """Parse one line and file its event(s); raise MalformedInput or InvalidEvent if bad."""

    @abstractmethod
    def ready_events(self, now: dt.datetime, *, final: bool) -> list[CloudEvent]:
        """Events ready to publish now (all of them when ``final``)."""

    # -- input -------------------------------------------------------------------------------

    def feed(self, line: str, *, peer: str = "-") -> bool:
        """Handle one line; False (logged and counted) when it is malformed."""
        try:
            self.on_line(line, dt.datetime.now(dt.UTC))
        except (MalformedInput, InvalidEvent) as exc:
            reason = getattr(exc, "reason", "invalid")
            self.rejected += 1
            metrics.INPUT_REJECTED.labels(self.name, reason).inc()
            log.warning(
                "line_rejected", adapter=self.name, reason=reason, error=exc.message,
                peer=peer, line=line[:200].rstrip(),
            )  # fmt: skip
            return False
        self.accepted += 1
        metrics.INPUT_ACCEPTED.labels(self.name).inc()
        return True

    async def _read(self, reader: asyncio.StreamReader, peer: str) -> None:
        while True:
            await self._readable.wait()
            try:
                raw = await reader.readline()
            except ValueError:  # a line longer than the stream limit
                self.feed("x" * 2000, peer=peer)
                continue
            if not raw:
                return
            self.feed(raw.decode("utf-8", errors="replace"), peer=peer)

    async def serve_tcp(self, host: str, port: int) -> asyncio.Server:
        """Accept devices on ``host:port``; one line protocol stream per connection."""

        async def connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peer = "{}:{}".format(*writer.get_extra_info("peername")[:2])
            log.info("device_connected", adapter=self.name, peer=peer)
            try:
                await self._read(reader, peer)
            finally:
                writer.close()
                log.info("device_disconnected", adapter=self.name, peer=peer)

        server = await asyncio.start_server(connection, host, port, limit=8192)
        self._servers.append(server)
        return server

    async def read_stdin(self) -> None:
        """Read lines from standard input until it closes."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=8192)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        await self._read(reader, "stdin")

    # -- output ------------------------------------------------------------------------------

    async def flush(self, *, final: bool = False) -> int:
        """Publish what is ready; returns how many events Kafka or the spool accepted."""
        events = self._backlog + self.ready_events(dt.datetime.now(dt.UTC), final=final)
        self._backlog = []
        if not events:
            return 0
        try:
            await self.publisher.publish_many(events)
        except SpoolFull as exc:
            self._backlog = events
            log.error(
                "spool_full_holding_events", adapter=self.name, held=len(events), error=str(exc)
            )
            if len(events) >= self.max_backlog:
                self._readable.clear()  # back-pressure on the devices
            return 0
        self._readable.set()
        return len(events)

    async def run_flusher(self, stop: asyncio.Event) -> None:
        """Flush every ``flush_s`` until ``stop``; then flush everything left."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.flush_s)
            await self.flush()
        for server in self._servers:
            server.close()
        await self.flush(final=True)
