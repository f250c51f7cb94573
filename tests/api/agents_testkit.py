"""Helpers of the agents' tests: tokens, the facilities they act on, reading Kafka and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
import orjson
from aiokafka import AIOKafkaConsumer

from api.auth import issue_token
from paris_live.db import connect
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import Facility, load_catalogue


@dataclass(frozen=True)
class Cast:
    """Two pools (A, B) and a library, each with areas and services."""

    pool_a: Facility
    pool_b: Facility
    library: Facility


def cast() -> Cast:
    catalogue = load_catalogue()
    pools = [f for f in catalogue.by_type("pool") if f.areas and f.services]
    libraries = [f for f in catalogue.by_type("library") if f.areas and f.services]
    return Cast(pools[0], pools[1], libraries[0])


def token(
    settings: Settings,
    role: str = "agent",
    *facilities: str,
    subject: str | None = None,
    types: tuple[str, ...] = (),
    ttl: dt.timedelta = dt.timedelta(hours=1),
) -> str:
    return issue_token(
        settings,
        subject or f"{role}-{uuid.uuid4().hex[:6]}",
        role,
        facilities=facilities,
        facility_types=types,
        ttl=ttl,
    )


def forged(settings: Settings, **claims: Any) -> str:
    """A token with these claims over valid defaults, signed with the deployment's secret."""
    now = int(dt.datetime.now(dt.UTC).timestamp())
    payload: dict[str, Any] = {
        "sub": "agent-x",
        "role": "agent",
        "facilities": [cast().pool_a.id],
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + 600,
    }
    payload.update(claims)
    return jwt.encode(payload, settings.jwt_secret, algorithm="HS256")


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def in_an_hour(hours: float = 1.0) -> str:
    return (dt.datetime.now(dt.UTC) + dt.timedelta(hours=hours)).isoformat()


async def declare(
    http: httpx.AsyncClient, facility_id: str, auth: str, **body: Any
) -> httpx.Response:
    body.setdefault("reason", "technical_failure")
    return await http.post(
        f"/v1/facilities/{facility_id}/closures", json=body, headers=bearer(auth)
    )


async def rows(settings: Settings, query: str, *args: Any) -> list[tuple[Any, ...]]:
    async with await connect(settings, autocommit=True) as conn:
        cur = await conn.execute(query, args)
        return list(await cur.fetchall())


async def closure_events(
    settings: Settings, closure_id: str, *, expect: int, within: float = 15.0
) -> list[tuple[str, dict[str, Any]]]:
    """(key, event) of the records on facility-closures about this closure, once ``expect``
    of them arrived (or the deadline passed)."""
    consumer = AIOKafkaConsumer(
        settings.topic(contract.CLOSURES),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[str, dict[str, Any]]] = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(found) < expect and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            for records in batches.values():
                for record in records:
                    event = orjson.loads(record.value)
                    if event["data"]["closure_id"] == closure_id:
                        found.append((record.key.decode(), event))
    finally:
        await consumer.stop()
    return found
