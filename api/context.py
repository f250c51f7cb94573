"""What every request handler reaches: settings, Redis, PostgreSQL pool, catalogue, hub, the
Kafka clients and the closure bus.

Opened once by the application lifespan (:func:`api.app.create_app`), closed by it, and handed to
handlers through the lifespan state (``request.state.ctx``). Handlers never create clients of
their own: Kafka is ``ctx.kafka`` (:class:`api.kafka.KafkaClients`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import redis.asyncio as aioredis
from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from psycopg_pool import AsyncConnectionPool
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.errors import ServiceUnavailable
from api.hub import Hub
from api.i18n import bilingual
from api.kafka import KafkaClients
from paris_live.live import facility_key, index_key
from paris_live.settings import Settings
from schemas.catalogue import Catalogue

if TYPE_CHECKING:
    from api.closures.bus import ClosureBus
    from api.live_ws import LiveGuard

__all__ = ["REDIS_DOWN", "AppContext", "Ctx", "get_ctx"]

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


@dataclass
class AppContext:
    settings: Settings
    redis: aioredis.Redis
    pool: AsyncConnectionPool[Any]
    catalogue: Catalogue
    hub: Hub
    registry: CollectorRegistry
    kafka: KafkaClients
    """The process's Kafka publisher and admin clients (connected on first use)."""
    feed_connected: Callable[[], bool] = lambda: True
    closure_bus: ClosureBus = field(init=False)
    """Outbox → Kafka for the closures (set by the lifespan once the context exists)."""
    sse_guard: LiveGuard = field(init=False)
    """The SSE streams open per client address in this process, under the cap of ``/v1/live``
    (``hub_ws_max_per_address``; set by the lifespan)."""

    def knows(self, facility_id: str) -> bool:
        """In the catalogue (live-only facilities are checked against Redis by the caller)."""
        return facility_id in self.catalogue

    async def status(self, facility_id: str) -> bytes | None:
        """The stored FacilityStatus JSON of one facility (None when it has none yet)."""
        try:
            raw = await self.redis.hget(facility_key(self.settings, facility_id), "json")
        except REDIS_DOWN as exc:
            raise ServiceUnavailable(
                bilingual("Statut en direct momentanément indisponible")
            ) from exc
        return raw.encode() if isinstance(raw, str) else raw

    async def statuses(self, facility_ids: list[str]) -> dict[str, bytes]:
        """Stored statuses of several facilities (one pipelined round trip)."""
        if not facility_ids:
            return {}
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for facility_id in facility_ids:
                    pipe.hget(facility_key(self.settings, facility_id), "json")
                values = await pipe.execute()
        except REDIS_DOWN as exc:
            raise ServiceUnavailable(
                bilingual("Statut en direct momentanément indisponible")
            ) from exc
        return {f: v for f, v in zip(facility_ids, values, strict=True) if v}

    async def live_ids(self) -> list[str]:
        """Facilities with a live status (those outside the catalogue included)."""
        try:
            ids = await self.redis.zrange(index_key(self.settings), 0, -1)
        except REDIS_DOWN as exc:
            raise ServiceUnavailable(
                bilingual("Statut en direct momentanément indisponible")
            ) from exc
        return [i.decode() if isinstance(i, bytes) else str(i) for i in ids]


def get_ctx(request: Request) -> AppContext:
    ctx: AppContext = request.state.ctx
    return ctx


Ctx = Annotated[AppContext, Depends(get_ctx)]


def loads(raw: bytes) -> dict[str, Any]:
    value: dict[str, Any] = orjson.loads(raw)
    return value
