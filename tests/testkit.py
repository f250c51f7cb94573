"""Test helpers shared by several test folders: waiting on observable state with a deadline,
free ports, real-service fault injection.

Tests never sleep to let something happen: they wait until what they need can be observed
(:func:`wait_until`, :func:`wait_for`), and fail with a message when it never comes. A sleep left
in a test paces a load or holds a fault for a duration, and says so.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import socket
import struct
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

Check = Callable[[], "bool | object | Awaitable[bool | object]"]
"""A condition on observable state: a plain or async callable, truthy once it holds."""


async def wait_until(check: Check, *, within: float, every: float = 0.2, what: str = "") -> None:
    """Poll ``check`` until it is truthy; AssertionError after ``within`` seconds.

    ``every`` suits checks that cost a connection (PostgreSQL, Kafka); in-process state can be
    polled faster."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or check}")
        await asyncio.sleep(every)


def wait_for(
    check: Callable[[], object], *, within: float, every: float = 0.05, what: str = ""
) -> None:
    """:func:`wait_until` for synchronous tests (subprocesses, threads)."""
    deadline = time.monotonic() + within
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what or check}")
        time.sleep(every)


async def run_ready_tasks() -> None:
    """Let every task that can run do so up to its next await (one event loop pass, no delay):
    then a task still not done is really blocked."""
    await asyncio.sleep(0)


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 in front of a server; ``stop()`` closes the port and cuts every
    link (an outage), ``start()`` opens them again.

    Kafka clients bootstrap, then connect to the address the broker *advertises*. With
    ``advertise_proxy``, the broker's ``host + port`` in the answers (metadata) is rewritten to
    the proxy's own port — same length, so no size field changes — and every connection of the
    client goes through the proxy: stopping it cuts the producer off mid-run.
    """

    def __init__(
        self, target_host: str, target_port: int, *, advertise_proxy: bool = False
    ) -> None:
        self.target = (target_host, target_port)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._rewrite: tuple[bytes, bytes] | None = None
        if advertise_proxy:
            host = target_host.encode()
            self._rewrite = (
                host + struct.pack(">i", target_port),
                host + struct.pack(">i", self.port),
            )
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None
        for writer in list(self._links):
            writer.transport.abort()  # a hard cut, like a network outage
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
        self._links.update((writer, up_writer))
        pumps = [
            asyncio.create_task(self._pump(reader, up_writer, None)),
            asyncio.create_task(self._pump(up_reader, writer, self._rewrite)),
        ]
        self._tasks.update(pumps)
        try:
            await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for pump in pumps:
                pump.cancel()
                self._tasks.discard(pump)
            for w in (writer, up_writer):
                self._links.discard(w)
                w.close()

    @staticmethod
    async def _pump(
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        rewrite: tuple[bytes, bytes] | None,
    ) -> None:
        with contextlib.suppress(ConnectionError, OSError, asyncio.CancelledError):
            while data := await reader.read(65536):
                if rewrite is not None:
                    data = data.replace(*rewrite)
                writer.write(data)
                await writer.drain()


def merge_report(path: Path, key: str, row: dict[str, Any]) -> None:
    """Merge one row (stamped with the time) into a JSON table of ``test-artifacts/``, printed too:
    the suites whose figures RELIABILITY.md reports (faults, hostile inputs) write theirs here."""
    print(f"\n{path.stem.upper()} {key}: {json.dumps(row, ensure_ascii=False)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        table = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        table = {}
    table[key] = {**row, "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    path.write_text(json.dumps(table, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
