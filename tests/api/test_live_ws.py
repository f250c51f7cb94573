"""WebSocket /v1/live against a real uvicorn server, real Redis, the websockets client."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from api.app import create_app
from paris_live.settings import Settings
from tests.api.api_testkit import (
    InProcessServer,
    facilities_of,
    fast_hub,
    make_status,
    put_status,
    recv,
    subscribe,
)

pytestmark = pytest.mark.integration


async def test_snapshot_then_update(
    api_server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A subscriber gets the current status, then the next change right after the Redis write."""
    a, b = facilities_of("pool", 2)
    await put_status(redis_client, settings, make_status(a, 1))
    await api_server.mirrored({a.id: 1})
    async with websockets.connect(api_server.ws) as ws:
        snapshot = await subscribe(ws, facilities=[a.id, b.id])
        assert snapshot["op"] == "snapshot"
        assert [(f["facility_id"], f["seq"]) for f in snapshot["facilities"]] == [(a.id, 1)]
        await put_status(redis_client, settings, make_status(b, 5))
        update = await recv(ws)
        assert update["op"] == "update"
        assert (update["facility"]["facility_id"], update["facility"]["seq"]) == (b.id, 5)


async def test_resume_with_since_only_newer(
    api_server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Resuming with since snapshots only the facilities that changed meanwhile."""
    a, b, c = facilities_of("library", 3)
    for facility, seq in ((a, 3), (b, 8), (c, 2)):
        await put_status(redis_client, settings, make_status(facility, seq))
    await api_server.mirrored({a.id: 3, b.id: 8, c.id: 2})
    async with websockets.connect(api_server.ws) as ws:
        snapshot = await subscribe(
            ws, facilities=[a.id, b.id, c.id], since={a.id: 3, b.id: 5, c.id: 2}
        )
        assert [(f["facility_id"], f["seq"]) for f in snapshot["facilities"]] == [(b.id, 8)]


async def test_filter_subscription(
    api_server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A filter subscription gets the type × arrondissement it asked for, nothing else."""
    pool = facilities_of("pool", 1)[0]
    library = facilities_of("library", 1)[0]
    async with websockets.connect(api_server.ws) as ws:
        snapshot = await subscribe(
            ws, filter={"type": "pool", "arrondissement": pool.arrondissement}
        )
        assert snapshot == {"op": "snapshot", "facilities": []}
        await put_status(redis_client, settings, make_status(library, 1))
        await put_status(redis_client, settings, make_status(pool, 1))
        update = await recv(ws)
        assert update["facility"]["facility_id"] == pool.id
        with pytest.raises(TimeoutError):
            await recv(ws, within=0.5)


async def test_procedure_subscription_follows_every_place_serving_it(
    api_server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """Subscribing to a démarche follows the facilities serving it (its live figures: open
    state, queues, appointments) and nothing else; an unknown démarche answers an error frame."""
    from schemas.parcours import load_parcours

    identity = next(p for p in load_parcours() if p.parcours_id == "identity-document")
    hall = facilities_of("town_hall", 1)[0]
    pool = facilities_of("pool", 1)[0]
    assert hall.id in identity.facility_ids and pool.id not in identity.facility_ids
    async with websockets.connect(api_server.ws) as ws:
        snapshot = await subscribe(ws, procedure="identity-document")
        assert snapshot["op"] == "snapshot"
        await put_status(redis_client, settings, make_status(pool, 1))
        await put_status(redis_client, settings, make_status(hall, 1))
        update = await recv(ws)
        assert update["facility"]["facility_id"] == hall.id
        with pytest.raises(TimeoutError):
            await recv(ws, within=0.5)
        await ws.send('{"op": "subscribe", "procedure": "pas-une-demarche"}')
        error = await recv(ws)
        assert error["code"] == "unknown_procedure"
        assert error["message"].startswith("Démarche inconnue : pas-une-demarche")
        await ws.send(
            '{"op": "subscribe", "procedure": "identity-document", "filter": {"type": "pool"}}'
        )
        assert (await recv(ws))["code"] == "invalid_message"


async def test_malformed_frames_get_error_frames(api_server: InProcessServer) -> None:
    """Bad JSON, an unknown op, an invalid subscribe and an unknown facility each answer an
    error frame with its code, and the connection stays usable."""
    async with websockets.connect(api_server.ws) as ws:
        await ws.send("{nope")
        assert (await recv(ws))["code"] == "bad_json"
        await ws.send('{"op": "dance"}')
        assert (await recv(ws))["code"] == "unknown_op"
        await ws.send('{"op": "subscribe"}')
        assert (await recv(ws))["code"] == "invalid_message"
        await ws.send('{"op": "subscribe", "facilities": ["pas-un-equipement"]}')
        error = await recv(ws)
        assert error["code"] == "unknown_facility"
        assert error["message"].startswith("Équipement inconnu : pas-un-equipement")
        assert (await recv(ws))["op"] == "snapshot"


async def test_oversized_frame_closes_1009(api_server: InProcessServer) -> None:
    """A frame over the size limit closes the connection with 1009."""
    async with websockets.connect(api_server.ws, max_size=None) as ws:
        await ws.send("x" * (65 * 1024))
        with pytest.raises(ConnectionClosed) as closed:
            await recv(ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009


async def test_repeated_abuse_closes_1008(api_server: InProcessServer) -> None:
    """After five refused frames the server closes with 1008."""
    async with websockets.connect(api_server.ws) as ws:
        for _ in range(5):
            await ws.send("[]")
        codes = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                codes.append((await recv(ws))["code"])
        assert codes == ["bad_json"] * 5
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008


async def test_origin_allow_list(settings: Settings, db: Settings) -> None:
    """A browser from an origin not allowed is refused with 403; an allowed one connects."""
    strict = settings.model_copy(update={"allowed_origins": ("https://www.paris.fr",)})
    server = InProcessServer(create_app(fast_hub(strict)), strict)
    await server.start()
    try:
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(server.ws, origin="https://evil.example"):  # type: ignore[arg-type]
                pass
        assert refused.value.response.status_code == 403
        async with websockets.connect(server.ws, origin="https://www.paris.fr") as ws:  # type: ignore[arg-type]
            assert (await subscribe(ws, filter={"type": "pool"}))["op"] == "snapshot"
    finally:
        await server.stop()


async def test_heartbeat_and_no_compression(api_server: InProcessServer) -> None:
    """Heartbeats arrive on an idle socket, and permessage-deflate is not negotiated."""
    async with websockets.connect(api_server.ws) as ws:
        assert ws.response is not None
        assert "Sec-WebSocket-Extensions" not in ws.response.headers
        message = await recv(ws, within=3.0, skip_heartbeats=False)
        assert message["op"] == "heartbeat" and "+00:00" in message["at"]


async def test_cut_off_client_resumes_to_server_state(
    api_server: InProcessServer, redis_client: aioredis.Redis, settings: Settings
) -> None:
    """A client cut off while 100 updates happen ends, after resuming with since, with exactly
    the statuses Redis holds."""
    facilities = facilities_of("library", 5)
    ids = [f.id for f in facilities]
    for facility in facilities:
        await put_status(redis_client, settings, make_status(facility, 1))
    await api_server.mirrored(dict.fromkeys(ids, 1))
    seen: dict[str, tuple[int, Any]] = {}

    def keep(status: Any) -> None:
        current = seen.get(status["facility_id"])
        if current is None or current[0] < status["seq"]:
            seen[status["facility_id"]] = (status["seq"], status)

    async with websockets.connect(api_server.ws) as ws:
        for status in (await subscribe(ws, facilities=ids))["facilities"]:
            keep(status)
        await put_status(redis_client, settings, make_status(facilities[0], 2))
        keep((await recv(ws))["facility"])
    for seq in range(3, 23):  # 100 updates while disconnected
        for facility in facilities:
            await put_status(redis_client, settings, make_status(facility, seq, stale=seq % 2 == 0))
    await api_server.mirrored(dict.fromkeys(ids, 22))
    async with websockets.connect(api_server.ws) as ws:
        since = {fid: seq for fid, (seq, _) in seen.items()}
        for status in (await subscribe(ws, facilities=ids, since=since))["facilities"]:
            keep(status)
    stored = {
        fid: orjson.loads(await redis_client.hget(settings.key("facility", fid), "json") or b"")
        for fid in ids
    }
    assert {fid: status for fid, (_, status) in seen.items()} == stored


async def test_graceful_shutdown_closes_1001(settings: Settings, db: Settings) -> None:
    """Stopping the server closes live sockets with 1001 (going away)."""
    server = InProcessServer(create_app(fast_hub(settings)), settings)
    await server.start()
    async with websockets.connect(server.ws) as ws:
        await subscribe(ws, filter={"type": "pool"})
        stopping = asyncio.create_task(server.stop())
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                await recv(ws)
        await stopping
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001


async def test_dead_peer_is_reaped(api_server: InProcessServer) -> None:
    """A peer that never answers pings is dropped after dead_after (5 s in tests)."""
    host, port = "127.0.0.1", api_server.port
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(
        b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    assert (await reader.readuntil(b"\r\n\r\n")).startswith(b"HTTP/1.1 101")
    writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 0)
    data = b""
    while True:  # read heartbeats and pings, never answer
        chunk = await asyncio.wait_for(reader.read(65536), timeout=10)
        if not chunk:
            break
        data += chunk
    assert b"\x88" in data  # a close frame came before EOF
    writer.close()


def test_client_address_shim_uses_uvicorn_trusted_hosts() -> None:
    """The per-address cap counts the address uvicorn gives HTTP routes: the shim over uvicorn's
    internal ``uvicorn.middleware.proxy_headers._TrustedHosts`` trusts X-Forwarded-For only from
    --forwarded-allow-ips, taking the rightmost untrusted hop."""
    from uvicorn import Config
    from uvicorn.middleware.proxy_headers import _TrustedHosts

    from api.live_ws import client_address

    assert hasattr(_TrustedHosts, "get_trusted_client_address")
    config = Config(app=None, forwarded_allow_ips="127.0.0.1,10.0.0.0/8")
    assert client_address(config, "127.0.0.1", None) == "127.0.0.1"
    assert client_address(config, "127.0.0.1", "198.51.100.4, 10.1.2.3") == "198.51.100.4"
    assert client_address(config, "203.0.113.9", "198.51.100.4") == "203.0.113.9"
    untrusting = Config(app=None, proxy_headers=False)
    assert client_address(untrusting, "127.0.0.1", "198.51.100.4") == "127.0.0.1"
