"""The fan-out on the wire (issue 18): one ``transport.write`` per client per batch, and one
update's frame built once and handed as the same bytes to every viewer. The real
:class:`~api.live_ws.LiveConnection` (websockets' sans-I/O handshake) on recording transports: no
socket, no sleep."""

from __future__ import annotations

from typing import Any

import orjson
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from api.hub import Hub
from api.live_ws import LiveConnection, LiveEndpoint
from tests.api.api_testkit import frame_updates, make_status

HANDSHAKE = (
    b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class Transport:
    """Keeps every object given to ``write`` as it is (no copy), so identity can be checked."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass


def connect(hub: Hub, message: dict[str, Any]) -> Transport:
    conn = LiveConnection(Config(app=None), ServerState(), {"live": LiveEndpoint(hub=hub)})
    transport = Transport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    conn.data_received(HANDSHAKE)
    subscribe = orjson.dumps({"op": "subscribe", **message})
    conn.data_received(Frame(Opcode.TEXT, subscribe).serialize(mask=True))
    transport.writes.clear()  # the handshake response and the snapshot
    return transport


def pool(facility_id: str, seq: int) -> bytes:
    return make_status(facility_id, seq, type="pool", arrondissement=15)


def test_one_write_per_client_per_batch_whatever_it_follows() -> None:
    """A backlogged batch (a, b, a, c): a viewer of a, a filter client and an operations client
    following a and b by id each get exactly one write, with the newest of what they follow in
    first-arrival order."""
    hub = Hub()
    viewer = connect(hub, {"facilities": ["pool-a"]})
    district = connect(hub, {"filter": {"arrondissement": 15}})
    operations = connect(hub, {"facilities": ["pool-a", "pool-b"]})
    hub.dispatch([pool("pool-a", 1), pool("pool-b", 1), pool("pool-a", 2), pool("pool-c", 1)])
    assert [frame_updates(w) for w in viewer.writes] == [[("pool-a", 2)]]
    assert [frame_updates(w) for w in district.writes] == [
        [("pool-a", 2), ("pool-b", 1), ("pool-c", 1)]
    ]
    assert [frame_updates(w) for w in operations.writes] == [[("pool-a", 2), ("pool-b", 1)]]


def test_one_update_is_the_same_bytes_for_every_viewer() -> None:
    """The frame of one update is built once: every viewer's transport is handed the very same
    bytes object, and a filter's clients share one joined write of a batch."""
    hub = Hub()
    viewers = [connect(hub, {"facilities": ["pool-a"]}) for _ in range(3)]
    district = [connect(hub, {"filter": {"type": "pool"}}) for _ in range(3)]
    hub.dispatch([pool("pool-a", 1)])
    hub.dispatch([pool("pool-b", 1), pool("pool-c", 1)])
    frames = [t.writes[0] for t in viewers]
    assert all(f is frames[0] for f in frames)
    assert [frame_updates(w) for w in viewers[0].writes] == [[("pool-a", 1)]]
    joined = [t.writes[1] for t in district]
    assert all(j is joined[0] for j in joined)
    assert frame_updates(joined[0]) == [("pool-b", 1), ("pool-c", 1)]


def test_a_subscribe_sent_right_behind_the_handshake_is_served() -> None:
    """A client that sends its subscribe in the same packet as its upgrade request gets the
    101, then its snapshot, then the updates (the frame was dropped before)."""
    hub = Hub()
    hub.dispatch([pool("pool-a", 1)])
    conn = LiveConnection(Config(app=None), ServerState(), {"live": LiveEndpoint(hub=hub)})
    transport = Transport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    subscribe = orjson.dumps({"op": "subscribe", "facilities": ["pool-a"]})
    conn.data_received(HANDSHAKE + Frame(Opcode.TEXT, subscribe).serialize(mask=True))
    hub.dispatch([pool("pool-a", 2)])
    response, snapshot, update = transport.writes
    assert response.startswith(b"HTTP/1.1 101 ")
    assert orjson.loads(snapshot[2:] if snapshot[1] < 126 else snapshot[4:])["op"] == "snapshot"
    assert frame_updates(update) == [("pool-a", 2)]
