"""Start, stop and report the three local services together."""

from __future__ import annotations

from dataclasses import dataclass, field

from paris_live.services.base import LocalService, ServiceError, ServiceState
from paris_live.services.kafka import KafkaService
from paris_live.services.kafka_cluster import KafkaCluster
from paris_live.services.postgres import PostgresService
from paris_live.services.redis import RedisService
from paris_live.services.redis_sentinel import sentinel_services
from paris_live.settings import (
    LOCAL_KAFKA_CONTROLLER_PORT,
    LOCAL_KAFKA_PORT,
    LOCAL_POSTGRES_PORT,
    LOCAL_REDIS_PORT,
    Settings,
)


@dataclass
class ServiceManager:
    """The project-owned services this settings object would use (none when URLs are given).

    ``kafka_brokers`` > 1 manages a replicated Kafka on its own ports instead of the single broker
    (even when ``PARIS_LIVE_KAFKA_BOOTSTRAP`` names it); with ``redis_sentinel`` (or when they
    run) the Redis failover set as well.
    """

    settings: Settings
    kafka_brokers: int = 1
    redis_sentinel: bool = False
    services: list[LocalService | KafkaCluster] = field(init=False)

    def __post_init__(self) -> None:
        s = self.settings
        wanted: list[LocalService | KafkaCluster] = []
        if self.kafka_brokers > 1:
            wanted.append(KafkaCluster(s.state_dir, self.kafka_brokers, s.partitions))
        elif s.kafka_bootstrap is None:
            wanted.append(
                KafkaService(
                    s.state_dir, LOCAL_KAFKA_PORT, LOCAL_KAFKA_CONTROLLER_PORT, s.partitions
                )
            )
        if s.redis_url is None:
            wanted.append(RedisService(s.state_dir, LOCAL_REDIS_PORT))
        if s.database_url is None:
            wanted.append(PostgresService(s.state_dir, LOCAL_POSTGRES_PORT))
        failover = sentinel_services(s.state_dir)
        if self.redis_sentinel or any(node.is_running() for node in failover):
            wanted.extend(failover)
        self.services = wanted

    def start(self) -> list[str]:
        """Start every service not running; on any failure stop what this call started and raise."""
        started: list[LocalService | KafkaCluster] = []
        try:
            for service in self.services:
                if service.start():
                    started.append(service)
        except ServiceError:
            for service in reversed(started):
                service.stop()
            raise
        return [s.name for s in started]

    def stop(self) -> list[str]:
        return [s.name for s in reversed(self.services) if s.stop()]

    def status(self) -> list[ServiceState]:
        """One line per service; one per broker for a Kafka cluster."""
        return [
            state
            for s in self.services
            for state in (s.node_states() if isinstance(s, KafkaCluster) else [s.state()])
        ]
