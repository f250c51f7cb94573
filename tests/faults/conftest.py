"""Fixtures of the fault suite: an isolated environment (topics, schema, Redis prefix) on the shared
services, and worker processes that are always stopped (their log printed when a test fails)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from tests.streams.streams_testkit import WorkerProcess


@pytest.fixture
async def fault_env(
    kafka_topics: Settings, db: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[Settings]:
    """This test's settings with its topics created and its schema migrated."""
    yield kafka_topics


@pytest.fixture
def workers(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[WorkerProcess]]:
    """Worker processes a test starts (append to the list); stopped at the end."""
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
