"""The Redis clients of the platform parse replies in C (hiredis): the API's live feed reads every
status update through one, and redis-py's pure-Python parser was 15 % of the API's CPU at the
knee (bench/results/profiles/api-knee-before.txt, issue 18)."""

from __future__ import annotations

from redis._parsers.hiredis import _AsyncHiredisParser

from paris_live.redis_client import redis_client
from paris_live.settings import Settings


async def test_the_platform_redis_client_parses_with_hiredis(base_settings: Settings) -> None:
    client = redis_client(base_settings)
    try:
        pool = client.connection_pool
        assert pool.connection_class(**pool.connection_kwargs)._parser.__class__ is (
            _AsyncHiredisParser
        ), "hiredis is not installed: `redis[hiredis]` in pyproject.toml"
    finally:
        await client.aclose()
