"""The live hub: who is subscribed to what, and the fan-out of each status change.

Pure-ish core, thin shells. This module does no network I/O: it keeps

* a **mirror** of the latest status of every facility (≈ 1,200 × ~1.5 KB per process), fed by the
  one Redis pub/sub subscription of the process (:mod:`api.feed`), so a snapshot or a resume is a
  dictionary lookup, never a Redis round trip per client;
* the **subscription indexes** (facility id → subscribers, ``(type, arrondissement)`` filter →
  subscribers);
* per subscriber, an **outbox** keyed by facility id. Fan-out of a batch of updates puts each update
  in the outbox of its subscribers, then flushes every touched subscriber with ONE write. A slow
  subscriber (its transport paused writing) keeps its outbox: a newer status of a facility replaces
  the older one, so the memory it holds is bounded by the facilities it follows (entries are
  references to the shared :class:`Update`), and it is closed if it stays stuck.
  A snapshot asked for while paused is not written either: the subscription is recorded, the
  facilities due in a snapshot are remembered (``snapshot_due``), and ONE snapshot of their then
  current status goes out when the transport drains — however many subscribes came meanwhile.

Each update is encoded once: the pub/sub message bytes are the FacilityStatus JSON; the ``update``
message is built by byte concatenation and the WebSocket frame serialised once, then the same bytes
object is written to every subscriber.

The shells implement :class:`Subscriber`'s I/O methods: :mod:`api.live_ws` (WebSocket on the uvicorn
transport) and :mod:`api.routes.live` (Server-Sent Events).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import orjson
from websockets.frames import Frame, Opcode

from schemas.errors import InvalidClientMessage
from schemas.ws import (
    SubscribeMessage,
    UnsubscribeMessage,
    parse_client_message,
    snapshot_frame,
    update_frame,
)

__all__ = ["Hub", "HubLimits", "MessageBudget", "Subscriber", "Update", "ws_frame"]

# Close codes (RFC 6455 §7.4.1 and the IANA registry).
_K = TypeVar("_K")

GOING_AWAY = 1001
POLICY_VIOLATION = 1008
MESSAGE_TOO_BIG = 1009
TRY_AGAIN_LATER = 1013

FilterKey = tuple[str | None, int | None]


def ws_frame(payload: bytes) -> bytes:
    """A complete unmasked server text frame (no extension: permessage-deflate is off)."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


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


@dataclass(frozen=True, slots=True)
class HubLimits:
    """The policies of the hub; every figure is per subscriber unless said otherwise."""

    max_facilities: int = 2000
    """Facility ids one connection may follow (every subscribe message counts)."""
    max_filters: int = 20
    """Filter subscriptions one connection may hold."""
    max_strikes: int = 5
    """Refused frames before the connection is closed with 1008."""
    slow_timeout: float = 10.0
    """Seconds a subscriber may stay unable to take data before it is closed with 1013."""
    heartbeat_interval: float = 15.0
    """Seconds between heartbeats (and WebSocket pings)."""
    dead_after: float = 45.0
    """Seconds without any byte from a WebSocket peer (pongs included) before it is dropped."""


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

    def terminate(self, code: int, reason: str) -> None:
        """Close the connection with a close code; the shell then calls :meth:`Hub.detach`."""
        raise NotImplementedError

    # --- flow control, called by the shells --------------------------------------------------
    def pause(self) -> None:
        """The transport's buffer is full: keep updates in the (collapsing) outbox."""
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
                self.hub._send_snapshot(self, chosen)
            self.flush()

    def flush(self) -> None:
        """Write the outbox if the transport can take it."""
        if self.paused_since is not None or self.closed or not self.outbox:
            return
        updates = list(self.outbox.values())
        self.outbox.clear()
        self.write_updates(updates)


class Hub:
    """Subscriptions, the status mirror and the fan-out policy of one API process."""

    def __init__(
        self,
        *,
        known_facility: Callable[[str], bool] = lambda _id: True,
        limits: HubLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.known_facility = known_facility
        self.limits = limits or HubLimits()
        self.clock = clock
        self.latest: dict[str, Update] = {}
        self.by_id: dict[str, set[Subscriber]] = {}
        self.by_filter: dict[FilterKey, set[Subscriber]] = {}
        self.subscribers: set[Subscriber] = set()
        self.paused: set[Subscriber] = set()
        self.updates_in = 0
        self.frames_out = 0
        self.closed_slow = 0
        self.closed_abuse = 0
        self.closed_dead = 0
        self._next_heartbeat = 0.0

    # --- membership -----------------------------------------------------------------------------
    def attach(self, sub: Subscriber) -> None:
        """A new connection (subscribed to nothing yet)."""
        self.subscribers.add(sub)

    def detach(self, sub: Subscriber) -> None:
        """The connection is gone: forget it everywhere."""
        sub.closed = True
        self.subscribers.discard(sub)
        self.paused.discard(sub)
        for facility_id in sub.ids:
            self._discard(self.by_id, facility_id, sub)
        for key in sub.filters:
            self._discard(self.by_filter, key, sub)
        sub.ids.clear()
        sub.filters.clear()
        sub.outbox.clear()
        sub.snapshot_due = None

    @staticmethod
    def _discard(index: dict[_K, set[Subscriber]], key: _K, sub: Subscriber) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(sub)
            if not members:
                del index[key]

    # --- client messages ------------------------------------------------------------------------
    def handle_text(self, sub: Subscriber, raw: bytes | str) -> None:
        """One client text frame: subscribe, unsubscribe, or an error frame (strikes → 1008)."""
        try:
            message = parse_client_message(raw)
        except InvalidClientMessage as exc:
            self.refuse(sub, exc.code, exc.message)
            return
        if isinstance(message, UnsubscribeMessage):
            self.unsubscribe(sub, message.facilities)
        else:
            self.subscribe(sub, message)

    def refuse(self, sub: Subscriber, code: str, message: str) -> None:
        """Send an error frame; close with 1008 once the client keeps misbehaving."""
        sub.strikes += 1
        self.send_error(sub, code, message)
        if sub.strikes >= self.limits.max_strikes and not sub.closed:
            self.closed_abuse += 1
            sub.terminate(
                POLICY_VIOLATION, "trop de messages invalides / too many invalid messages"
            )

    @staticmethod
    def send_error(sub: Subscriber, code: str, message: str) -> None:
        sub.send_message(orjson.dumps({"op": "error", "code": code, "message": message}), "error")

    def subscribe(self, sub: Subscriber, message: SubscribeMessage) -> None:
        """Register a subscription and send its snapshot (only newer than ``since``).

        While the subscriber is paused the snapshot is owed, not written (see :meth:`_snapshot`).
        """
        if sub.closed:
            return
        since = message.since or {}
        if message.filter is not None:
            key: FilterKey = (message.filter.type, message.filter.arrondissement)
            if key not in sub.filters and len(sub.filters) >= self.limits.max_filters:
                self.refuse(
                    sub,
                    "too_many_subscriptions",
                    f"au plus {self.limits.max_filters} filtres par connexion / "
                    f"at most {self.limits.max_filters} filters per connection",
                )
                return
            sub.filters.add(key)
            self.by_filter.setdefault(key, set()).add(sub)
            chosen = [u for u in self.latest.values() if _matches(u, key)]
        else:
            wanted = list(dict.fromkeys(message.facilities or ()))
            unknown = [f for f in wanted if f not in self.latest and not self.known_facility(f)]
            wanted = [f for f in wanted if f not in unknown]
            fresh = [f for f in wanted if f not in sub.ids]
            if len(sub.ids) + len(fresh) > self.limits.max_facilities:
                self.refuse(
                    sub,
                    "too_many_subscriptions",
                    f"au plus {self.limits.max_facilities} équipements par connexion / "
                    f"at most {self.limits.max_facilities} facilities per connection",
                )
                return
            if unknown:
                shown = ", ".join(unknown[:10])
                self.send_error(
                    sub,
                    "unknown_facility",
                    f"Équipement inconnu : {shown} / Unknown facility: {shown}",
                )
            for facility_id in fresh:
                sub.ids.add(facility_id)
                self.by_id.setdefault(facility_id, set()).add(sub)
            chosen = [u for f in wanted if (u := self.latest.get(f)) is not None]
        self._snapshot(sub, [(u, since.get(u.facility_id, -1)) for u in chosen])

    def unsubscribe(self, sub: Subscriber, facilities: list[str] | None) -> None:
        """Stop following some facilities, or everything (``facilities`` None)."""
        if facilities is None:
            for facility_id in sub.ids:
                self._discard(self.by_id, facility_id, sub)
            for key in sub.filters:
                self._discard(self.by_filter, key, sub)
            sub.ids.clear()
            sub.filters.clear()
            sub.outbox.clear()
            if sub.snapshot_due is not None:
                sub.snapshot_due = {}
            return
        for facility_id in facilities:
            if facility_id in sub.ids:
                sub.ids.discard(facility_id)
                self._discard(self.by_id, facility_id, sub)
                sub.outbox.pop(facility_id, None)
                if sub.snapshot_due is not None:
                    sub.snapshot_due.pop(facility_id, None)

    def _snapshot(self, sub: Subscriber, chosen: list[tuple[Update, int]]) -> None:
        """Send a snapshot of ``(update, since)`` pairs now, or owe it if the subscriber is paused.

        Owed snapshots merge (the lowest ``since`` per facility wins), so a client that keeps
        subscribing while it does not read holds at most one entry per facility it follows.
        """
        if sub.paused_since is None:
            self._send_snapshot(sub, [u for u, since in chosen if since < u.seq])
            return
        due = sub.snapshot_due if sub.snapshot_due is not None else {}
        for update, since in chosen:
            kept = due.get(update.facility_id)
            due[update.facility_id] = since if kept is None else min(kept, since)
        sub.snapshot_due = due

    def _send_snapshot(self, sub: Subscriber, chosen: list[Update]) -> None:
        for update in chosen:  # the snapshot supersedes what was waiting for these facilities
            pending = sub.outbox.get(update.facility_id)
            if pending is not None and pending.seq <= update.seq:
                del sub.outbox[update.facility_id]
        sub.send_message(snapshot_frame([u.status for u in chosen]), "snapshot")

    def snapshot_of(self, sub: Subscriber) -> list[Update]:
        """Everything a subscriber follows, as currently mirrored."""
        chosen = {f: u for f in sub.ids if (u := self.latest.get(f)) is not None}
        for key in sub.filters:
            for update in self.latest.values():
                if _matches(update, key):
                    chosen[update.facility_id] = update
        return list(chosen.values())

    # --- the feed -------------------------------------------------------------------------------
    def forget(self) -> None:
        """Drop the mirror (the feed lost its subscription: the store is the truth again)."""
        self.latest = {}

    def load(self, raws: Iterable[bytes]) -> int:
        """Seed the mirror from the store; the newest ``seq`` wins over what pub/sub brought."""
        loaded = 0
        for raw in raws:
            update = Update.decode(raw)
            if update is None:
                continue
            loaded += 1
            kept = self.latest.get(update.facility_id)
            if kept is None or kept.seq < update.seq:
                self.latest[update.facility_id] = update
        return loaded

    def dispatch(self, raws: Iterable[bytes]) -> int:
        """Fan a batch of pub/sub messages out; returns the number of frames queued or written.

        A batch is cut into runs of distinct facilities: each run is written with one write per
        subscriber, so a client that keeps up receives every change (only a paused client's
        outbox collapses to the latest status per facility).
        """
        touched: list[Subscriber] = []
        in_run: set[str] = set()
        delivered = 0
        latest = self.latest
        by_id = self.by_id
        by_filter = self.by_filter
        for raw in raws:
            update = Update.decode(raw)
            if update is None:
                continue
            facility_id = update.facility_id
            kept = latest.get(facility_id)
            if kept is not None and kept.seq >= update.seq:
                continue  # replayed or already loaded
            if facility_id in in_run:
                for sub in touched:
                    sub.flush()
                touched.clear()
                in_run.clear()
            in_run.add(facility_id)
            latest[facility_id] = update
            self.updates_in += 1
            groups = [by_id.get(facility_id)]
            if by_filter:
                t, a = update.type, update.arrondissement
                groups += [
                    by_filter.get((t, a)),
                    by_filter.get((t, None)),
                    by_filter.get((None, a)),
                ]
            for group in groups:
                if not group:
                    continue
                for sub in group:
                    outbox = sub.outbox
                    if not outbox:
                        touched.append(sub)
                    outbox[facility_id] = update
                    delivered += 1
        for sub in touched:
            sub.flush()
        self.frames_out += delivered
        return delivered

    def resnapshot_all(self) -> None:
        """After the feed reconnected: every subscriber gets a fresh snapshot of what it follows."""
        for sub in list(self.subscribers):
            if sub.closed or not (sub.ids or sub.filters):
                continue
            sub.outbox.clear()
            self._snapshot(sub, [(u, -1) for u in self.snapshot_of(sub)])

    # --- time -----------------------------------------------------------------------------------
    def tick(self) -> None:
        """Called about every second: close stuck and dead peers, heartbeat every interval."""
        now = self.clock()
        limits = self.limits
        for sub in [s for s in self.paused if now - (s.paused_since or now) > limits.slow_timeout]:
            self.closed_slow += 1
            sub.outbox.clear()
            sub.snapshot_due = None
            self.send_error(
                sub,
                "too_slow",
                "connexion trop lente, reconnectez-vous / connection too slow, please reconnect",
            )
            sub.terminate(TRY_AGAIN_LATER, "trop lent / too slow")
        if now < self._next_heartbeat:
            return
        self._next_heartbeat = now + limits.heartbeat_interval
        at = datetime.now(UTC).isoformat(timespec="seconds")
        payload = b'{"op":"heartbeat","at":"' + at.encode() + b'"}'
        for sub in list(self.subscribers):
            if sub.closed:
                continue
            if now - sub.last_seen > limits.dead_after:
                self.closed_dead += 1
                sub.terminate(GOING_AWAY, "pas de réponse / no pong")
            elif sub.paused_since is None:
                sub.send_heartbeat(payload)


def _matches(update: Update, key: FilterKey) -> bool:
    type_, arrondissement = key
    return (type_ is None or update.type == type_) and (
        arrondissement is None or update.arrondissement == arrondissement
    )
