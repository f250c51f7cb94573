"""Create the contract's Kafka topics: co-partitioned inputs, compacted ``facility-status``."""

from __future__ import annotations

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from paris_live.settings import Settings
from schemas import topics as contract


async def ensure_topics(settings: Settings, replication: int = 1) -> list[str]:
    """Create every missing contract topic (prefixed by ``settings.topic``); returns those created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka, request_timeout_ms=15000)
    await admin.start()
    try:
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
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka, request_timeout_ms=15000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        doomed = [n for n in names if n in existing]
        if doomed:
            await admin.delete_topics(doomed)
    finally:
        await admin.close()
