"""Overload at the per-client queue of ``/v1/live`` (issue 18): a client whose transport is full
keeps the newest status per facility, in order of first arrival, and gets them in one write when
it drains; a client that keeps up gets each update as one direct write. The real
:class:`~api.live_ws.LiveConnection` (websockets' sans-I/O handshake and frames) on a fake
transport, with a fake clock: no socket, no sleep."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode

from api.hub import Hub
from api.live_ws import LiveConnection, LiveEndpoint
from api.subscriber import ws_frame
from tests.api.api_testkit import make_status

HANDSHAKE = (
    b"GET /v1/live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeTransport:
    """Records every write; the test plays the kernel (pause_writing / resume_writing)."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.reading = True
        self.closing = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return ("127.0.0.1", 40000) if name == "peername" else default

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        pass

    def is_reading(self) -> bool:
        return self.reading

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def close(self) -> None:
        self.closing = True

    def abort(self) -> None:
        self.closing = True


def frames(data: bytes) -> list[Any]:
    """The JSON messages of the unmasked server text frames in ``data``."""
    out = []
    while data:
        length, start = data[1] & 0x7F, 2
        if length == 126:
            length, start = int.from_bytes(data[2:4]), 4
        elif length == 127:
            length, start = int.from_bytes(data[2:10]), 10
        if data[0] & 0x0F == 0x1:
            out.append(orjson.loads(data[start : start + length]))
        data = data[start + length :]
    return out


def open_client(hub: Hub, *facilities: str) -> tuple[LiveConnection, FakeTransport]:
    """A connection through the real handshake, subscribed, its snapshot read."""
    conn = LiveConnection(Config(app=None), ServerState(), {"live": LiveEndpoint(hub=hub)})
    transport = FakeTransport()
    conn.connection_made(transport)  # type: ignore[arg-type]
    conn.data_received(HANDSHAKE)
    assert transport.writes[0].startswith(b"HTTP/1.1 101")
    subscribe = orjson.dumps({"op": "subscribe", "facilities": list(facilities)})
    conn.data_received(Frame(Opcode.TEXT, subscribe).serialize(mask=True))
    assert frames(transport.writes[-1])[0]["op"] == "snapshot"
    transport.writes.clear()
    return conn, transport


def updates(data: bytes) -> list[tuple[str, int]]:
    return [(m["facility"]["facility_id"], m["facility"]["seq"]) for m in frames(data)]


def test_client_that_keeps_up_gets_each_update_as_one_write() -> None:
    """One update to 50 clients that keep up is one write per client: the shared frame bytes."""
    hub = Hub(clock=FakeClock())
    clients = [open_client(hub, "pool-a") for _ in range(50)]
    hub.dispatch([make_status("pool-a", 1)])
    frame = hub.latest["pool-a"].ws_frame
    for _, transport in clients:
        assert transport.writes == [frame]
    assert hub.frames_out == 50


def test_full_transport_collapses_to_latest_per_facility_in_first_arrival_order() -> None:
    """While the transport is above its high-water mark nothing is written; on drain ONE write
    carries the newest of each facility, in the order each first arrived."""
    hub = Hub(clock=FakeClock())
    conn, transport = open_client(hub, "pool-a", "pool-b", "pool-c")
    conn.pause_writing()
    for seq in range(1, 11):
        hub.dispatch([make_status("pool-b", seq)])
        hub.dispatch([make_status("pool-a", seq), make_status("pool-c", seq)])
    assert transport.writes == []
    assert not transport.reading  # a client that does not read is not read either
    conn.resume_writing()
    assert len(transport.writes) == 1
    assert updates(transport.writes[0]) == [("pool-b", 10), ("pool-a", 10), ("pool-c", 10)]
    assert transport.reading
    hub.dispatch([make_status("pool-a", 11)])  # back to direct writes
    assert updates(transport.writes[-1]) == [("pool-a", 11)]


def test_error_frames_are_not_collapsed() -> None:
    """Error frames keep their own semantics: each is answered at once, even while updates are
    held for a full transport."""
    hub = Hub(clock=FakeClock())
    conn, transport = open_client(hub, "pool-a")
    conn.pause_writing()
    hub.dispatch([make_status("pool-a", 1)])
    conn.data_received(Frame(Opcode.TEXT, b"{nope").serialize(mask=True))
    conn.data_received(Frame(Opcode.TEXT, b'{"op": "dance"}').serialize(mask=True))
    assert [m["code"] for w in transport.writes for m in frames(w)] == ["bad_json", "unknown_op"]
    conn.resume_writing()
    assert updates(transport.writes[-1]) == [("pool-a", 1)]


def test_closed_connection_gets_no_direct_write() -> None:
    """Once the connection is gone the fan-out no longer writes to it."""
    hub = Hub(clock=FakeClock())
    conn, transport = open_client(hub, "pool-a")
    conn.connection_lost(None)
    hub.dispatch([make_status("pool-a", 1)])
    assert transport.writes == []
    assert conn.direct is None


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 200_000])
def test_frame_header_matches_websockets(size: int) -> None:
    """The hand-built text frame header is byte for byte websockets' own."""
    payload = b"x" * size
    assert ws_frame(payload) == Frame(Opcode.TEXT, payload).serialize(mask=False)
