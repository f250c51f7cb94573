"""Fixtures of the cluster suite: a real 3-broker Kafka (KRaft) for the session, on ports of its
own (18821–18823, controllers 18831–18833) in a temporary folder, torn down at the end; each test's
``settings`` point at it, with the usual per-test topic prefix, Redis prefix and schema on the
shared Redis and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from paris_live.services.kafka_cluster import KafkaCluster
from paris_live.settings import Settings
from tests.streams.streams_testkit import WorkerProcess

BROKER_BASE = 18820
CONTROLLER_BASE = 18830


@pytest.fixture(scope="session")
def kafka_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaCluster]:
    """Three Kafka nodes (broker + controller each), started together, stopped at the end."""
    cluster = KafkaCluster(
        tmp_path_factory.mktemp("cluster"),
        3,
        partitions=4,
        broker_base=BROKER_BASE,
        controller_base=CONTROLLER_BASE,
    )
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def settings(base_settings: Settings, kafka_cluster: KafkaCluster) -> Settings:
    """This test's settings on the cluster: its own topic prefix, Redis prefix and schema."""
    tag = uuid.uuid4().hex[:10]
    return base_settings.model_copy(
        update={
            "kafka_bootstrap": kafka_cluster.bootstrap,
            "partitions": 4,
            "topic_prefix": f"t{tag}.",
            "redis_prefix": f"t{tag}:",
            "db_schema": f"t_{tag}",
        }
    )


@pytest.fixture
def workers(
    kafka_cluster: KafkaCluster, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[list[WorkerProcess]]:
    """Worker processes a test starts (append to the list); stopped at the end, their logs and
    the brokers' last lines printed when a test failed. A broker a test killed is started again."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        if worker.alive():
            worker.stop()
        elif not worker._log.closed:
            worker._log.close()
    if request.session.testsfailed:
        for worker in started:
            print(f"--- {worker.log_path} ---\n{worker.tail(40)}")
        for node in kafka_cluster.nodes:
            print(f"--- {node.log_file} ---\n{node.tail(10)}")
    kafka_cluster.start()
