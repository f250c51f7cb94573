"""The compiled load generator of bench/e2e (bench/loadgen): it builds, connects to a real API and
counts exactly the frames the API sent. No timing is asserted: the latencies are the bench's."""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis.asyncio as aioredis

from api.app import create_app
from bench.loadgen import build, go_available
from paris_live.settings import Settings
from tests.api.api_testkit import (
    InProcessServer,
    facilities_of,
    fast_hub,
    make_status,
    put_status,
)
from tests.testkit import wait_until

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(not go_available(), reason="the load generator is built with Go"),
]


class Loadgen:
    """The load generator as bench/e2e drives it: one JSON command per line, one answer per line."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc

    async def ask(self, cmd: dict[str, Any], within: float = 60) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write((json.dumps(cmd) + "\n").encode())
        await self.proc.stdin.drain()
        line = await asyncio.wait_for(self.proc.stdout.readline(), within)
        assert line, "the load generator exited"
        answer: dict[str, Any] = json.loads(line)
        return answer


@pytest.fixture
async def loadgen() -> AsyncIterator[Loadgen]:
    """The binary, built from its sources (once per source hash), running."""
    binary = await asyncio.to_thread(build)
    proc = await asyncio.create_subprocess_exec(
        str(binary), stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE
    )
    yield Loadgen(proc)
    if proc.returncode is None:
        assert proc.stdin is not None
        proc.stdin.write(b'{"cmd": "exit"}\n')
        await proc.stdin.drain()
        try:
            await asyncio.wait_for(proc.wait(), 10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def test_loadgen_counts_every_frame_sent(
    settings: Settings, db: Settings, redis_client: aioredis.Redis, loadgen: Loadgen
) -> None:
    """Two clients of the compiled load generator following one facility record the 5 updates
    written after they subscribed: 10 frames, 10 latency samples, 5 frames per client, and the
    load generator reports its own CPU time."""
    facility = facilities_of("pool", 1)[0]
    start = datetime.now(UTC)
    await put_status(redis_client, settings, make_status(facility, 1, last_data_at=start))
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    await server.start()
    try:
        subscribe = json.dumps({"op": "subscribe", "facilities": [facility.id]})
        answer = await loadgen.ask(
            {"cmd": "connect", "port": server.port, "subscriptions": [[subscribe, False]] * 2}
        )
        assert answer["connected"] == 2
        window = await loadgen.ask({"cmd": "window", "since": start.timestamp()})
        assert window["cpu_s"] > 0
        for update in range(1, 6):
            at = start + timedelta(seconds=update)
            await put_status(
                redis_client, settings, make_status(facility, 1 + update, last_data_at=at)
            )

            async def delivered(update: int = update) -> bool:
                count = await loadgen.ask({"cmd": "count"})
                return bool(count["frames"] >= 2 * update)

            # one update at a time: a hub that coalesces a burst would rightly send fewer frames
            await wait_until(delivered, within=20, every=0.05, what=f"update {update} twice")
        await server.mirrored({facility.id: 6})
        figures = await loadgen.ask({"cmd": "collect"})
    finally:
        await server.stop()
    assert figures["frames"] == 10
    assert figures["samples"] == 10
    assert figures["clients"] == 2
    assert figures["frames_per_client"] == 5
    assert all(math.isfinite(figures[k]) for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms"))
    assert figures["cpu_s"] >= window["cpu_s"]
