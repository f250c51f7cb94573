"""API test fixtures: real Redis and PostgreSQL (isolated per test), real uvicorn servers.

``api_server`` runs the API in this event loop on a free 127.0.0.1 port (uvicorn + the
``/v1/live`` implementation, exactly as served); ``process_server_factory`` runs it in other
processes (``paris-live api serve`` with ``--workers``) when a test needs a separate CPU or several
workers. The helpers are in :mod:`tests.api.api_testkit`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator

import httpx
import pytest

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, ProcessServer, fast_hub


@pytest.fixture
async def api_server(settings: Settings, db: Settings) -> AsyncIterator[InProcessServer]:
    """The API on a free port, on this test's Redis prefix and PostgreSQL schema."""
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(api_server: InProcessServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=api_server.http, timeout=10.0) as client:
        yield client


@pytest.fixture
def process_server_factory(
    settings: Settings, db: Settings
) -> Iterator[Callable[..., ProcessServer]]:
    started: list[ProcessServer] = []

    def start(workers: int = 1, **env: str) -> ProcessServer:
        server = ProcessServer(settings, workers, **env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
