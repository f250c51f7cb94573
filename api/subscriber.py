"""One live connection as the hub sees it: its outbox, its flow control, and what it is sent.

Per subscriber, an **outbox** keyed by facility id. Fan-out of a batch of updates (:mod:`api.hub`)
puts each update in the outbox of its subscribers, then flushes every touched subscriber with ONE
write. A slow subscriber (its transport paused writing) keeps its outbox: a newer status of a
facility replaces the older one, so the memory it holds is bounded by the facilities it follows
(entries are references to the shared :class:`Update`), and it is closed if it stays stuck.
A snapshot asked for while paused is not written either: the subscription is recorded, the
facilities due in a snapshot are remembered (``snapshot_due``), and ONE snapshot of their then
current status goes out when the transport drains — however many subscribes came meanwhile.

Each update is encoded once: the pub/sub message bytes are the FacilityStatus JSON; the ``update``
message is built by byte concatenation and the WebSocket frame serialised once, then the same bytes
object is written to every subscriber — through :attr:`Subscriber.direct` (the transport's own
``write``) for a writable one with nothing pending, so one update to 10,000 clients is 10,000
C calls, no per-client Python frame beyond the loop.

The shells implement :class:`Subscriber`'s I/O methods: :mod:`api.live_ws` (WebSocket on the uvicorn
transport) and :mod:`api.routes.live` (Server-Sent Events).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from websockets.frames import Frame, Opcode

from schemas.ws import update_frame

if TYPE_CHECKING:
    from api.hub import Hub

__all__ = [
    "GOING_AWAY",
    "MESSAGE_TOO_BIG",
    "PING_FRAME",
    "POLICY_VIOLATION",
    "TRY_AGAIN_LATER",
    "FilterKey",
    "MessageBudget",
    "Subscriber",
    "Update",
    "ws_frame",
]

# Close codes (RFC 6455 §7.4.1 and the IANA registry).
GOING_AWAY = 1001
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013

FilterKey = tuple[str | None, int | None]
"""A filter subscription: ``(type, arrondissement)``, None matching any."""


def ws_frame(payload: bytes) -> bytes:
    """A complete unmasked server text frame (no extension: permessage-deflate is off).

    The header is built here (RFC 6455 §5.2: FIN + text opcode, then a 7-, 16- or 64-bit length)
    rather than through :class:`websockets.frames.Frame`, which validates and copies: this runs
    once per status change. ``tests/api/test_collapse_live_ws.py`` checks it against websockets.
    """
    n = len(payload)
    if n < 126:
        head = bytes((0x81, n))
    elif n < 65536:
        head = b"\x81\x7e" + n.to_bytes(2, "big")
    else:
        head = b"\x81\x7f" + n.to_bytes(8, "big")
    return head + payload


PING_FRAME = Frame(Opcode.PING, b"").serialize(mask=False)


class Update:
    """One status change, shared by every subscriber it goes to (encoded once)."""

    __slots__ = ("arrondissement", "facility_id", "payload", "seq", "status", "type", "ws_frame")

    def __init__(
        self,
        facility_id: str,
        seq: int,
        type_: str | None,
        arrondissement: int | None,
        status: bytes,
    ) -> None:
        self.facility_id = facility_id
        self.seq = seq
        self.type = type_
        self.arrondissement = arrondissement
        self.status = status
        self.payload = update_frame(status)
        self.ws_frame = ws_frame(self.payload)

    @property
    def event_id(self) -> str:
        """The Server-Sent Events id: ``facility_id:seq``."""
        return f"{self.facility_id}:{self.seq}"

    @classmethod
    def decode(cls, raw: bytes) -> Update | None:
        """The update carried by a pub/sub message (a FacilityStatus JSON), None if unusable.

        Only the routing fields are read: the writers validated the status against the contract.
        """
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(doc, dict):
            return None
        facility_id, seq = doc.get("facility_id"), doc.get("seq")
        if not isinstance(facility_id, str) or type(seq) is not int:
            return None
        type_ = doc.get("type")
        arrondissement = doc.get("arrondissement")
        return cls(
            facility_id,
            seq,
            type_ if isinstance(type_, str) else None,
            arrondissement if type(arrondissement) is int else None,
            bytes(raw),
        )


class MessageBudget:
    """A token bucket: ``burst`` messages at once, then ``rate`` per second (one per connection)."""

    __slots__ = ("at", "burst", "rate", "tokens")

    def __init__(self, rate: float, burst: int, now: float) -> None:
        self.rate = rate
        self.burst = float(burst)
        self.tokens = float(burst)
        self.at = now

    def take(self, now: float) -> bool:
        """Spend one message if the budget allows it."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


class Subscriber:
    """One live connection as the hub sees it. Shells override the four I/O methods."""

    __slots__ = (
        "__weakref__",
        "closed",
        "direct",
        "filters",
        "hub",
        "ids",
        "last_seen",
        "outbox",
        "paused_since",
        "snapshot_due",
        "strikes",
    )

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.ids: set[str] = set()
        self.filters: set[FilterKey] = set()
        self.outbox: dict[str, Update] = {}
        self.paused_since: float | None = None
        self.snapshot_due: dict[str, int] | None = None
        """While paused: facility id → ``since`` of the snapshot owed at the drain (None: none)."""
        self.strikes = 0
        self.closed = False
        self.last_seen = hub.clock()
        self.direct: Callable[[bytes], object] | None = None
        """Writes one pre-serialised frame straight to the transport — set by the shell while the
        connection is open and writable with nothing pending (:meth:`writer`), None otherwise:
        the hub's fan-out then costs one call per client, no outbox, no task."""

    # --- I/O, implemented by the shells -------------------------------------------------------
    def write_updates(self, updates: list[Update]) -> None:
        """Write several updates at once (the transport is writable)."""
        raise NotImplementedError

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        """Write one server message (snapshot, heartbeat, error) now, whatever the backlog."""
        raise NotImplementedError

    def send_heartbeat(self, payload: bytes) -> None:
        """Write the heartbeat (and a ping where the protocol has one)."""
        self.send_message(payload, "heartbeat")

    def writer(self) -> Callable[[bytes], object] | None:
        """The transport's write for :attr:`direct`, when the shell has one (None: use the outbox
        and :meth:`write_updates`)."""
        return None

    def terminate(self, code: int, reason: str) -> None:
        """Close the connection with a close code; the shell then calls :meth:`Hub.detach`."""
        raise NotImplementedError

    # --- flow control, called by the shells --------------------------------------------------
    def pause(self) -> None:
        """The transport's buffer is full: keep updates in the (collapsing) outbox."""
        self.direct = None
        if self.paused_since is None:
            self.paused_since = self.hub.clock()
            self.hub.paused.add(self)

    def resume(self) -> None:
        """The transport drained: send the snapshot owed (one, collapsed), then what accumulated."""
        if self.paused_since is not None:
            self.paused_since = None
            self.hub.paused.discard(self)
            if self.snapshot_due is not None and not self.closed:
                due, self.snapshot_due = self.snapshot_due, None
                latest = self.hub.latest
                chosen = [
                    u for f, s in due.items() if (u := latest.get(f)) is not None and s < u.seq
                ]
                self.hub.send_snapshot(self, chosen)
            self.flush()
            if not self.closed:
                self.direct = self.writer()

    def flush(self) -> None:
        """Write the outbox if the transport can take it."""
        if self.paused_since is not None or self.closed or not self.outbox:
            return
        updates = list(self.outbox.values())
        self.outbox.clear()
        self.write_updates(updates)
