"""Rate limits shared by every API process: Redis-backed, per token and per client address.

As a FastAPI dependency (what a route usually wants)::

    FEEDBACK_LIMIT = RateLimit("feedback", per_address=Rate.parse("10/minute"))

    @router.post("/facilities/{facility_id}/feedback", dependencies=[Depends(FEEDBACK_LIMIT)],
                 responses=RATE_LIMITED)
    ...

or directly: ``await RateLimiter(redis, settings).check(("addr", ip, rate), ...)``. Over the limit,
:class:`RateLimited` answers ``429`` in the API's error shape with ``Retry-After`` (seconds).

Algorithm: GCRA (a token bucket kept as one timestamp per key), in one Lua script that checks
every key of the call and consumes from all of them or none, on Redis' clock (API processes need
not agree on the time). ``Rate(30, 60)`` allows a burst of 30, then one request every 2 s.
``per_token`` keys on a hash of the bearer token (so a token is limited before it is verified);
``per_address`` on the client address as uvicorn sees it (``proxy_headers``: behind a trusted
proxy, the forwarded address). When Redis does not answer, requests are let through and a
warning is logged: a rate limit never takes a write path down.
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from fastapi import Request
from redis.exceptions import RedisError

from api.errors import ApiError, ErrorResponse
from api.i18n import bilingual
from paris_live.settings import Settings

__all__ = [
    "RATE_LIMITED",
    "Rate",
    "RateLimit",
    "RateLimited",
    "RateLimiter",
    "client_address",
]

logger = logging.getLogger("paris_live.api.ratelimit")

_PERIODS = {"s": 1.0, "second": 1.0, "m": 60.0, "minute": 60.0, "h": 3600.0, "hour": 3600.0}
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+)\s*$")

# KEYS: one bucket per limit; ARGV: (interval_ms, burst) per key.
# Returns 0 when every bucket had room (all consumed), else the ms to wait (none consumed).
_GCRA_LUA = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local wait = 0
local tats = {}
for i, key in ipairs(KEYS) do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', key) or '0')
  if tat < now then tat = now end
  local new_tat = tat + interval
  local allow_at = new_tat - interval * burst
  if allow_at > now and allow_at - now > wait then wait = allow_at - now end
  tats[i] = new_tat
end
if wait > 0 then return wait end
for i, key in ipairs(KEYS) do
  redis.call('SET', key, tats[i], 'PX', tats[i] - now)
end
return 0
"""


@dataclass(frozen=True, slots=True)
class Rate:
    """``count`` requests per ``period`` seconds, at most ``burst`` (default ``count``) at once."""

    count: int
    period: float
    burst: int | None = None

    def __post_init__(self) -> None:
        if self.count < 1 or self.period <= 0 or (self.burst is not None and self.burst < 1):
            raise ValueError(f"invalid rate {self!r}")

    @classmethod
    def parse(cls, text: str) -> Rate:
        """``"30/minute"``, ``"5/10s"``, ``"1000/h"``."""
        match = _RATE.match(text.lower())
        if not match or match.group(3) not in _PERIODS:
            raise ValueError(f"invalid rate {text!r} (expected e.g. '30/minute' or '5/10s')")
        count, many, unit = match.groups()
        return cls(int(count), (int(many) if many else 1) * _PERIODS[unit])

    @property
    def interval_ms(self) -> int:
        return max(1, round(self.period * 1000 / self.count))


class RateLimited(ApiError):
    """Too many requests; ``retry_after`` seconds until the next one is accepted."""

    status = 429
    code = "rate_limited"

    def __init__(self, retry_after: float) -> None:
        seconds = max(1, math.ceil(retry_after))
        super().__init__(
            bilingual("Trop de requêtes : réessayez dans %(seconds)s s", seconds=seconds)
        )
        self.retry_after = seconds
        self.headers = {"Retry-After": str(seconds)}


RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "model": ErrorResponse,
        "description": "Trop de requêtes / Too many requests",
        "headers": {
            "Retry-After": {
                "description": "secondes avant de réessayer / seconds before retrying",
                "schema": {"type": "integer", "minimum": 1},
            }
        },
    }
}
"""OpenAPI ``responses`` entry of a rate-limited route."""

Check = tuple[str, str, Rate]
"""(kind, identity, rate): ``("addr", "203.0.113.7", Rate(60, 60))``."""


class RateLimiter:
    """Checks and consumes several limits at once in Redis."""

    def __init__(self, redis: aioredis.Redis, settings: Settings) -> None:
        self.redis = redis
        self.settings = settings

    def key(self, name: str, kind: str, identity: str) -> str:
        return self.settings.key("ratelimit", name, kind, identity)

    async def acquire(self, name: str, *checks: Check) -> float:
        """Consume one request from every bucket; 0.0, or the seconds to wait (nothing consumed)."""
        if not checks:
            return 0.0
        keys = [self.key(name, kind, identity) for kind, identity, _ in checks]
        args: list[int] = []
        for _, _, rate in checks:
            args += [rate.interval_ms, rate.burst or rate.count]
        try:
            wait_ms = await self.redis.eval(_GCRA_LUA, len(keys), *keys, *args)
        except (RedisError, OSError) as exc:
            logger.warning("rate limit not applied: Redis unreachable (%r)", exc)
            return 0.0
        return float(wait_ms) / 1000.0

    async def check(self, name: str, *checks: Check) -> None:
        """:class:`RateLimited` when one of the limits is reached."""
        wait = await self.acquire(name, *checks)
        if wait > 0:
            raise RateLimited(wait)


def client_address(request: Request) -> str:
    """The client's address (as uvicorn resolved it), ``unknown`` when there is none."""
    return request.client.host if request.client else "unknown"


def _token_of(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return hashlib.sha256(token.strip().encode()).hexdigest()[:32]


class RateLimit:
    """A dependency limiting a group of routes (``name``) per token and per client address.

    A rate can be a :class:`Rate`, or a callable of the settings returning one (so a deployment
    setting can tune it).
    """

    def __init__(
        self,
        name: str,
        *,
        per_token: Rate | Callable[[Settings], Rate] | None = None,
        per_address: Rate | Callable[[Settings], Rate] | None = None,
    ) -> None:
        self.name = name
        self.per_token = per_token
        self.per_address = per_address

    @staticmethod
    def _rate(rate: Rate | Callable[[Settings], Rate] | None, settings: Settings) -> Rate | None:
        return rate(settings) if callable(rate) else rate

    async def __call__(self, request: Request) -> None:
        ctx = request.state.ctx
        checks: list[Check] = []
        per_address = self._rate(self.per_address, ctx.settings)
        if per_address is not None:
            checks.append(("addr", client_address(request), per_address))
        per_token = self._rate(self.per_token, ctx.settings)
        token = _token_of(request)
        if per_token is not None and token is not None:
            checks.append(("token", token, per_token))
        await RateLimiter(ctx.redis, ctx.settings).check(self.name, *checks)
