"""``/v1/live`` on the wire: a uvicorn WebSocket implementation built on websockets' sans-I/O core.

(What this relies on in uvicorn beyond its documented API is named in :mod:`api.uvicorn_shim`.)

Why not Starlette's ``WebSocket`` under uvicorn? Every ASGI WebSocket holds a running task (the
endpoint coroutine and its frames), a receive queue, the ASGI scope, and every send goes through
``await websocket.send_text`` — one coroutine step per client per update. At 10,000 screens that is
tens of KiB per idle socket and a fan-out bounded by the event loop's task switching
(``bench/fanout.py`` measures both). Here one object per connection — :class:`LiveConnection`, an
``asyncio.Protocol`` with ``__slots__`` that is also the hub's :class:`~api.subscriber.Subscriber`
— parses frames with :class:`websockets.server.ServerProtocol` (handshake, masking, UTF-8, close
handshake, ``max_size`` → 1009) and writes the hub's pre-serialised frames straight to the
transport. No task, no queue, no per-client encoding.

uvicorn still owns the port and HTTP: its HTTP protocol hands every ``Upgrade: websocket`` request
to this class (``uvicorn.Config(ws=LiveConnection)``, see :func:`api.server.uvicorn_config`), the
lifespan state gives it the process's hub, and uvicorn's graceful shutdown calls
:meth:`LiveConnection.shutdown`, which closes with 1001. permessage-deflate is not offered.

Against hostile clients (:class:`LivePolicy`, settings ``PARIS_LIVE_HUB_WS_*``):

* **Back-pressure both ways.** When the transport's buffer passes the high-water mark, the hub
  stops writing updates and snapshots to it (they collapse, see :mod:`api.subscriber`) *and* the
  connection stops reading from it: a client that does not read cannot make the server work or
  buffer for it (pongs to a ping flood included). ``TCP_NOTSENT_LOWAT`` keeps the kernel from
  queueing megabytes ahead of that point, so a slow client's backlog is the hub's collapsing
  outbox (the newest status per facility, in order of first arrival), not a FIFO of late frames. TCP pushes back on the client; if it stays stuck
  it is closed with 1013 (``hub_slow_timeout``).
* **A message budget per connection**: ``message_burst`` messages at once, then
  ``message_rate`` per second. A message past it is answered ``{"op": "error", "code":
  "rate_limited", ...}`` and counts as a strike; strikes close with 1008.
* **Sockets per client address**, per API process: past ``max_per_address`` the handshake is
  refused with HTTP 429 and ``Retry-After`` (no WebSocket is opened, nothing is attached). The
  address is the TCP peer, or the ``X-Forwarded-For`` client when the peer is a proxy uvicorn
  trusts (``--forwarded-allow-ips``), the same address uvicorn gives HTTP routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, cast

import orjson
from uvicorn.config import Config
from uvicorn.server import ServerState
from websockets.frames import Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import CONNECTING, OPEN
from websockets.server import ServerProtocol

from api.hub import Hub
from api.i18n import bilingual
from api.subscriber import GOING_AWAY, PING_FRAME, MessageBudget, Subscriber, Update, ws_frame
from api.uvicorn_shim import trusted_hosts
from api.websockets_shim import release_parser

__all__ = ["LIVE_PATH", "LiveConnection", "LiveEndpoint", "LiveGuard", "LivePolicy"]

LIVE_PATH = "/v1/live"
CLOSE_TIMEOUT = 2.0
logger = logging.getLogger("paris_live.api.live")


@dataclass(frozen=True, slots=True)
class LiveEndpoint:
    """What a connection needs from the application (put in the lifespan state as ``live``)."""

    hub: Hub
    allowed_origins: tuple[str, ...] = ("*",)
    max_message_bytes: int = 64 * 1024
    write_buffer_high: int = 64 * 1024
    """Bytes the transport buffers before the hub holds this client's updates (they collapse)."""
    notsent_lowat: int = 16 * 1024
    """``TCP_NOTSENT_LOWAT``: unsent bytes the kernel takes for this socket before the transport
    buffers (and past ``write_buffer_high``, pauses). Without it the kernel would queue up to
    ``tcp_wmem`` (4 MiB) of frames for a slow client, a FIFO the hub cannot collapse: every frame
    late instead of fewer fresh ones. Bytes already in flight are not limited by it."""

    def origin_allowed(self, origin: str | None) -> bool:
        """Browsers send ``Origin``; other clients (screens, scripts) may not, and are allowed."""
        return origin is None or "*" in self.allowed_origins or origin in self.allowed_origins


@dataclass(frozen=True, slots=True)
class LivePolicy:
    """Limits against hostile clients (``PARIS_LIVE_HUB_WS_*``)."""

    max_per_address: int = 256
    """Open sockets per client address in one API process; past it the handshake answers 429."""
    message_rate: float = 2.0
    """Client messages per second one socket may send, sustained."""
    message_burst: int = 20
    """Client messages one socket may send at once."""
    retry_after: int = 10
    """Seconds announced in ``Retry-After`` when a handshake is refused."""


@dataclass
class LiveGuard:
    """The policy, and the sockets open per client address in this process (one per server)."""

    policy: LivePolicy = field(default_factory=LivePolicy)
    open: dict[str, int] = field(default_factory=dict)

    def admit(self, address: str) -> bool:
        """Count one more socket for this address, unless it is at the cap."""
        count = self.open.get(address, 0)
        if count >= self.policy.max_per_address:
            return False
        self.open[address] = count + 1
        return True

    def release(self, address: str) -> None:
        """One socket of this address closed."""
        count = self.open.get(address, 0) - 1
        if count > 0:
            self.open[address] = count
        else:
            self.open.pop(address, None)

    def protocol(self) -> Callable[..., LiveConnection]:
        """What ``uvicorn.Config(ws=...)`` calls per upgrade (picklable for ``--workers``)."""
        return functools.partial(LiveConnection, guard=self)


def client_address(config: Config, peer: str, forwarded_for: str | None) -> str:
    """The client address uvicorn would give an HTTP route on this connection.

    Through uvicorn's internal ``_TrustedHosts`` (the class its ``ProxyHeadersMiddleware`` uses;
    see :mod:`api.uvicorn_shim`), so ``--forwarded-allow-ips`` means the same for ``/v1/live`` as
    for HTTP. Without ``proxy_headers``, the peer.
    """
    if not forwarded_for or not getattr(config, "proxy_headers", False):
        return peer
    raw = config.forwarded_allow_ips
    trusted = trusted_hosts(raw if isinstance(raw, str) else tuple(raw))
    if peer not in trusted:
        return peer
    host: str = trusted.get_trusted_client_address(forwarded_for[:2048])[0]
    return host or peer


def refusal(conn: ServerProtocol, status: int, code: str, message: str) -> Response:
    """A refused handshake in the API's one error shape: websockets' ``reject`` (status line,
    ``Date``, ``Connection: close``) with a JSON body instead of its plain text."""
    response = conn.reject(status, message)
    body = orjson.dumps({"error": {"code": code, "message": message}})
    del response.headers["Content-Type"]
    del response.headers["Content-Length"]
    response.headers["Content-Type"] = "application/json"
    response.headers["Content-Length"] = str(len(body))
    return replace(response, body=body)


_heartbeat_cache: tuple[bytes, bytes] = (b"", b"")


class LiveConnection(Subscriber, asyncio.Protocol):
    """One ``/v1/live`` connection: handshake, frames in, the hub's frames out."""

    __slots__ = (
        "address",
        "budget",
        "close_timer",
        "config",
        "conn",
        "connections",
        "endpoint",
        "fragments",
        "guard",
        "transport",
    )

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        guard: LiveGuard | None = None,
    ) -> None:
        endpoint: LiveEndpoint | None = app_state.get("live")
        self.endpoint = endpoint
        self.config = config
        self.guard = guard if guard is not None else LiveGuard()
        self.address: str | None = None  # set once admitted (counted in the guard)
        # uvicorn's set is typed for its own protocol classes; this one is tracked there too
        self.connections: set[Any] = cast(set[Any], server_state.connections)
        self.conn = ServerProtocol(
            max_size=endpoint.max_message_bytes if endpoint else 4096, logger=logger
        )
        self.transport: asyncio.Transport | None = None
        self.fragments: list[bytes] | None = None
        self.close_timer: asyncio.TimerHandle | None = None
        if endpoint is not None:
            Subscriber.__init__(self, endpoint.hub)
        else:  # lifespan did not run: answer 503 at the handshake
            Subscriber.__init__(self, Hub())
        policy = self.guard.policy
        self.budget = MessageBudget(policy.message_rate, policy.message_burst, self.hub.clock())

    # --- asyncio.Protocol ------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.connections.add(self)
        if self.endpoint is not None:
            self.transport.set_write_buffer_limits(high=self.endpoint.write_buffer_high)
            sock = self.transport.get_extra_info("socket")
            if sock is not None and hasattr(socket, "TCP_NOTSENT_LOWAT"):
                with contextlib.suppress(OSError):  # (not a TCP socket: a test's socketpair)
                    sock.setsockopt(
                        socket.IPPROTO_TCP, socket.TCP_NOTSENT_LOWAT, self.endpoint.notsent_lowat
                    )

    def data_received(self, data: bytes) -> None:
        self.last_seen = self.hub.clock()
        conn = self.conn
        conn.receive_data(data)
        events = conn.events_received()
        if conn.state is CONNECTING:
            if events and isinstance(events[0], Request):
                self._handshake(events[0])
            self._write_protocol_data()  # the response goes out before anything else
            if conn.state is not OPEN:
                return
            events = events[1:]  # frames a client sent right behind its request
        for event in events:
            if self.closed:  # frames pipelined after a close: nothing more to do for this peer
                break
            if isinstance(event, Frame):  # once open, the protocol only yields frames
                self._on_frame(event)
        self._write_protocol_data()

    def pause_writing(self) -> None:
        """Above the high-water mark: hold updates and snapshots, and stop reading this peer."""
        self.pause()
        transport = self.transport
        if transport is not None and not transport.is_closing() and transport.is_reading():
            transport.pause_reading()

    def resume_writing(self) -> None:
        transport = self.transport
        if transport is not None and not transport.is_closing() and not transport.is_reading():
            transport.resume_reading()
        self.resume()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.address is not None:
            self.guard.release(self.address)
            self.address = None
        self.hub.detach(self)
        self.connections.discard(self)
        if self.close_timer is not None:
            self.close_timer.cancel()
            self.close_timer = None
        self.transport = None
        release_parser(self.conn)  # freed by reference counting alone (api.websockets_shim)

    def eof_received(self) -> bool | None:
        self.conn.receive_eof()
        self._write_protocol_data()
        return None

    # --- uvicorn ---------------------------------------------------------------------------------
    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: close with 1001 (going away)."""
        if self.conn.state is OPEN:
            self.terminate(GOING_AWAY, bilingual("arrêt du serveur"))
        elif self.transport is not None:
            self.transport.close()

    # --- hub Subscriber --------------------------------------------------------------------------
    def writer(self) -> Callable[[bytes], object] | None:
        transport = self.transport
        if transport is None or transport.is_closing() or self.conn.state is not OPEN:
            return None
        return transport.write

    def write_updates(self, updates: list[Update]) -> None:
        transport = self.transport
        if transport is None or transport.is_closing():
            return
        if len(updates) == 1:
            transport.write(updates[0].ws_frame)
        else:
            transport.write(b"".join([u.ws_frame for u in updates]))

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        if self.transport is not None and not self.transport.is_closing() and not self.closed:
            self.transport.write(ws_frame(payload))

    def send_heartbeat(self, payload: bytes) -> None:
        global _heartbeat_cache
        if _heartbeat_cache[0] is not payload:
            _heartbeat_cache = (payload, ws_frame(payload) + PING_FRAME)
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_heartbeat_cache[1])

    def terminate(self, code: int, reason: str) -> None:
        if self.closed and self.close_timer is not None:
            return
        self.hub.detach(self)
        if self.conn.state is OPEN:
            self.conn.send_close(code, reason)
            self._write_protocol_data()
        if self.transport is not None and self.close_timer is None:
            loop = asyncio.get_running_loop()
            self.close_timer = loop.call_later(CLOSE_TIMEOUT, self._abort)

    # --- internals -------------------------------------------------------------------------------
    def _handshake(self, request: Request) -> None:
        endpoint = self.endpoint
        conn = self.conn
        path = request.path.split("?", 1)[0].rstrip("/")
        # get_all: a repeated header makes websockets' get() raise MultipleValuesError
        origins = request.headers.get_all("Origin")
        response: Response
        if endpoint is None:
            response = refusal(conn, 503, "unavailable", bilingual("Service indisponible"))
        elif path != LIVE_PATH:
            response = refusal(conn, 404, "not_found", bilingual("Introuvable"))
        elif len(origins) > 1:
            response = refusal(conn, 400, "bad_request", bilingual("En-tête Origin répété"))
        elif not endpoint.origin_allowed(origins[0] if origins else None):
            response = refusal(conn, 403, "origin_refused", bilingual("Origine non autorisée"))
        elif not self._admit(request):
            response = refusal(
                conn,
                429,
                "too_many_connections",
                bilingual("Trop de connexions depuis cette adresse"),
            )
            response.headers["Retry-After"] = str(self.guard.policy.retry_after)
        else:
            response = conn.accept(request)
        if response.status_code == 101:
            response.headers["X-Paris-Live-Worker"] = str(os.getpid())
        conn.send_response(response)
        if response.status_code == 101:
            self.hub.attach(self)
            self.direct = self.writer()

    def _admit(self, request: Request) -> bool:
        peer = self.transport.get_extra_info("peername") if self.transport is not None else None
        host = str(peer[0]) if isinstance(peer, tuple) and peer else "unknown"
        # repeated X-Forwarded-For lines are one list, joined as uvicorn joins them for HTTP
        forwarded = ", ".join(request.headers.get_all("X-Forwarded-For")) or None
        address = client_address(self.config, host, forwarded)
        if not self.guard.admit(address):
            logger.warning("live: refused a socket from %s (at the per-address cap)", address)
            return False
        self.address = address
        return True

    def _within_budget(self) -> bool:
        """Spend one client message; past the budget, an error frame (a strike)."""
        if self.budget.take(self.hub.clock()):
            return True
        self.hub.refuse(
            self,
            "rate_limited",
            bilingual("trop de messages, ralentissez"),
        )
        return False

    def _on_frame(self, frame: Frame) -> None:
        opcode = frame.opcode
        starts = opcode is Opcode.TEXT or opcode is Opcode.BINARY  # a message: it costs one
        if starts and not self._within_budget():
            self.fragments = None
            return
        payload = bytes(frame.data)  # websockets' reader gives bytes: no copy
        if opcode is Opcode.TEXT:
            if frame.fin:
                self.hub.handle_text(self, payload)
            else:
                self.fragments = [payload]
        elif opcode is Opcode.CONT and self.fragments is not None:
            self.fragments.append(payload)
            if frame.fin:
                data, self.fragments = b"".join(self.fragments), None
                self.hub.handle_text(self, data)
        elif opcode is Opcode.BINARY:
            self.hub.refuse(self, "invalid_message", bilingual("trames texte JSON uniquement"))
        elif opcode is Opcode.CLOSE:
            self.hub.detach(self)

    def _write_protocol_data(self) -> None:
        transport = self.transport
        if transport is None:
            return
        for chunk in self.conn.data_to_send():
            if chunk:
                transport.write(chunk)
            else:  # the protocol wants the TCP connection closed
                self.hub.detach(self)
                transport.close()
                return
        if self.conn.close_expected() and self.close_timer is None:
            self.hub.detach(self)
            self.close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT, self._abort)

    def _abort(self) -> None:
        self.close_timer = None
        if self.transport is not None:
            self.transport.abort()
