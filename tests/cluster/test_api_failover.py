"""An API process killed with SIGKILL while 1,000 live clients are connected across two (issue 19).

Two ``api.cli serve`` processes fan out from the same Redis (reached through the Sentinels of
``sentinel_set``); 1,000 WebSocket clients are spread over them and events keep flowing Kafka →
worker → Redis → API → clients. One API process is killed: each of its clients reconnects to the
other, as a load balancer would route it, resumes with ``since`` and must end with the current
state of every facility it follows. Properties only; the figures go to
``test-artifacts/cluster/redis_faults.json``.

    .venv/bin/pytest -q tests/cluster/test_api_failover.py -s
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from paris_live.redis_client import redis_client
from paris_live.settings import Settings
from tests.cluster.redis_fixtures import (
    API_PORTS,
    ApiProcess,
    RoutedClient,
    SentinelSet,
    double_counted,
    report,
    seconds_since,
    stop_all,
)
from tests.faults.faultkit import Load
from tests.streams.streams_testkit import WorkerProcess
from tests.testkit import wait_until

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CLIENTS = 1_000


@pytest.mark.timeout(240)
async def test_api_process_killed_with_1000_clients(
    kafka_topics: Settings,
    db: Settings,
    sentinel_set: SentinelSet,
    workers: list[WorkerProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One of two API processes killed -9 with 1,000 clients connected: every client of the dead
    process moves to the other and ends with the current state of each facility it follows."""
    settings = sentinel_set.settings_for(kafka_topics)
    assert settings.redis_sentinels is not None
    monkeypatch.setenv("PARIS_LIVE_REDIS_SENTINELS", settings.redis_sentinels)
    load = Load(settings, 2_000)
    workers.append(WorkerProcess(settings, tmp_path))
    # Every client comes from 127.0.0.1: lift the per-address cap above what one process holds.
    apis = [
        ApiProcess(settings, port, tmp_path, PARIS_LIVE_HUB_WS_MAX_PER_ADDRESS=str(2 * CLIENTS))
        for port in API_PORTS
    ]
    doomed, survivor = apis
    clients: list[RoutedClient] = []
    redis = redis_client(settings)
    producing: asyncio.Task[None] | None = None
    try:
        await asyncio.gather(*(api.ready() for api in apis))
        for i in range(CLIENTS):
            first, second = (doomed, survivor) if i % 2 == 0 else (survivor, doomed)
            client = RoutedClient([first.ws, second.ws], [load.ids[i % 10], load.ids[-1]])
            clients.append(client)
            client.start()
            if i % 100 == 99:
                await asyncio.sleep(0.2)  # as page loads arrive, not one SYN flood
        await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in clients)), 90)
        on_doomed = [c for c in clients if c.connected_to == doomed.ws]
        assert len(on_doomed) == CLIENTS // 2

        producing = asyncio.create_task(load.produce(200))
        await wait_until(lambda: load.acknowledged >= 600, within=60, what="600 events sent")
        doomed.kill()
        killed_at = time.monotonic()
        acknowledged_at_kill = load.acknowledged

        def moved() -> bool:
            return all(c.connected_to == survivor.ws for c in on_doomed)

        await wait_until(moved, within=60, every=0.1, what="the dead process's clients to move")
        moved_s = seconds_since(killed_at)

        await producing
        await load.settle(redis, clients, within=120)
        in_history, stale = await load.assert_invariants(redis, clients)
        assert all(c.reconnects >= 1 for c in on_doomed)
        assert all(c.connected_to == survivor.ws for c in clients)
        duplicates = await double_counted(settings)
    finally:
        if producing is not None:
            producing.cancel()
        await stop_all(clients)
        await redis.aclose()
        for api in apis:
            api.stop()
    report(
        "API process kill -9 with 1,000 clients",
        {
            "produced": len(load.records),
            "acknowledged": load.acknowledged,
            "acknowledged_at_kill": acknowledged_at_kill,
            "in_history": in_history,
            "lost": load.acknowledged - in_history,
            "double_counted": duplicates,
            "clients": len(clients),
            "clients_of_killed_process": len(on_doomed),
            "clients_moved": sum(c.connected_to == survivor.ws for c in on_doomed),
            "clients_stale": stale,
            "recovery_s": moved_s,
            "recovery_means": "SIGKILL of one API process → each of its clients resubscribed on "
            "the other (fresh snapshot received)",
        },
    )


async def _at_least(load: Load, n: int) -> bool:
    return await load.stored() >= n
