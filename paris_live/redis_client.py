"""The one place a Redis client is made: straight to ``REDIS_URL``, or through Redis Sentinel.

Every process (stream worker, API hub and request handlers, rate limiter, forecast job) asks
:func:`redis_client` for its clients. When ``PARIS_LIVE_REDIS_SENTINELS`` is set the client is
redis-py's Sentinel-managed one: each new connection asks the Sentinels which server is the
primary named ``PARIS_LIVE_REDIS_SENTINEL_MASTER``, so after a failover a reconnect lands on the
promoted replica. A connection to the old primary fails (it died, or answers ``READONLY`` once
demoted) and the caller's usual reconnect path takes over: the worker republishes what it holds
(:meth:`streams.worker.processor.Processor._republish_all`), the API's feed resubscribes and
sends every client a fresh snapshot (:class:`api.feed.RedisFeed`).

The database number, user and password still come from ``REDIS_URL``; its host and port are
ignored when Sentinels are set.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

import redis.asyncio as aioredis
from redis.asyncio.sentinel import Sentinel

from paris_live.settings import Settings

__all__ = ["SentinelRedis", "redis_client"]

SENTINEL_TIMEOUT_S = 1.0
"""How long one Sentinel may take to answer "who is the primary?" before the next is asked."""


class SentinelRedis(aioredis.Redis):
    """A Sentinel-managed client that also closes its connections to the Sentinels."""

    sentinels: Sentinel | None = None
    """The connections to the Sentinels this client asks (closed with it)."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        try:
            await super().aclose(close_connection_pool)
        finally:
            if self.sentinels is not None:
                await self.sentinels.aclose()


def redis_client(settings: Settings, **options: Any) -> aioredis.Redis:
    """A client of this deployment's Redis primary; ``options`` are redis-py connection options
    (``socket_timeout``, ``socket_keepalive``, ``decode_responses``...). Nothing connects until
    the first command."""
    if not settings.sentinel_addresses:
        return aioredis.from_url(settings.redis, **options)
    url = urlsplit(settings.redis)
    path = url.path.strip("/")
    options.setdefault("db", int(path) if path.isdigit() else 0)
    if url.username:
        options.setdefault("username", unquote(url.username))
    if url.password:
        options.setdefault("password", unquote(url.password))
    sentinels = Sentinel(
        list(settings.sentinel_addresses),
        sentinel_kwargs={
            "socket_timeout": SENTINEL_TIMEOUT_S,
            "socket_connect_timeout": SENTINEL_TIMEOUT_S,
        },
    )
    client = sentinels.master_for(
        settings.redis_sentinel_master, redis_class=SentinelRedis, **options
    )
    assert isinstance(client, SentinelRedis)
    client.sentinels = sentinels
    return client
