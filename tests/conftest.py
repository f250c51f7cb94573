"""Session fixtures on the real services, with isolation per test.

The services are the ones the settings point at: ``PARIS_LIVE_KAFKA_BOOTSTRAP`` / ``REDIS_URL`` /
``DATABASE_URL`` when set, else the project-owned local services, started here if they are not
running (and left running, so that the next test run reuses them). Each test that asks for
``settings`` gets its own topic prefix, Redis key prefix and PostgreSQL schema.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from psycopg import sql

from paris_live.settings import Settings

pytest_plugins = [
    "tests.plugins.stream_workers",
    "tests.plugins.browser",
    "tests.cluster.redis_fixtures",
]


@pytest.fixture(scope="session")
def base_settings() -> Settings:
    """The services of this run, started when they are local and not running yet."""
    settings = Settings(env="test", log_json=False)
    if not (settings.kafka_bootstrap and settings.redis_url and settings.database_url):
        from paris_live.services import ServiceManager

        ServiceManager(settings).start()
    return settings


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    """Settings isolated for one test: unique topic prefix, Redis prefix and database schema."""
    tag = uuid.uuid4().hex[:10]
    return base_settings.model_copy(
        update={"topic_prefix": f"t{tag}.", "redis_prefix": f"t{tag}:", "db_schema": f"t_{tag}"}
    )


@pytest.fixture
def kafka_bootstrap(base_settings: Settings) -> str:
    return base_settings.kafka


@pytest.fixture
async def kafka_topics(settings: Settings) -> AsyncIterator[Settings]:
    """The contract's topics, created under this test's prefix (deleted afterwards)."""
    from paris_live.kafka_admin import delete_topics, ensure_topics

    created = await ensure_topics(settings)
    yield settings
    await delete_topics(settings, created)


@pytest.fixture
async def redis_client(settings: Settings) -> AsyncIterator[aioredis.Redis]:
    """A Redis client; this test's keys are deleted afterwards."""
    client = aioredis.from_url(settings.redis)
    yield client
    keys = [k async for k in client.scan_iter(match=f"{settings.redis_prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[Settings]:
    """A migrated PostgreSQL schema of this test's own (dropped afterwards)."""
    from paris_live.db import connect, migrate

    await migrate(settings)
    yield settings
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema))
        )
