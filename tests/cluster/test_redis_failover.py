"""The Redis primary killed with SIGKILL under load, on a real failover set (issue 19).

Events flow Kafka → worker → Redis (through the Sentinels) → API → WebSocket clients while the
primary dies. Sentinel promotes the replica; the worker goes on writing to the new primary and
republishes what the old one may not have passed on; the API resubscribes and sends every client
a fresh snapshot. Checked as properties, never as times: no event lost or counted twice, the live
state exact, no client stale, every client resnapshotted, the old primary back as a replica.
The figures (recovery time with Sentinel's own timing counted) go to
``test-artifacts/cluster/redis_faults.json``.

    .venv/bin/pytest -q tests/cluster/test_redis_failover.py -s
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

import pytest

from api.app import create_app
from paris_live.redis_client import redis_client
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.cluster.redis_fixtures import (
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


@pytest.mark.timeout(180)
async def test_primary_kill_9_under_load(
    kafka_topics: Settings,
    db: Settings,
    sentinel_set: SentinelSet,
    workers: list[WorkerProcess],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Redis' primary killed -9 under load: Sentinel promotes the replica, nothing is lost or
    counted twice, every client gets a fresh snapshot and ends on the exact state."""
    settings = sentinel_set.settings_for(kafka_topics)
    assert settings.redis_sentinels is not None
    monkeypatch.setenv("PARIS_LIVE_REDIS_SENTINELS", settings.redis_sentinels)
    load = Load(settings, 3_000)
    workers.append(WorkerProcess(settings, tmp_path))
    api = InProcessServer(create_app(fast_hub(settings)), settings)
    await api.start()
    clients = [RoutedClient([api.ws], [load.ids[i % 10], load.ids[-1]]) for i in range(40)]
    for client in clients:
        client.start()
    redis = redis_client(settings, socket_timeout=2.0, socket_connect_timeout=1.0)
    producing: asyncio.Task[None] | None = None
    try:
        await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in clients)), 30)
        # Warm-up: the worker consumes and publishes before the fault.
        await load.produce(300, load.records[:300])
        await wait_until(lambda: _at_least(load, 300), within=90, what="300 events stored")
        # Killed mid-production: 1,800 of the 3,000 events are sent after the kill, so live
        # updates must flow through the new primary for the state to end exact.
        producing = asyncio.create_task(load.produce(300, load.records[300:]))
        await wait_until(lambda: load.acknowledged >= 1_200, within=60, what="1,200 events sent")
        snapshots = [c.snapshots for c in clients]
        seq_before = await load.seq_total(redis)
        old_primary = sentinel_set.primary_port()

        killed = sentinel_set.kill_primary()
        killed_at = time.monotonic()
        acknowledged_at_kill = load.acknowledged

        async def promoted() -> bool:
            port = await asyncio.to_thread(sentinel_set.primary_port)
            return port is not None and port != old_primary

        await wait_until(promoted, within=30, every=0.1, what="Sentinel to promote the replica")
        promoted_s = seconds_since(killed_at)

        def resnapshotted() -> bool:
            return all(c.snapshots > b for c, b in zip(clients, snapshots, strict=True))

        async def written_again() -> bool:
            with contextlib.suppress(Exception):
                return await load.seq_total(redis) > seq_before
            return False

        await wait_until(resnapshotted, within=90, every=0.1, what="a fresh snapshot per client")
        try:
            await wait_until(written_again, within=90, every=0.1, what="the worker writing")
        except AssertionError:
            seq_now = await load.seq_total(redis)
            raise AssertionError(
                f"the worker wrote nothing on the new primary: {await load.stored()} events in "
                f"history, {load.acknowledged} sent, seq total {seq_now} (before: {seq_before})"
            ) from None
        recovery_s = seconds_since(killed_at)

        await producing
        await load.settle(redis, clients, within=90)
        in_history, stale = await load.assert_invariants(redis, clients)
        duplicates = await double_counted(settings)

        # The old primary, started again, is turned into a replica of the new one by Sentinel.
        await asyncio.to_thread(killed.start)
        await asyncio.to_thread(sentinel_set.wait_healthy)
        assert await asyncio.to_thread(sentinel_set.role, killed) == "slave"
        # `paris-live services status` says who is primary now, as each node and Sentinel sees it
        primary = await asyncio.to_thread(sentinel_set.primary_port)
        roles = {n.port: n.state().detail for n in sentinel_set.nodes}
        assert roles[killed.port] == f"replica of 127.0.0.1:{primary}, link up", roles
        assert roles[primary] == "primary, 1 replica(s) connected", roles
        sentinels = [roles[p] for p in sentinel_set.ports.sentinels]
        assert sentinels == [f"sentinel: primary is 127.0.0.1:{primary}"] * 3, roles
    finally:
        if producing is not None:
            producing.cancel()
        await stop_all(clients)
        await api.stop()
        await redis.aclose()
    live = await _live_after(load, settings)
    republished = "redis_primary_changed_republishing" in workers[0].log_path.read_text(
        errors="replace"
    )
    report(
        "redis primary kill -9 under load",
        {
            "produced": len(load.records),
            "acknowledged": load.acknowledged,
            "acknowledged_at_kill": acknowledged_at_kill,
            "in_history": in_history,
            "lost": load.acknowledged - in_history,
            "double_counted": duplicates,
            "facilities_exact": sum(live.get(f) == n for f, n in load.expected.items()),
            "facilities": len(load.expected),
            "clients": len(clients),
            "clients_stale": stale,
            "clients_resnapshotted": sum(
                c.snapshots > b for c, b in zip(clients, snapshots, strict=True)
            ),
            "sentinel_promoted_s": promoted_s,
            "recovery_s": recovery_s,
            "recovery_means": "SIGKILL of the primary → the worker writes on the promoted "
            "replica and every client has had a fresh snapshot (Sentinel's down-after 1 s and "
            "election counted)",
            "worker_republished_after_failover": republished,
            "old_primary_back_as_replica": True,
        },
    )
    assert duplicates == 0


async def _at_least(load: Load, n: int) -> bool:
    return await load.stored() >= n


async def _live_after(load: Load, settings: Settings) -> dict[str, int | None]:
    redis = redis_client(settings)
    try:
        return {fid: occ for fid, (_, occ) in (await load.live(redis)).items()}
    finally:
        await redis.aclose()
