"""Journey fixtures: the live stack (Kafka topics, a stream worker process, Redis, PostgreSQL and
the API in-process over them) for journeys that need events to flow, and a page per viewport.

The simulated city (``city_api``, ``page``, ``browser``) comes from ``tests/plugins/browser.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer
from tests.dashboards.dashboards_testkit import start_api
from tests.streams.streams_testkit import Record, WorkerProcess, produce


class LiveStack:
    """Events in (through Kafka, as producers send them), pages out (through the worker, Redis
    and the API)."""

    def __init__(self, settings: Settings, api: InProcessServer) -> None:
        self.settings = settings
        self.api = api

    @property
    def http(self) -> str:
        return self.api.http

    async def send(self, records: Sequence[Record]) -> None:
        await produce(self.settings, records)


@pytest.fixture
async def live_stack(
    stream_env: Settings, workers: list[WorkerProcess], tmp_path: Path
) -> AsyncIterator[LiveStack]:
    """A worker process and the API on this test's topics, Redis prefix and schema."""
    workers.append(WorkerProcess(stream_env, tmp_path))
    api = await start_api(stream_env)
    yield LiveStack(stream_env, api)
    await api.stop()
