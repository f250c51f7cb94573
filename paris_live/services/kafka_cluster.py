"""A replicated Apache Kafka: N KRaft nodes (broker and controller each) on 127.0.0.1.

``paris-live services start --kafka-brokers 3`` runs it beside (never instead of) the single
broker: its own ports (:data:`CLUSTER_BROKER_BASE` + node id, :data:`CLUSTER_CONTROLLER_BASE` +
node id) and its own folder (``<state dir>/kafka-cluster/kafka-<id>/``), from the same Maven
Central jars as :class:`~paris_live.services.kafka.KafkaService`.

Durability settings (brokers' defaults, so every topic and the internal ones get them):

* replication factor ``min(3, brokers)`` and ``min.insync.replicas = 2`` (1 below three brokers):
  a record acknowledged with ``acks=all`` is on two brokers at least, and the cluster keeps taking
  writes with one broker down;
* no unclean leader election: a replica that missed records never becomes leader;
* a broker that stops heart-beating is fenced after 6 s (Kafka's default 9 s), so the leaders of
  a killed broker move within seconds.

Every node runs a controller too, so a quorum of ``brokers // 2 + 1`` controllers survives the
loss of any one node (the active controller included).
"""

from __future__ import annotations

import asyncio
import base64
import shutil
import subprocess
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from paris_live.services.base import ServiceError, ServiceStartFailed, ServiceState
from paris_live.services.kafka import KafkaService, kafka_ready

CLUSTER_BROKER_BASE = 18800
"""Node ``i`` answers clients on ``CLUSTER_BROKER_BASE + i`` (18801, 18802, 18803)."""
CLUSTER_CONTROLLER_BASE = 18810
"""Node ``i`` talks to the other controllers on ``CLUSTER_CONTROLLER_BASE + i`` (18811...)."""
CLUSTER_DIR = "kafka-cluster"
MAX_BROKERS = 9
HEAP = "-Xmx512m"


def replication_for(brokers: int) -> tuple[int, int]:
    """(replication factor, min.insync.replicas) for a cluster of ``brokers``."""
    replication = min(3, brokers)
    return replication, 2 if replication >= 3 else 1


def check_size(brokers: int) -> None:
    """A KRaft quorum of N voters survives (N - 1) // 2 losses: 1, or an odd 3..9."""
    if brokers != 1 and not (3 <= brokers <= MAX_BROKERS and brokers % 2 == 1):
        raise ServiceError(
            f"kafka: {brokers} brokers is not a useful cluster: use 1, or an odd number from 3 "
            f"to {MAX_BROKERS} (each is a controller too, and a quorum needs a majority)"
        )


class KafkaNode(KafkaService):
    """One node of the cluster: a broker and a controller in one process."""

    def __init__(
        self,
        cluster_dir: Path,
        node_id: int,
        voters: dict[int, int],
        broker_port: int,
        partitions: int,
    ) -> None:
        self.name = f"kafka-{node_id}"
        super().__init__(cluster_dir, broker_port, voters[node_id], partitions)
        self.node_id = node_id
        self.voters = voters
        self.cluster_dir = cluster_dir

    def _properties(self) -> str:
        replication, min_isr = replication_for(len(self.voters))
        voters = ",".join(f"{i}@127.0.0.1:{port}" for i, port in sorted(self.voters.items()))
        return "\n".join(
            [
                "process.roles=broker,controller",
                f"node.id={self.node_id}",
                f"controller.quorum.voters={voters}",
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "controller.listener.names=CONTROLLER",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                f"log.dirs={self.root / 'data'}",
                f"num.partitions={self.partitions}",
                f"default.replication.factor={replication}",
                f"min.insync.replicas={min_isr}",
                "unclean.leader.election.enable=false",
                "auto.create.topics.enable=false",
                f"offsets.topic.replication.factor={replication}",
                "offsets.topic.num.partitions=8",
                f"transaction.state.log.replication.factor={replication}",
                f"transaction.state.log.min.isr={min_isr}",
                "transaction.state.log.num.partitions=4",
                f"share.coordinator.state.topic.replication.factor={replication}",
                f"share.coordinator.state.topic.min.isr={min_isr}",
                "group.initial.rebalance.delay.ms=0",
                "broker.heartbeat.interval.ms=1000",
                "broker.session.timeout.ms=6000",
                "log.retention.hours=168",
                "log.segment.bytes=104857600",
                "",
            ]
        )

    def prepare(self) -> None:
        """The shared classpath, this node's properties and its storage, formatted once with the
        cluster's id (every node of one cluster must carry the same)."""
        java = self.java()
        for name in ("classpath.txt", "classpath.sha"):
            shutil.copyfile(self.cluster_dir / name, self.root / name)
        props = self.root / "server.properties"
        props.write_text(self._properties())
        shutil.copyfile(self.cluster_dir / "log4j2.yaml", self.root / "log4j2.yaml")
        if (self.root / "data" / "meta.properties").exists():
            return
        result = subprocess.run(
            [
                java,
                HEAP,
                "-cp",
                self.classpath_file.read_text().strip(),
                "kafka.tools.StorageTool",
                "format",
                f"--cluster-id={cluster_id(self.cluster_dir)}",
                f"--config={props}",
                "--ignore-formatted",
            ],
            capture_output=True,
            text=True,
            cwd=self.root,
        )
        if result.returncode != 0:
            raise ServiceStartFailed(
                f"{self.name}: formatting the storage failed:\n"
                f"{(result.stdout + result.stderr)[-1500:]}"
            )

    def command(self) -> Sequence[str]:
        return [HEAP if arg.startswith("-Xmx") else arg for arg in super().command()]

    def _wait_time_wait_clear(self, *, after_bind_failure: bool) -> None:
        """Only after a real bind failure: Java binds its server sockets with ``SO_REUSEADDR``, and
        the cluster's ports lie below Linux's ephemeral range (no client can be handed one), so
        the TIME-WAIT sockets a killed node leaves on its ports do not stop it restarting — a
        restart after ``kill -9`` need not wait out their 60 s."""
        if after_bind_failure:
            super()._wait_time_wait_clear(after_bind_failure=True)

    def start_timeout(self) -> float:
        # A node answers once a majority of controllers elected a leader: the others start with it.
        return 150.0


def cluster_id(cluster_dir: Path) -> str:
    """The cluster's id, drawn once and kept in its folder."""
    path = cluster_dir / "cluster.id"
    if not path.exists():
        path.write_text(base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("="))
    return path.read_text().strip()


@dataclass(frozen=True)
class PartitionLeader:
    """Who leads one partition, and which replicas are in sync."""

    topic: str
    partition: int
    leader: int
    replicas: tuple[int, ...]
    isr: tuple[int, ...]


class KafkaCluster:
    """N Kafka nodes started together (a node is ready only once a quorum of them runs)."""

    name = "kafka-cluster"

    def __init__(
        self,
        state_dir: Path,
        brokers: int,
        partitions: int,
        *,
        broker_base: int = CLUSTER_BROKER_BASE,
        controller_base: int = CLUSTER_CONTROLLER_BASE,
    ) -> None:
        check_size(brokers)
        self.root = (state_dir / CLUSTER_DIR).resolve()
        voters = {i: controller_base + i for i in range(1, brokers + 1)}
        self.nodes = [
            KafkaNode(self.root, i, voters, broker_base + i, partitions)
            for i in range(1, brokers + 1)
        ]

    @property
    def bootstrap(self) -> str:
        """Every node's client address: clients reach the cluster while any one is up."""
        return ",".join(node.address for node in self.nodes)

    @property
    def address(self) -> str:
        return self.bootstrap

    def node(self, node_id: int) -> KafkaNode:
        return self.nodes[node_id - 1]

    def _fetch_jars(self) -> None:
        """Resolve the jars once (into the cluster folder) for every node."""
        self.root.mkdir(parents=True, exist_ok=True)
        fetcher = KafkaService(self.root.parent, 0, 0, 1)
        fetcher.root = self.root
        fetcher.fetch_jars()
        log_config = resources.files("paris_live.services") / "kafka" / "log4j2.yaml"
        (self.root / "log4j2.yaml").write_bytes(log_config.read_bytes())
        (self.root / "brokers").write_text(str(len(self.nodes)))

    def start(self) -> bool:
        """Start every node not running, together; True when this call started one.

        On failure the nodes this call started are stopped again and the error names them.
        """
        if all(node.is_running() for node in self.nodes) and all(
            node._wait_ready(node.start_timeout()) for node in self.nodes
        ):
            return False
        self._fetch_jars()
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            futures = [pool.submit(node.start) for node in self.nodes]
            errors: list[BaseException] = []
            started = []
            for node, future in zip(self.nodes, futures, strict=True):
                try:
                    if future.result():
                        started.append(node)
                except ServiceError as exc:
                    errors.append(exc)
        if errors:
            for node in started:
                node.stop()
            raise ServiceStartFailed("; ".join(str(e) for e in errors))
        return bool(started)

    def stop(self, timeout: float = 30.0) -> bool:
        """Stop every node (in parallel: a node waits for the quorum to stop cleanly)."""
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            stopped = list(pool.map(lambda node: node.stop(timeout), self.nodes))
        return any(stopped)

    def is_running(self) -> bool:
        return any(node.is_running() for node in self.nodes)

    def state(self) -> ServiceState:
        """The cluster as one line: ready when every node is."""
        states = self.node_states()
        return ServiceState(
            name=self.name,
            running=any(s.running for s in states),
            ready=all(s.ready for s in states),
            pid=None,
            address=self.bootstrap,
            log_file=self.root,
            detail=f"{sum(s.ready for s in states)}/{len(states)} brokers ready",
        )

    def node_states(self) -> list[ServiceState]:
        return [node.state() for node in self.nodes]

    def leaders(self, topics: Sequence[str] | None = None) -> list[PartitionLeader]:
        """The leader and in-sync replicas of every partition (of ``topics``, else of all the
        non-internal topics), asked of any node that answers; empty when none does."""
        live = [n.address for n in self.nodes if n.is_running()]
        if not live or not any(kafka_ready(address) for address in live):
            return []
        return asyncio.run(describe_leaders(",".join(live), topics))


async def describe_leaders(
    bootstrap: str, topics: Sequence[str] | None = None, attempts: int = 3
) -> list[PartitionLeader]:
    """Partition leaders and ISRs as the cluster's metadata gives them.

    The admin client asks a node it picks from the metadata; one that has just died (and is not
    fenced yet) fails the request, so it is asked again, ``attempts`` times in all.
    """
    from aiokafka.errors import KafkaError

    for attempt in range(1, attempts + 1):
        try:
            return await _describe_leaders(bootstrap, topics)
        except KafkaError:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.5)
    raise AssertionError("unreachable")  # pragma: no cover


async def _describe_leaders(bootstrap: str, topics: Sequence[str] | None) -> list[PartitionLeader]:
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        names = list(topics) if topics is not None else sorted(await admin.list_topics())
        names = [n for n in names if not n.startswith("__")]
        if not names:
            return []
        found = []
        for topic in await admin.describe_topics(names):
            for p in topic["partitions"]:
                found.append(
                    PartitionLeader(
                        topic["topic"],
                        int(p["partition"]),
                        int(p["leader"]),
                        tuple(int(r) for r in p["replicas"]),
                        tuple(int(r) for r in p["isr"]),
                    )
                )
        return sorted(found, key=lambda p: (p.topic, p.partition))
    finally:
        await admin.close()


def running_cluster_size(state_dir: Path) -> int | None:
    """How many brokers the cluster under ``state_dir`` has, when one of its nodes runs."""
    root = (state_dir / CLUSTER_DIR).resolve()
    try:
        brokers = int((root / "brokers").read_text().strip())
    except (OSError, ValueError):
        return None
    cluster = KafkaCluster(state_dir, brokers, 1)
    return brokers if cluster.is_running() else None
