"""Create the contract's Kafka topics: co-partitioned inputs, compacted ``facility-status``."""

from __future__ import annotations

import asyncio
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from paris_live.services import ports
from paris_live.settings import Settings
from schemas import topics as contract

LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


def local_ports_listening(bootstrap: str) -> bool:
    """False while a bootstrap server on this host does not listen yet (read from the kernel)."""
    for server in bootstrap.split(","):
        host, _, port = server.strip().rpartition(":")
        if host in LOCAL_HOSTS and port.isdigit() and not ports.port_listening(int(port)):
            return False
    return True


async def started_admin(bootstrap: str, wait_s: float = 60.0) -> AIOKafkaAdminClient:
    """An admin client connected to the cluster, waiting up to ``wait_s`` for a starting broker.

    A local broker port is not dialled before it listens: aiokafka's bootstrap would otherwise
    retry "Unable connect to" against an ephemeral-range port that can connect to itself.
    """
    deadline = time.monotonic() + wait_s
    while True:
        if local_ports_listening(bootstrap):
            admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=15000)
            try:
                await admin.start()
                return admin
            except KafkaConnectionError:
                await admin.close()
                if time.monotonic() >= deadline:
                    raise
        elif time.monotonic() >= deadline:
            raise KafkaConnectionError(f"no broker listens on {bootstrap} after {wait_s:.0f} s")
        await asyncio.sleep(0.5)


async def ensure_topics(settings: Settings, replication: int | None = None) -> list[str]:
    """Create every missing contract topic (prefixed by ``settings.topic``); returns those created.

    ``replication`` defaults to ``min(3, brokers)``; at 3 replicas a topic also gets
    ``min.insync.replicas=2`` (an ``acks=all`` write is then on two brokers at least).
    """
    admin = await started_admin(settings.kafka)
    try:
        if replication is None:
            replication = min(3, len((await admin.describe_cluster())["brokers"]))
        existing = set(await admin.list_topics())
        wanted: list[NewTopic] = []
        for base, topic in contract.TOPICS.items():
            name = settings.topic(base)
            if name in existing:
                continue
            config: dict[str, str] = {"cleanup.policy": topic.cleanup_policy}
            if topic.retention_ms is not None:
                config["retention.ms"] = str(topic.retention_ms)
            if topic.cleanup_policy == "compact":
                config["min.cleanable.dirty.ratio"] = "0.1"
                config["segment.ms"] = "600000"
            if replication >= 3:
                config["min.insync.replicas"] = "2"
            wanted.append(NewTopic(name, settings.partitions, replication, topic_configs=config))
        created: list[str] = []
        for new in wanted:
            try:
                await admin.create_topics([new])
                created.append(new.name)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        await admin.close()


async def delete_topics(settings: Settings, names: list[str]) -> None:
    admin = await started_admin(settings.kafka)
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
