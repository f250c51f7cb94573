"""The hub's thin Redis shell: ONE pub/sub subscription per API process, and the mirror's seed.

On start and after every reconnect the feed subscribes first, then loads every stored status (so
nothing published in between is missed: the newest ``seq`` wins in the mirror), and after a
reconnect sends every client a fresh snapshot. Messages are read in batches — whatever is already
buffered is fanned out together, one write per client per batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from api.forecast_feed import push_forecasts
from api.hub import Hub
from paris_live.live import changes_channel, facility_key, index_key
from paris_live.redis_client import redis_client
from paris_live.settings import Settings
from streams.forecast.store import forecast_channel

__all__ = ["RedisFeed", "load_statuses"]

logger = logging.getLogger("paris_live.api.feed")
MAX_BATCH = 512
STOP_WITHIN_S = 5.0
"""Longest wait for the feed tasks to finish once cancelled, on the way out."""


async def load_statuses(redis: aioredis.Redis, settings: Settings) -> list[bytes]:
    """Every stored status JSON (index zset → one pipelined HGET per facility)."""
    ids = await redis.zrange(index_key(settings), 0, -1)
    if not ids:
        return []
    async with redis.pipeline(transaction=False) as pipe:
        for raw_id in ids:
            pipe.hget(facility_key(settings, _text(raw_id)), "json")
        values = await pipe.execute()
    return [v for v in values if v]


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisFeed:
    """Runs the subscription loop as a task; reconnects with backoff; ticks the hub every second."""

    def __init__(
        self,
        hub: Hub,
        settings: Settings,
        *,
        client_factory: Callable[[], aioredis.Redis] | None = None,
        on_reconnect: Callable[[], None] | None = None,
    ) -> None:
        self.hub = hub
        self.settings = settings
        self.channel = changes_channel(settings)
        self.forecast_channel = forecast_channel(settings)
        self._factory = client_factory or (
            lambda: redis_client(settings, socket_keepalive=True, socket_connect_timeout=2.0)
        )
        self._on_reconnect = on_reconnect
        self.connected = asyncio.Event()
        self.connections = 0
        self._tasks: list[asyncio.Task[None]] = []

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[RedisFeed]:
        """Start the subscription and ticker tasks; cancel them on exit."""
        self._tasks = [
            asyncio.create_task(self._subscribe_forever(), name="live-feed"),
            asyncio.create_task(self._tick_forever(), name="live-ticker"),
        ]
        try:
            yield self
        finally:
            for task in self._tasks:
                task.cancel()
            _, stuck = await asyncio.wait(self._tasks, timeout=STOP_WITHIN_S)
            if stuck:  # a Redis peer that never answers the close: do not wait for it
                logger.warning(
                    "live feed: %d task(s) still closing after %.0f s", len(stuck), STOP_WITHIN_S
                )

    async def _tick_forever(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                self.hub.tick()
            except Exception:  # a bug in one tick must not stop heartbeats for good
                logger.exception("hub tick failed")

    async def _subscribe_forever(self) -> None:
        delay = 0.1
        while True:
            client = self._factory()
            before = self.connections
            try:
                await self._run_once(client)
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                logger.warning("redis feed lost: %s; reconnecting in %.1fs", exc, delay)
            except RedisError:
                logger.exception("redis feed error; reconnecting in %.1fs", delay)
            finally:
                self.connected.clear()
                with contextlib.suppress(Exception):
                    await client.aclose()
            if self.connections > before:  # it worked for a while: retry quickly
                delay = 0.1
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)

    async def _run_once(self, client: aioredis.Redis) -> None:
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        reconnect = self.connections > 0
        try:
            await pubsub.subscribe(self.channel, self.forecast_channel)
            if reconnect:  # what we mirrored may be gone (a restarted Redis): start from the store
                self.hub.forget()
            statuses = await load_statuses(client, self.settings)
            self.hub.load(statuses)
            self.connections += 1
            if reconnect or self.hub.subscribers:
                self.hub.resnapshot_all()
                if self._on_reconnect is not None:
                    self._on_reconnect()
                logger.info("redis feed reconnected; fresh snapshots sent")
            self.connected.set()
            while True:
                message = await pubsub.get_message(timeout=1.0)
                if message is None:
                    await pubsub.ping()  # detect a dead server while idle
                    continue
                if message["type"] != "message":
                    continue
                batch: list[bytes] = []
                forecasts: list[bytes] = []
                while message is not None and len(batch) + len(forecasts) < MAX_BATCH:
                    if message["type"] == "message":
                        on_forecast = _text(message["channel"]) == self.forecast_channel
                        (forecasts if on_forecast else batch).append(message["data"])
                    message = await pubsub.get_message(timeout=0.0)
                if batch:
                    self.hub.dispatch(batch)
                if forecasts:
                    push_forecasts(self.hub, forecasts)
        finally:
            with contextlib.suppress(Exception):
                await pubsub.aclose()
