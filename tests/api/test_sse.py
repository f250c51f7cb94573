"""Server-Sent Events /v1/live/sse: snapshot, updates with ids, Last-Event-ID resume."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import (
    InProcessServer,
    facilities_of,
    fast_hub,
    make_status,
    put_status,
)
from tests.testkit import wait_until

pytestmark = pytest.mark.integration


async def events(response: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    event: dict[str, Any] = {}
    async for line in response.aiter_lines():
        if not line:
            if "event" in event:
                yield event
            event = {}
            continue
        field, _, value = line.partition(": ")
        if field == "data":
            event["data"] = orjson.loads(value)
        elif field in ("id", "event"):
            event[field] = value


async def next_event(
    stream: AsyncIterator[dict[str, Any]], skip: str = "heartbeat"
) -> dict[str, Any]:
    while True:
        event = await asyncio.wait_for(anext(stream), 5)
        if event["event"] != skip:
            return event


async def test_sse_snapshot_update_and_resume(
    api_server: InProcessServer,
    http: httpx.AsyncClient,
    redis_client: aioredis.Redis,
    settings: Settings,
) -> None:
    """SSE sends a snapshot, then updates with id facility:seq; Last-Event-ID resumes without
    resending what the client has."""
    a, b = facilities_of("library", 2)
    await put_status(redis_client, settings, make_status(a, 1))
    await put_status(redis_client, settings, make_status(b, 1))
    await api_server.mirrored({a.id: 1, b.id: 1})
    params = {"facilities": f"{a.id},{b.id}"}
    async with http.stream("GET", "/v1/live/sse", params=params) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        stream = events(response)
        snapshot = await next_event(stream)
        assert snapshot["event"] == "snapshot" and len(snapshot["data"]["facilities"]) == 2
        await put_status(redis_client, settings, make_status(a, 2))
        update = await next_event(stream)
        assert update["event"] == "update" and update["id"] == f"{a.id}:2"
        assert update["data"]["facility"]["seq"] == 2
    await put_status(redis_client, settings, make_status(b, 2))
    await api_server.mirrored({b.id: 2})
    async with http.stream(
        "GET",
        "/v1/live/sse",
        params={**params, "since": f"{b.id}:1"},
        headers={"Last-Event-ID": f"{a.id}:2"},
    ) as response:
        snapshot = await next_event(events(response))
        assert [(f["facility_id"], f["seq"]) for f in snapshot["data"]["facilities"]] == [(b.id, 2)]


async def test_an_sse_stream_outlives_the_hubs_dead_after(
    api_server: InProcessServer,
    http: httpx.AsyncClient,
    redis_client: aioredis.Redis,
    settings: Settings,
) -> None:
    """The hub ends a WebSocket that stops answering its pings after ``dead_after``. SSE has no
    pong: the chunks its reader takes (heartbeats at least) say it is alive. Every SSE stream
    was ended after ``dead_after`` (45 s in production) however well it read; now one read for
    twice that long still gets the next change."""
    [a] = facilities_of("library", 1)
    await put_status(redis_client, settings, make_status(a, 1))
    await api_server.mirrored({a.id: 1})
    dead_after = fast_hub(settings).hub_dead_after
    async with http.stream("GET", "/v1/live/sse", params={"facilities": a.id}) as response:
        stream = events(response)
        assert (await next_event(stream))["event"] == "snapshot"
        loop = asyncio.get_running_loop()
        until = loop.time() + 2 * dead_after
        while loop.time() < until:
            event = await asyncio.wait_for(anext(stream), 5)
            assert event["event"] == "heartbeat", event
        await put_status(redis_client, settings, make_status(a, 2))
        update = await next_event(stream)
        assert update["event"] == "update" and update["id"] == f"{a.id}:2"


async def test_sse_refuses_bad_subscriptions(http: httpx.AsyncClient) -> None:
    """Unknown facility → 404; both ids and a filter, or neither → 422; all in the error shape."""
    assert (await http.get("/v1/live/sse", params={"facilities": "xyz"})).status_code == 404
    both = await http.get("/v1/live/sse", params={"facilities": "xyz", "type": "pool"})
    neither = await http.get("/v1/live/sse")
    for response in (both, neither):
        assert (
            response.status_code == 422 and response.json()["error"]["code"] == "invalid_parameter"
        )


async def test_plain_get_on_websocket_path_says_upgrade(http: httpx.AsyncClient) -> None:
    """A plain GET /v1/live answers 426 with the error shape."""
    response = await http.get("/v1/live")
    assert response.status_code == 426 and response.json()["error"]["code"] == "upgrade_required"


async def test_sse_streams_past_the_per_address_cap_are_429_until_one_closes(
    settings: Settings, db: Settings, redis_client: aioredis.Redis
) -> None:
    """As for ``/v1/live``: past ``hub_ws_max_per_address`` streams from one address (3 here), a
    429 in the error shape with ``Retry-After``; a stream closed gives its place back. There was
    no cap: one address could hold every file descriptor of the process."""
    capped = fast_hub(settings).model_copy(update={"hub_ws_max_per_address": 3})
    server = InProcessServer(create_app(capped), capped)
    await server.start()
    [a] = facilities_of("library", 1)
    await put_status(redis_client, settings, make_status(a, 1))
    params = {"facilities": a.id}
    try:
        async with (
            httpx.AsyncClient(base_url=server.http, timeout=10) as http,
            contextlib.AsyncExitStack() as stack,
        ):
            streams = [
                await stack.enter_async_context(http.stream("GET", "/v1/live/sse", params=params))
                for _ in range(3)
            ]
            assert [s.status_code for s in streams] == [200, 200, 200]
            async with http.stream("GET", "/v1/live/sse", params=params) as refused:
                assert refused.status_code == 429  # a 200 here would stream forever
                assert int(refused.headers["retry-after"]) > 0
                error = orjson.loads(await refused.aread())["error"]
            assert error["code"] == "too_many_connections" and " / " in error["message"]
            await streams[0].aclose()

            async def admitted_again() -> bool:
                async with http.stream("GET", "/v1/live/sse", params=params) as again:
                    return again.status_code == 200

            await wait_until(admitted_again, within=15, what="the closed stream's place back")
    finally:
        await server.stop()
