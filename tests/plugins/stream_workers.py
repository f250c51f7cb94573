"""Fixtures for tests that run stream worker processes (tests/streams, tests/hostile, ...):
an isolated environment (topics, schema, Redis prefix) and worker subprocesses that are always
stopped, with their log printed when the test fails. Declared once, in ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from paris_live.settings import Settings
from tests.streams.streams_testkit import WorkerProcess


@pytest.fixture
async def stream_env(
    kafka_topics: Settings, db: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[Settings]:
    """This test's settings with its topics created and its schema migrated."""
    yield kafka_topics


@pytest.fixture
def workers(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[list[WorkerProcess]]:
    """Worker processes a test starts (append to the list); stopped at the end."""
    started: list[WorkerProcess] = []
    yield started
    failed = request.node.stash.get(_FAILED, False)
    for worker in started:
        worker.stop()
        if failed:
            print(f"--- {worker.log_path} ---\n{worker.tail(60)}")


_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[_FAILED] = True
    return report
