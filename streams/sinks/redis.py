"""Live status to Redis, in the layout of :mod:`paris_live.live`, through ``PUT_STATUS_LUA``.

One call per facility and flush (the worker coalesces: whatever the event rate, a facility is
written at most once per flush interval), pipelined without MULTI. The script stores a status only
when its ``seq`` is newer than the stored one and publishes the change notification in the same
atomic step, so a replay after a crash changes nothing and notifies no one.

The pipeline calls the script by its SHA1 (``EVALSHA``) and nothing else: redis-py's script
objects would ask ``SCRIPT EXISTS`` before every pipeline, one more round trip per flush. A server
that does not know the script (restarted, or a new primary) answers ``NOSCRIPT``: the sink loads it
and sends the pipeline again — harmless, as a status already stored is not newer the second time.

Each write also reads the server's replication id (``master_replid``). It changes when another
server became the primary (a Sentinel failover) or the server restarted: the new primary may
lack the last statuses the old one acknowledged (replication is asynchronous), so
:attr:`RedisSink.primary_changes` counts it and the worker republishes every status it holds.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import NoScriptError

from paris_live.live import PUT_STATUS_LUA, changes_channel, facility_key, index_key
from paris_live.redis_client import redis_client
from paris_live.settings import Settings
from streams import metrics

PIPELINE_CHUNK = 2_000


@dataclass(frozen=True, slots=True)
class LiveStatus:
    """One facility status ready to publish: ``json`` is exactly what clients receive."""

    facility_id: str
    seq: int
    json: bytes
    updated_at: str


class RedisSink:
    """Writes :class:`LiveStatus` items; returns how many were newer than what Redis held.

    Every read, connect and close is bounded (a primary that died without resetting its
    connections must not hold the worker's flush forever: it fails, and the next one retries)."""

    def __init__(self, settings: Settings, client: aioredis.Redis | None = None) -> None:
        self._settings = settings
        self._client = client or redis_client(
            settings, socket_timeout=5.0, socket_connect_timeout=2.0, socket_keepalive=True
        )
        self._owns_client = client is None
        self._script = PUT_STATUS_LUA
        self._sha = hashlib.sha1(PUT_STATUS_LUA.encode()).hexdigest()
        self._index = index_key(settings)
        self._channel = changes_channel(settings)
        self._replid: str | None = None
        self.primary_changes = 0
        """How many times the server written to turned out to be another primary (or restarted)."""

    @property
    def client(self) -> aioredis.Redis:
        return self._client

    async def close(self) -> None:
        if self._owns_client:
            await self._client.aclose()

    async def write(self, statuses: Sequence[LiveStatus]) -> int:
        """Store and announce each status whose seq is newer; pipelined in chunks."""
        if not statuses:
            return 0
        started = time.perf_counter()
        stored = 0
        for start in range(0, len(statuses), PIPELINE_CHUNK):
            try:
                replication, *results = await self._put(statuses[start : start + PIPELINE_CHUNK])
            except NoScriptError:
                await self._client.script_load(self._script)
                replication, *results = await self._put(statuses[start : start + PIPELINE_CHUNK])
            self._note_primary(replication)
            stored += sum(int(r) for r in results)
        metrics.SINK_FLUSH.labels(sink="redis").observe(time.perf_counter() - started)
        metrics.SINK_BATCH.labels(sink="redis").observe(len(statuses))
        return stored

    async def _put(self, statuses: Sequence[LiveStatus]) -> list[Any]:
        """One pipeline: the replication info, then ``EVALSHA`` of the script for each status."""
        settings, index, channel, sha = self._settings, self._index, self._channel, self._sha
        async with self._client.pipeline(transaction=False) as pipe:
            pipe.info("replication")
            for st in statuses:
                key = facility_key(settings, st.facility_id)
                pipe.evalsha(
                    sha, 3, key, index, channel, st.facility_id, st.seq, st.json, st.updated_at
                )
            results: list[Any] = await pipe.execute()
        return results

    def _note_primary(self, replication: dict[str, object]) -> None:
        replid = str(replication.get("master_replid", ""))
        if self._replid is not None and replid != self._replid:
            self.primary_changes += 1
        self._replid = replid

    async def stored_seqs(self, facility_ids: Sequence[str]) -> dict[str, int]:
        """The seq Redis holds for each facility (absent ones omitted) — used after recovery."""
        if not facility_ids:
            return {}
        async with self._client.pipeline(transaction=False) as pipe:
            for fid in facility_ids:
                pipe.hget(facility_key(self._settings, fid), "seq")
            values = await pipe.execute()
        return {fid: int(v) for fid, v in zip(facility_ids, values, strict=True) if v is not None}
