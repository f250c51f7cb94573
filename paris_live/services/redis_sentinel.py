"""Redis with failover: a primary, a replica and three Sentinels from Debian's ``redis-server``.

``paris-live services start --redis-sentinel`` starts them beside the other services, on
127.0.0.1 (see :data:`LOCAL_PORTS`); point the platform at them with::

    PARIS_LIVE_REDIS_SENTINELS=127.0.0.1:18926,127.0.0.1:18927,127.0.0.1:18928

Each server gets a config file of its own under ``STATE_DIR/redis-sentinel/<name>/``, written
once: Sentinel rewrites the files as it reconfigures the servers (after a failover the old primary
is started again as a replica of the new one, as Sentinel left it). ``redis-server --sentinel``
is the Sentinel (Debian's ``redis-sentinel`` is a link to the same binary).

Quorum 2 of 3, ``down-after-milliseconds`` 1000 and ``failover-timeout`` 3000 by default: a dead
primary is replaced within a few seconds, Sentinel's own timing included.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from paris_live.services.base import LocalService, ServiceMissing, ServiceState, apt_install

__all__ = [
    "LOCAL_PORTS",
    "MASTER_NAME",
    "RedisNode",
    "SentinelNode",
    "SentinelPorts",
    "SentinelTimings",
    "failover_ready",
    "sentinel_services",
]

MASTER_NAME = "paris-live"


@dataclass(frozen=True)
class SentinelPorts:
    """The ports of one failover set: two Redis servers and three Sentinels."""

    primary: int
    replica: int
    sentinels: tuple[int, int, int]

    @property
    def sentinel_addresses(self) -> str:
        """The value of ``PARIS_LIVE_REDIS_SENTINELS`` for this set."""
        return ",".join(f"127.0.0.1:{p}" for p in self.sentinels)


@dataclass(frozen=True)
class SentinelTimings:
    """How quickly Sentinel declares a primary dead and how long a failover may take (ms)."""

    down_after_ms: int = 1000
    failover_timeout_ms: int = 3000


LOCAL_PORTS = SentinelPorts(primary=18920, replica=18921, sentinels=(18926, 18927, 18928))


def redis_binary() -> str:
    path = shutil.which("redis-server") or "/usr/bin/redis-server"
    if not os.path.exists(path):
        apt_install("redis-server")
    if not os.path.exists(path):
        raise ServiceMissing("redis: `redis-server` is missing: `apt-get install redis-server`")
    return path


def _ping(port: int) -> bool:
    import redis

    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except redis.RedisError:
        return False


def role_of(port: int) -> str:
    """What ``services status`` says of a Redis server or a Sentinel on ``port``: the server's
    replication role (a primary and its replicas, or the primary it copies and its link), or the
    primary a Sentinel currently names; "" when it does not answer."""
    import redis

    try:
        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1, decode_responses=True)
        try:
            info: Any = client.info("server")
            if info.get("redis_mode") == "sentinel":
                named: Any = client.sentinel_get_master_addr_by_name(MASTER_NAME)
                return f"sentinel: primary is {named[0]}:{named[1]}" if named else "sentinel"
            repl: Any = client.info("replication")
        finally:
            client.close()
    except redis.RedisError:
        return ""
    if repl.get("role") == "master":
        return f"primary, {int(repl.get('connected_slaves', 0))} replica(s) connected"
    link = repl.get("master_link_status", "?")
    return f"replica of {repl.get('master_host')}:{repl.get('master_port')}, link {link}"


class _ConfiguredNode(LocalService):
    """A ``redis-server`` run from a config file it may rewrite (Sentinel reconfigures it)."""

    def __init__(self, root: Path, name: str, port: int) -> None:
        self.name = name
        super().__init__(root, port)

    @property
    def config_file(self) -> Path:
        return self.root / f"{self.name}.conf"

    def initial_config(self) -> list[str]:
        raise NotImplementedError

    def prepare(self) -> None:
        redis_binary()
        (self.root / "data").mkdir(parents=True, exist_ok=True)
        if not self.config_file.exists():  # once: afterwards it is Sentinel's to rewrite
            self.config_file.write_text("\n".join(self.initial_config()) + "\n", encoding="utf-8")

    def ready(self) -> bool:
        return _ping(self.port)

    def state(self) -> ServiceState:
        state = super().state()
        return replace(state, detail=role_of(self.port)) if state.ready else state


class RedisNode(_ConfiguredNode):
    """The primary (``replica_of`` None) or a replica, persisted with an append-only file."""

    def __init__(self, root: Path, name: str, port: int, replica_of: int | None = None) -> None:
        super().__init__(root, name, port)
        self.replica_of = replica_of

    def initial_config(self) -> list[str]:
        lines = [
            "bind 127.0.0.1",
            f"port {self.port}",
            f'dir "{self.root / "data"}"',
            "appendonly yes",
            "appendfsync everysec",
            'save ""',
            "daemonize no",
            "protected-mode yes",
            "maxclients 20000",
        ]
        if self.replica_of is not None:
            lines.append(f"replicaof 127.0.0.1 {self.replica_of}")
        return lines

    def command(self) -> Sequence[str]:
        return [redis_binary(), str(self.config_file)]


class SentinelNode(_ConfiguredNode):
    """One Sentinel watching the primary named :data:`MASTER_NAME`."""

    def __init__(
        self, root: Path, name: str, port: int, primary: int, timings: SentinelTimings
    ) -> None:
        super().__init__(root, name, port)
        self.primary = primary
        self.timings = timings

    def initial_config(self) -> list[str]:
        t = self.timings
        return [
            "bind 127.0.0.1",
            f"port {self.port}",
            f'dir "{self.root}"',
            "daemonize no",
            "protected-mode no",
            f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.primary} 2",
            f"sentinel down-after-milliseconds {MASTER_NAME} {t.down_after_ms}",
            f"sentinel failover-timeout {MASTER_NAME} {t.failover_timeout_ms}",
            f"sentinel parallel-syncs {MASTER_NAME} 1",
        ]

    def command(self) -> Sequence[str]:
        return [redis_binary(), str(self.config_file), "--sentinel"]


def failover_ready(ports: SentinelPorts = LOCAL_PORTS) -> bool:
    """True when every Sentinel sees a primary, the two other Sentinels and a replica in sync
    (what a failover needs: before that, killing the primary would leave no one to promote)."""
    import redis

    for port in ports.sentinels:
        try:
            client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
            try:
                state: Any = client.sentinel_master(MASTER_NAME)
                replicas: Any = client.sentinel_slaves(MASTER_NAME)
            finally:
                client.close()
        except redis.RedisError:
            return False
        if not state.get("is_master") or state.get("is_sdown") or state.get("is_odown"):
            return False
        if int(state.get("num-other-sentinels", 0)) < len(ports.sentinels) - 1:
            return False
        if not any(r.get("master-link-status") == "ok" and not r.get("is_sdown") for r in replicas):
            return False
    return True


def sentinel_services(
    state_dir: Path,
    ports: SentinelPorts = LOCAL_PORTS,
    timings: SentinelTimings | None = None,
) -> list[LocalService]:
    """Primary, replica, then the three Sentinels, in the order they must start."""
    root = state_dir / "redis-sentinel"
    timings = timings or SentinelTimings()
    nodes: list[LocalService] = [
        RedisNode(root, "redis-a", ports.primary),
        RedisNode(root, "redis-b", ports.replica, replica_of=ports.primary),
    ]
    for i, port in enumerate(ports.sentinels, start=1):
        nodes.append(SentinelNode(root, f"sentinel-{i}", port, ports.primary, timings))
    return nodes
