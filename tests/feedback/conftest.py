"""Feedback test fixtures: the real API (uvicorn), PostgreSQL, Redis and Kafka, isolated per test,
and the feedback job running in the test's loop (helpers in :mod:`tests.feedback.feedback_testkit`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from paris_live.settings import Settings
from streams.feedback.job import FeedbackJob
from tests.api.api_testkit import InProcessServer, fast_hub
from tests.feedback.feedback_testkit import FeedbackApi


@pytest.fixture
async def feedback_settings(
    settings: Settings, db: Settings, kafka_topics: Settings, tmp_path: Path
) -> Settings:
    """This test's schema, topics and key prefix; the API's spool in the test's tmp dir."""
    return fast_hub(settings).model_copy(update={"state_dir": tmp_path})


@pytest.fixture
async def feedback_api(
    feedback_settings: Settings, redis_client: Any
) -> AsyncIterator[FeedbackApi]:
    """The whole API on a free loopback port, with an HTTP client."""
    server = InProcessServer(create_app(feedback_settings), feedback_settings)
    await server.start()
    async with httpx.AsyncClient(base_url=server.http, timeout=20.0) as client:
        yield FeedbackApi(server, client, feedback_settings)
    await server.stop()


@pytest.fixture
async def feedback_job(feedback_settings: Settings) -> AsyncIterator[FeedbackJob]:
    """The feedback job consuming this test's topics in the background."""
    job = FeedbackJob(feedback_settings)
    stop = asyncio.Event()
    task = asyncio.create_task(job.run(stop), name="feedback-job")
    yield job
    stop.set()
    await asyncio.wait_for(task, timeout=20)
