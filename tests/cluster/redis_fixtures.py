"""The Redis failover set of the cluster tests (issue 19) and what the tests do to it.

``sentinel_set`` (session): a Redis primary, a replica and three Sentinels of the tests' own, in a
temporary folder, on ports 18940–18948 (the range of this work: the shared services are never
touched), Sentinel's timing set as in production (``down-after-milliseconds`` 1000, failover
timeout 3000). Kafka and PostgreSQL are the shared ones, with the usual per-test prefixes.

A plugin of ``tests/conftest.py`` (one session-wide set for every module that asks for it). Also
here: API processes on ports of this range, and a live client that reconnects to the next
API process when its connection closes (as a load balancer routes it) and says where it is.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import redis

from paris_live.services.base import LocalService
from paris_live.services.redis_sentinel import (
    MASTER_NAME,
    SentinelPorts,
    failover_ready,
    sentinel_services,
)
from paris_live.settings import Settings
from tests.api.api_testkit import server_env, wait_ready
from tests.faults.faultkit import LiveClient
from tests.streams.streams_testkit import pg_count
from tests.testkit import merge_report, wait_for

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "test-artifacts" / "cluster" / "redis_faults.json"

PORTS = SentinelPorts(primary=18940, replica=18941, sentinels=(18946, 18947, 18948))
API_PORTS = (18980, 18981)


def report(fault: str, row: dict[str, Any]) -> None:
    """Print one fault's figures and merge them into ``test-artifacts/cluster/redis_faults.json``."""
    merge_report(REPORT, fault, row)


@dataclass
class SentinelSet:
    """The running failover set: its servers, and the primary as the Sentinels see it."""

    nodes: list[LocalService]
    ports: SentinelPorts

    @property
    def servers(self) -> list[LocalService]:
        return [n for n in self.nodes if n.port not in self.ports.sentinels]

    def settings_for(self, settings: Settings) -> Settings:
        """These test settings with every Redis client going through the Sentinels."""
        return settings.model_copy(
            update={
                "redis_url": f"redis://127.0.0.1:{self.ports.primary}/0",
                "redis_sentinels": self.ports.sentinel_addresses,
            }
        )

    def primary_port(self) -> int | None:
        """The primary's port according to the first Sentinel that answers."""
        for port in self.ports.sentinels:
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
            try:
                address: Any = client.sentinel_get_master_addr_by_name(MASTER_NAME)
                if address:
                    return int(address[1])
            except redis.RedisError:
                continue
            finally:
                client.close()
        return None

    def node_on(self, port: int) -> LocalService:
        return next(n for n in self.servers if n.port == port)

    def kill_primary(self) -> LocalService:
        """SIGKILL the primary: no shutdown, no last write to disk, no goodbye to replicas."""
        port = self.primary_port()
        assert port is not None, "no Sentinel knows the primary"
        node = self.node_on(port)
        pid = node.pid()
        assert pid is not None, f"{node.name} is not running"
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: node.pid() is None, within=10, what=f"{node.name} to die")
        return node

    def role(self, node: LocalService) -> str:
        client = redis.Redis(host="127.0.0.1", port=node.port, socket_timeout=1)
        try:
            info: Any = client.info("replication")
            return str(info["role"])
        finally:
            client.close()

    def wait_healthy(self, within: float = 60.0) -> None:
        """Until every Sentinel sees the primary, the other Sentinels and a replica in sync."""
        wait_for(lambda: failover_ready(self.ports), within=within, every=0.2, what="failover set")


@pytest.fixture(scope="session")
def sentinel_set(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelSet]:
    """A primary, a replica and three Sentinels of the tests' own, ready to fail over."""
    nodes = sentinel_services(tmp_path_factory.mktemp("redis-sentinel"), PORTS)
    started: list[LocalService] = []
    try:
        for node in nodes:
            node.start()
            started.append(node)
        found = SentinelSet(nodes, PORTS)
        found.wait_healthy()
        yield found
    finally:
        for node in reversed(nodes):
            node.stop(timeout=10)


class ApiProcess:
    """``python -m api.cli serve`` on a port of this work's range; killable with SIGKILL."""

    def __init__(self, settings: Settings, port: int, log_dir: Path, **env: str) -> None:
        self.port = port
        self.log_path = log_dir / f"api-{port}.log"
        self._log = self.log_path.open("wb")
        extra = {"PARIS_LIVE_TOPIC_PREFIX": settings.topic_prefix, **env}
        if settings.redis_sentinels:
            extra["PARIS_LIVE_REDIS_SENTINELS"] = settings.redis_sentinels
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env=server_env(settings, **extra),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}/v1/live"

    async def ready(self) -> None:
        await wait_ready(self.http, within=60)

    def kill(self) -> None:
        """SIGKILL the process: every socket it held is reset, nothing is closed politely."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log.close()

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


class RoutedClient(LiveClient):
    """A ``/v1/live`` client as a browser behind a load balancer: it keeps the highest ``seq`` per
    facility, and when its connection closes it goes to the next API process of its list and
    resumes with ``since`` (as ``LiveClient`` of ``dashboards/embed/card.js`` does against the one
    address a load balancer answers on)."""

    open_timeout = 10.0


async def stop_all(clients: Sequence[RoutedClient]) -> None:
    await asyncio.gather(*(c.stop() for c in clients))


async def double_counted(settings: Settings) -> int:
    """Events stored more than once in the history (each one would count twice)."""
    return await pg_count(
        settings,
        "SELECT count(*) FROM (SELECT event_id FROM events GROUP BY event_id "
        "HAVING count(*) > 1) d",
    )


def seconds_since(mark: float) -> float:
    return round(time.monotonic() - mark, 2)
