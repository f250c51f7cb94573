"""Fixtures of the open-standards tests: the whole API on real PostgreSQL, Redis and Kafka,
isolated per test (as the feedback tests have it)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.feedback.feedback_testkit import FeedbackApi


@pytest.fixture
async def standards_api(
    settings: Settings, db: Settings, kafka_topics: Settings, redis_client: Any, tmp_path: Path
) -> AsyncIterator[FeedbackApi]:
    """The whole API on a free loopback port, with an HTTP client."""
    api_settings = fast_hub(settings).model_copy(update={"state_dir": tmp_path})
    server = InProcessServer(create_app(api_settings), api_settings)
    await server.start()
    async with httpx.AsyncClient(base_url=server.http, timeout=20.0) as client:
        yield FeedbackApi(server, client, api_settings)
    await server.stop()
