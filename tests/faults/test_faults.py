"""The whole platform under faults (issue 10): each fault is injected under load, on loopback, and
each test checks the invariant of :mod:`tests.faults.faultkit` — the final state equals the
reference computed from the produced events, no acknowledged event is missing from history, no
client is left stale — and reports lost events and recovery time to ``test-artifacts/faults.json``.

    .venv/bin/pytest tests/faults -m slow -s        # ≈ 5 minutes on 2 shared cores

The shared services are never restarted: the broker and Redis restarts use servers of the test's
own on free ports; PostgreSQL outages and added latency use TCP proxies.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path

import orjson
import pytest
import redis.asyncio as aioredis

from api.app import create_app
from paris_live.kafka_admin import ensure_topics
from paris_live.services.kafka import KafkaService
from paris_live.services.redis import RedisService
from paris_live.settings import Settings
from producers.errors import SpoolFull
from producers.publisher import Publisher, PublisherOptions
from schemas.codec import decode_event
from tests.api.api_testkit import InProcessServer, ProcessServer, fast_hub, wait_ready
from tests.faults.faultkit import (
    DelayProxy,
    FaultResult,
    LiveClient,
    Load,
    port_of,
    report,
    time_until,
)
from tests.streams.streams_testkit import WorkerProcess, free_port, wait_until
from tests.testkit import TcpProxy
from tests.testkit import TcpProxy as BrokerProxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]


async def _clients(urls: list[str], load: Load, n: int) -> list[LiveClient]:
    clients = [LiveClient(urls, [load.ids[i % len(load.ids)], load.ids[-1]]) for i in range(n)]
    for client in clients:
        client.start()
    await asyncio.wait_for(asyncio.gather(*(c.subscribed.wait() for c in clients)), 30)
    return clients


async def _api(settings: Settings) -> InProcessServer:
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    await server.start()
    return server


async def _stop(clients: list[LiveClient]) -> None:
    for client in clients:
        await client.stop()


@pytest.mark.timeout(240)
async def test_worker_kill_9_under_load(
    fault_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """A worker killed with SIGKILL under load and restarted loses no event: exact occupancy,
    every event once in history, every client ends on the server's view."""
    settings = fault_env
    load = Load(settings, 6_000)
    workers.append(WorkerProcess(settings, tmp_path))
    api = await _api(settings)
    clients = await _clients([api.ws], load, 10)
    producing = asyncio.create_task(load.produce(600))
    try:
        await wait_until(lambda: _at_least(load, 1_500), within=120, what="1,500 events stored")
        workers[0].kill()
        killed_at = time.monotonic()
        seq_at_kill = await load.seq_total(redis_client)
        await asyncio.sleep(1.0)
        workers.append(WorkerProcess(settings, tmp_path))
        await wait_until(
            lambda: _seq_above(load, redis_client, seq_at_kill), within=120, what="live again"
        )
        recovery = round(time.monotonic() - killed_at, 2)
        await producing
        await load.settle(redis_client, clients)
        in_history, stale = await load.assert_invariants(redis_client, clients)
    finally:
        producing.cancel()
        await _stop(clients)
        await api.stop()
    report(
        FaultResult(
            "worker kill -9 under load",
            len(load.records),
            load.acknowledged,
            in_history,
            load.acknowledged - in_history,
            recovery,
            "SIGKILL → live updates flowing again (includes 1 s before the restart)",
            len(clients),
            stale,
        )
    )


@pytest.mark.timeout(300)
async def test_broker_restart(
    settings: Settings,
    db: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """A Kafka broker (the test's own) stopped for 5 s under load: producers spool, the worker
    reconnects, nothing acknowledged is lost and the live state ends exact."""
    broker = KafkaService(tmp_path / "broker", free_port(), free_port(), settings.partitions)
    await asyncio.to_thread(broker.start)
    mine = settings.model_copy(update={"kafka_bootstrap": broker.address})
    redis = aioredis.from_url(mine.redis)
    publisher: Publisher | None = None
    try:
        await ensure_topics(mine)
        load = Load(mine, 4_000)
        workers.append(WorkerProcess(mine, tmp_path))
        options = PublisherOptions(
            name="faults",
            spool_path=tmp_path / "spool.sqlite3",
            connect_timeout_s=2.0,
            reconnect_backoff_s=(0.1, 1.0),
            delivery_timeout_s=3.0,
        )
        events = [decode_event(value) for _, _, value in load.records]
        publisher = Publisher(mine, options)
        await publisher.start()
        spooled = 0

        async def produce() -> None:
            nonlocal spooled
            assert publisher is not None
            for start in range(0, len(events), 40):
                result = await publisher.publish_many(events[start : start + 40])
                load.acknowledged += result.sent + result.spooled
                spooled += result.spooled
                await asyncio.sleep(0.1)

        producing = asyncio.create_task(produce())
        await wait_until(lambda: _at_least(load, 800), within=120, what="800 events stored")
        await asyncio.to_thread(broker.stop)
        await asyncio.sleep(5.0)
        await asyncio.to_thread(broker.start)
        back_at = time.monotonic()
        seq_back = await load.seq_total(redis)
        await wait_until(lambda: _seq_above(load, redis, seq_back), within=120, what="live again")
        recovery = round(time.monotonic() - back_at, 2)
        await producing
        assert await publisher.wait_drained(60), "the spool did not drain after the restart"
        await load.settle(redis, within=150)
        in_history, _ = await load.assert_invariants(redis)
    finally:
        if publisher is not None:
            await publisher.close()
        for worker in workers:
            worker.stop()
        await redis.aclose()
        await asyncio.to_thread(broker.stop)
    report(
        FaultResult(
            "broker restart",
            len(load.records),
            load.acknowledged,
            in_history,
            load.acknowledged - in_history,
            recovery,
            "broker answering again → live updates flowing again",
            extra={"outage_s": 5.0, "spooled_by_producer": spooled},
        )
    )


@pytest.mark.timeout(240)
async def test_redis_restart(
    settings: Settings, db: Settings, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """A Redis (the test's own) restarted under load: the hub resubscribes, clients get a fresh
    snapshot, the worker republishes; the final state is exact and no client is stale."""
    from paris_live.kafka_admin import delete_topics

    created = await ensure_topics(settings)
    server = RedisService(tmp_path / "redis", free_port())
    await asyncio.to_thread(server.start)
    mine = settings.model_copy(update={"redis_url": f"redis://{server.address}/0"})
    load = Load(mine, 4_000)
    workers.append(WorkerProcess(mine, tmp_path))
    api = await _api(mine)
    clients = await _clients([api.ws], load, 10)
    producing = asyncio.create_task(load.produce(400))
    try:
        await wait_until(lambda: _at_least(load, 800), within=120, what="800 events stored")
        snapshots = [c.snapshots for c in clients]
        await asyncio.to_thread(server.stop)
        await asyncio.sleep(2.0)
        await asyncio.to_thread(server.start)
        back_at = time.monotonic()

        async def resumed() -> bool:
            return all(
                c.snapshots > before or c.last_frame_at > back_at
                for c, before in zip(clients, snapshots, strict=True)
            )

        recovery = await time_until(resumed, within=60)
        await producing
        redis = aioredis.from_url(mine.redis)
        unsettled: AssertionError | None = None
        try:
            try:
                await load.settle(redis, clients, within=60)
            except AssertionError as exc:
                unsettled = exc
            in_history = await load.stored()
            live = await load.live(redis)
            stale = sum(not c.view_matches(live) for c in clients)
            # the figures go to the report even when the invariant fails
            report(
                FaultResult(
                    "Redis restart",
                    len(load.records),
                    load.acknowledged,
                    in_history,
                    load.acknowledged - in_history,
                    recovery,
                    "Redis back → every client has a fresh snapshot or a new update",
                    len(clients),
                    stale,
                    extra={"outage_s": 2.0},
                )
            )
            if unsettled is not None:
                raise unsettled
            await load.assert_invariants(redis, clients)
        finally:
            await redis.aclose()
    finally:
        producing.cancel()
        await _stop(clients)
        await api.stop()
        for worker in workers:
            worker.stop()
        await asyncio.to_thread(server.stop)
        await delete_topics(settings, created)


@pytest.mark.timeout(300)
async def test_postgres_down_60s(
    fault_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """PostgreSQL unreachable for 60 s under load: live status keeps updating, and once it is back
    every event reaches the history exactly once."""
    settings = fault_env
    load = Load(settings, 14_000)
    port = port_of(settings.database)
    proxy = TcpProxy("127.0.0.1", port)
    await proxy.start()
    via_proxy = settings.database.replace(f":{port}/", f":{proxy.port}/")
    workers.append(WorkerProcess(settings, tmp_path, database_url=via_proxy))
    producing = asyncio.create_task(load.produce(200))
    try:
        await wait_until(lambda: _at_least(load, 600), within=120, what="600 events stored")
        await proxy.stop()
        seq_down = await load.seq_total(redis_client)
        await asyncio.sleep(60.0)
        live_during = await load.seq_total(redis_client) - seq_down
        produced_before_back = load.acknowledged
        await proxy.start()
        recovery = await time_until(
            lambda: _at_least(load, produced_before_back), within=180, every=0.5
        )
        assert live_during > 0, "live status stopped while PostgreSQL was down"
        await producing
        await load.settle(redis_client, within=180)
        in_history, _ = await load.assert_invariants(redis_client)
    finally:
        producing.cancel()
        await proxy.stop()
    report(
        FaultResult(
            "PostgreSQL down 60 s",
            len(load.records),
            load.acknowledged,
            in_history,
            load.acknowledged - in_history,
            recovery,
            "PostgreSQL back → every event produced until then is in history",
            extra={"outage_s": 60.0, "live_seq_advances_during_outage": live_during},
        )
    )


@pytest.mark.timeout(240)
async def test_api_process_killed_clients_resume(
    fault_env: Settings, redis_client: aioredis.Redis, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """An API process killed with SIGKILL while clients are connected: they reconnect to a second
    process, resume with ``since`` and end with exactly the server's view."""
    settings = fault_env
    load = Load(settings, 4_000)
    workers.append(WorkerProcess(settings, tmp_path))
    first, second = ProcessServer(settings), ProcessServer(settings)
    clients: list[LiveClient] = []
    producing: asyncio.Task[None] | None = None
    try:
        await wait_ready(first.http, within=60)
        await wait_ready(second.http, within=60)
        clients = await _clients([first.ws, second.ws], load, 30)
        producing = asyncio.create_task(load.produce(400))
        await wait_until(lambda: _at_least(load, 800), within=120, what="800 events stored")
        os.killpg(first.proc.pid, signal.SIGKILL)
        first.proc.wait(timeout=10)

        async def resumed() -> bool:
            return all(c.reconnects >= 1 and c.subscribed.is_set() for c in clients)

        recovery = await time_until(resumed, within=60)
        await producing
        await load.settle(redis_client, clients)
        in_history, stale = await load.assert_invariants(redis_client, clients)
    finally:
        if producing is not None:
            producing.cancel()
        await _stop(clients)
        first.stop()
        second.stop()
    report(
        FaultResult(
            "API process killed (clients connected)",
            len(load.records),
            load.acknowledged,
            in_history,
            load.acknowledged - in_history,
            recovery,
            "SIGKILL → every client resubscribed on the second process (snapshot since its seqs)",
            len(clients),
            stale,
        )
    )


@pytest.mark.timeout(240)
async def test_added_latency_between_components(
    fault_env: Settings, workers: list[WorkerProcess], tmp_path: Path
) -> None:
    """25 ms added each way between the worker/API and Redis and between the worker and PostgreSQL:
    slower, but nothing lost, exact state, no stale client."""
    settings = fault_env
    redis_proxy = DelayProxy("127.0.0.1", port_of(settings.redis), 0.025)
    pg_proxy = DelayProxy("127.0.0.1", port_of(settings.database), 0.025)
    await redis_proxy.start()
    await pg_proxy.start()
    pg_port = port_of(settings.database)
    slow = settings.model_copy(
        update={
            "redis_url": settings.redis.replace(
                f":{port_of(settings.redis)}/", f":{redis_proxy.port}/"
            ),
            "database_url": settings.database.replace(f":{pg_port}/", f":{pg_proxy.port}/"),
        }
    )
    load = Load(slow, 3_000)
    workers.append(WorkerProcess(slow, tmp_path))
    api = await _api(slow)
    clients = await _clients([api.ws], load, 10)
    redis = aioredis.from_url(settings.redis)
    try:
        await load.produce(300)
        ended = time.monotonic()
        await load.settle(redis, clients, within=120)
        catch_up = round(time.monotonic() - ended, 2)
        in_history, stale = await load.assert_invariants(redis, clients)
    finally:
        await _stop(clients)
        await api.stop()
        for worker in workers:
            worker.stop()
        await redis.aclose()
        await redis_proxy.stop()
        await pg_proxy.stop()
    report(
        FaultResult(
            "added latency (25 ms each way to Redis and PostgreSQL)",
            len(load.records),
            load.acknowledged,
            in_history,
            load.acknowledged - in_history,
            catch_up,
            "last event produced → history, live state and clients all caught up",
            len(clients),
            stale,
            extra={"added_rtt_ms": 50},
        )
    )


@pytest.mark.timeout(180)
async def test_spool_disk_full(
    fault_env: Settings,
    redis_client: aioredis.Redis,
    workers: list[WorkerProcess],
    tmp_path: Path,
) -> None:
    """Kafka away and the producer's spool at its size bound: publish raises SpoolFull (nothing
    silently dropped), and every event it acknowledged reaches Kafka, the live state and history."""
    settings = fault_env
    load = Load(settings, 400)
    host, port = settings.kafka.split(",")[0].rsplit(":", 1)
    proxy = BrokerProxy(host, int(port))  # stopped: Kafka is unreachable
    away = settings.model_copy(update={"kafka_bootstrap": proxy.address})
    events = [decode_event(value) for _, _, value in load.records]
    one = len(load.records[0][2]) + 200
    options = PublisherOptions(
        name="faults",
        spool_path=tmp_path / "spool.sqlite3",
        spool_max_bytes=one * 120,
        connect_timeout_s=1.0,
        reconnect_backoff_s=(0.1, 0.5),
        delivery_timeout_s=2.0,
    )
    accepted = 0
    try:
        async with Publisher(away, options) as publisher:
            with pytest.raises(SpoolFull):
                for event in events:
                    await publisher.publish(event)
                    accepted += 1
            assert 0 < accepted < len(events), "the spool bound was never reached"
            assert publisher.spooled == accepted
            load.acknowledged = accepted
            await proxy.start()
            back_at = time.monotonic()
            assert await publisher.wait_drained(60), "the spool did not drain"
            recovery = round(time.monotonic() - back_at, 2)
    finally:
        await proxy.stop()
    # the reference is the acknowledged prefix (the refused events were never accepted)
    load.records = load.records[:accepted]
    load.expected = dict.fromkeys(load.ids, 0)
    for _, key, value in load.records:
        assert key is not None
        step = 1 if orjson.loads(value)["data"]["direction"] == "in" else -1
        load.expected[key.decode()] += step
    workers.append(WorkerProcess(settings, tmp_path))
    await load.settle(redis_client, within=120)
    in_history, _ = await load.assert_invariants(redis_client)
    report(
        FaultResult(
            "producer spool disk full",
            len(events),
            accepted,
            in_history,
            accepted - in_history,
            recovery,
            "Kafka back → spool drained (the events refused with SpoolFull were never acknowledged)",
            extra={"refused_with_spool_full": len(events) - accepted},
        )
    )


async def _at_least(load: Load, n: int) -> bool:
    return await load.stored() >= n


async def _seq_above(load: Load, redis: aioredis.Redis, value: int) -> bool:
    with contextlib.suppress(Exception):
        return await load.seq_total(redis) > value
    return False
