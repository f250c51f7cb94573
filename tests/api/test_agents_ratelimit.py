"""The Redis rate limiter (shared by every API process) on the real Redis."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from api.ratelimit import Rate, RateLimited, RateLimiter
from paris_live.settings import Settings

pytestmark = pytest.mark.integration


def test_rates_parse_from_settings_text() -> None:
    """'30/minute', '5/10s' and '1000/h' read as counts per period; nonsense is refused."""
    assert Rate.parse("30/minute") == Rate(30, 60.0)
    assert Rate.parse("5/10s") == Rate(5, 10.0)
    assert Rate.parse("1000 / h") == Rate(1000, 3600.0)
    assert Rate.parse("30/minute").interval_ms == 2000
    for text in ("30", "0/minute", "3/fortnight", "-1/s"):
        with pytest.raises(ValueError):
            Rate.parse(text)


async def test_a_burst_then_one_per_interval(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    """Rate(5, 1 s): five requests at once pass, the sixth waits about 200 ms, and passes
    once that time has gone by."""
    limiter = RateLimiter(redis_client, settings)
    rate = Rate(5, 1.0)
    waits = [await limiter.acquire("t", ("addr", "10.0.0.1", rate)) for _ in range(6)]
    assert waits[:5] == [0.0] * 5
    assert 0.1 < waits[5] <= 0.2
    # The clock is the only state here: the test checks that the announced wait is enough.
    await asyncio.sleep(waits[5] + 0.02)
    assert await limiter.acquire("t", ("addr", "10.0.0.1", rate)) == 0.0
    with pytest.raises(RateLimited) as refused:
        await limiter.check("t", ("addr", "10.0.0.1", rate))
    assert refused.value.headers == {"Retry-After": "1"}
    assert refused.value.status == 429


async def test_limits_are_all_or_nothing_and_per_identity(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    """When the per-address bucket is empty, the per-token bucket is not charged; another
    address is unaffected; keys live under the deployment's prefix and expire."""
    limiter = RateLimiter(redis_client, settings)
    addr = ("addr", "10.0.0.2", Rate(1, 60.0))
    tok = ("token", "abc", Rate(2, 60.0))
    assert await limiter.acquire("t", addr, tok) == 0.0
    assert await limiter.acquire("t", addr, tok) > 0  # address exhausted
    assert await limiter.acquire("t", tok) == 0.0  # token still had its second request
    assert await limiter.acquire("t", ("addr", "10.0.0.3", Rate(1, 60.0))) == 0.0
    keys = [k.decode() async for k in redis_client.scan_iter(match=f"{settings.redis_prefix}*")]
    assert keys and all(k.startswith(f"{settings.redis_prefix}ratelimit:t:") for k in keys)
    ttls = [await redis_client.pttl(k) for k in keys]
    assert all(0 < ttl <= 120_000 for ttl in ttls), ttls


async def test_an_unreachable_redis_lets_requests_through(settings: Settings) -> None:
    """Rate limits never take a write path down: with Redis unreachable, requests pass."""
    client = aioredis.from_url("redis://127.0.0.1:9/0", socket_connect_timeout=0.5)
    try:
        limiter = RateLimiter(client, settings)
        assert await limiter.acquire("t", ("addr", "10.0.0.4", Rate(1, 60.0))) == 0.0
    finally:
        await client.aclose()
