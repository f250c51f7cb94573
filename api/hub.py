"""The live hub: who is subscribed to what, and the fan-out of each status change.

Pure-ish core, thin shells. This module does no network I/O: it keeps

* a **mirror** of the latest status of every facility (≈ 1,200 × ~1.5 KB per process), fed by the
  one Redis pub/sub subscription of the process (:mod:`api.feed`), so a snapshot or a resume is a
  dictionary lookup, never a Redis round trip per client;
* the **subscription indexes** (facility id → subscribers, ``(type, arrondissement)`` filter →
  subscribers);
* per subscriber, a collapsing **outbox** (:mod:`api.subscriber`). Fan-out of a batch of updates
  keeps the newest of each facility (a batch holding two changes of one facility means the
  process fell behind), puts it in the outbox of its subscribers, then flushes every touched
  subscriber with ONE write.

Each update is encoded once (:class:`~api.subscriber.Update`: the complete WebSocket frame, header
and payload, since server frames are unmasked) and the same bytes object is written to every
subscriber. Who gets a facility's updates is precomputed (:class:`Audience`, rebuilt only when a
subscription changes), so a fan-out walks a tuple: no per-client set or dict work per frame for the
clients that follow one facility (``solo``, written straight to their transport), and one joined
write per batch for the others (``multi``: filters, several facilities).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import orjson

from api.i18n import bilingual
from api.subscriber import (
    GOING_AWAY,
    POLICY_VIOLATION,
    TRY_AGAIN_LATER,
    FilterKey,
    Subscriber,
    Update,
)
from schemas.errors import InvalidClientMessage
from schemas.ws import SubscribeMessage, UnsubscribeMessage, parse_client_message, snapshot_frame

__all__ = ["Audience", "Hub", "HubLimits"]

logger = logging.getLogger("paris_live.api.hub")

_K = TypeVar("_K")


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


class Audience:
    """Who gets one facility's updates, precomputed from the subscription indexes.

    ``solo``: subscribers that follow this facility only (by id, no filter) — never more than one
    frame per batch, so written straight to their transport. ``multi``: every other subscriber the
    update goes to, once each (by id and filters merged), in a stable order so that equal
    audiences compare equal: a batch whose updates all share one ``multi`` audience is joined
    once and written once per client.
    """

    __slots__ = ("arrondissement", "multi", "solo", "type")

    def __init__(
        self,
        type_: str | None,
        arrondissement: int | None,
        solo: tuple[Subscriber, ...],
        multi: tuple[Subscriber, ...],
    ) -> None:
        self.type = type_
        self.arrondissement = arrondissement
        self.solo = solo
        self.multi = multi


class Hub:
    """Subscriptions, the status mirror and the fan-out policy of one API process."""

    def __init__(
        self,
        *,
        known_facility: Callable[[str], bool] = lambda _id: True,
        limits: HubLimits | None = None,
        clock: Callable[[], float] = time.monotonic,
        procedure_facilities: Callable[[str], Sequence[str] | None] = lambda _id: None,
    ) -> None:
        self.known_facility = known_facility
        self.procedure_facilities = procedure_facilities
        """The facilities serving a démarche (None for an unknown one)."""
        self.limits = limits or HubLimits()
        self.clock = clock
        self.latest: dict[str, Update] = {}
        self.by_id: dict[str, set[Subscriber]] = {}
        self.by_filter: dict[FilterKey, set[Subscriber]] = {}
        self.subscribers: set[Subscriber] = set()
        self.paused: set[Subscriber] = set()
        self.audiences: dict[str, Audience] = {}
        """Facility id → its :class:`Audience`; an entry is dropped whenever a subscription that
        could change it does (all of them when a filter does), and rebuilt at the next update."""
        self.filter_audiences: dict[FilterKey, tuple[Subscriber, ...]] = {}
        """``(type, arrondissement)`` → the filter clients its facilities go to: the ``multi``
        part shared by every such facility that no multi client follows by id (built once per
        key, not once per facility; dropped with the audiences when a filter changes)."""
        self.updates_in = 0
        self.updates_collapsed = 0
        """Changes received and superseded by a newer one of the same batch (never sent)."""
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
        sub.direct = None
        self.subscribers.discard(sub)
        self.paused.discard(sub)
        self._leave_all(sub)
        sub.outbox.clear()
        sub.snapshot_due = None

    def _leave_all(self, sub: Subscriber) -> None:
        """Take ``sub`` out of every index (and the audiences it was in)."""
        self._changed(sub, sub.ids, filters=bool(sub.filters))
        for facility_id in sub.ids:
            self._discard(self.by_id, facility_id, sub)
        for key in sub.filters:
            self._discard(self.by_filter, key, sub)
        sub.ids.clear()
        sub.filters.clear()

    def _changed(self, sub: Subscriber, facility_ids: Iterable[str], *, filters: bool) -> None:
        """A subscription of ``sub`` changes: drop the audiences it may alter.

        A filter may match any facility: every audience goes. Otherwise the facilities named, and
        the one ``sub`` followed alone (it leaves that audience's ``solo`` part).
        """
        audiences = self.audiences
        if filters:
            audiences.clear()
            self.filter_audiences.clear()
            return
        for facility_id in facility_ids:
            audiences.pop(facility_id, None)
        if len(sub.ids) == 1 and not sub.filters:
            for facility_id in sub.ids:
                audiences.pop(facility_id, None)

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
            sub.terminate(POLICY_VIOLATION, bilingual("trop de messages invalides"))

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
                    bilingual(
                        "au plus %(most)s filtres par connexion", most=self.limits.max_filters
                    ),
                )
                return
            if key not in sub.filters:
                self._changed(sub, (), filters=True)
            sub.filters.add(key)
            self.by_filter.setdefault(key, set()).add(sub)
            chosen = [u for u in self.latest.values() if _matches(u, key)]
        else:
            named: Sequence[str] | None = message.facilities
            if message.procedure is not None:
                named = self.procedure_facilities(message.procedure)
                if named is None:
                    self.send_error(
                        sub,
                        "unknown_procedure",
                        bilingual(
                            "Démarche inconnue : %(procedure_id)s",
                            procedure_id=message.procedure,
                        ),
                    )
                    return
            wanted = list(dict.fromkeys(named or ()))
            unknown = [f for f in wanted if f not in self.latest and not self.known_facility(f)]
            wanted = [f for f in wanted if f not in unknown]
            fresh = [f for f in wanted if f not in sub.ids]
            if len(sub.ids) + len(fresh) > self.limits.max_facilities:
                self.refuse(
                    sub,
                    "too_many_subscriptions",
                    bilingual(
                        "au plus %(most)s équipements par connexion",
                        most=self.limits.max_facilities,
                    ),
                )
                return
            if unknown:
                shown = ", ".join(unknown[:10])
                self.send_error(
                    sub,
                    "unknown_facility",
                    bilingual("Équipement inconnu : %(facility_id)s", facility_id=shown),
                )
            if fresh:
                self._changed(sub, fresh, filters=False)
            for facility_id in fresh:
                sub.ids.add(facility_id)
                self.by_id.setdefault(facility_id, set()).add(sub)
            chosen = [u for f in wanted if (u := self.latest.get(f)) is not None]
        self._snapshot(sub, [(u, since.get(u.facility_id, -1)) for u in chosen])

    def unsubscribe(self, sub: Subscriber, facilities: list[str] | None) -> None:
        """Stop following some facilities, or everything (``facilities`` None)."""
        if facilities is None:
            self._leave_all(sub)
            sub.outbox.clear()
            if sub.snapshot_due is not None:
                sub.snapshot_due = {}
            return
        for facility_id in facilities:
            if facility_id in sub.ids:
                self._changed(sub, (facility_id,), filters=False)
                sub.ids.discard(facility_id)
                self._discard(self.by_id, facility_id, sub)
                sub.outbox.pop(facility_id, None)
                if sub.snapshot_due is not None:
                    sub.snapshot_due.pop(facility_id, None)
        self._changed(sub, (), filters=False)  # it may follow one facility alone now

    def _snapshot(self, sub: Subscriber, chosen: list[tuple[Update, int]]) -> None:
        """Send a snapshot of ``(update, since)`` pairs now, or owe it if the subscriber is paused.

        Owed snapshots merge (the lowest ``since`` per facility wins), so a client that keeps
        subscribing while it does not read holds at most one entry per facility it follows.
        """
        if sub.paused_since is None:
            self.send_snapshot(sub, [u for u, since in chosen if since < u.seq])
            return
        due = sub.snapshot_due if sub.snapshot_due is not None else {}
        for update, since in chosen:
            kept = due.get(update.facility_id)
            due[update.facility_id] = since if kept is None else min(kept, since)
        sub.snapshot_due = due

    def send_snapshot(self, sub: Subscriber, chosen: list[Update]) -> None:
        """Write a snapshot of ``chosen`` now, whatever the subscriber's backlog."""
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

        A batch is what the Redis subscription buffered while the process was busy: when it holds
        several changes of one facility the process has fallen behind, so only the newest goes
        out (in the order the facility first appeared in the batch) — under load each client gets
        fewer frames, each with fresh content, never every frame late. Every client gets ONE
        write per batch: the ``solo`` part of each audience takes its single frame straight to
        the transport; the ``multi`` part is joined (once for the whole audience when the batch's
        updates all share it, else per client through the outbox). A client that cannot take
        data now keeps the newest status per facility in its outbox.
        """
        fresh: dict[str, Update] = {}
        latest = self.latest
        received = 0
        for raw in raws:
            update = Update.decode(raw)
            if update is None:
                continue
            facility_id = update.facility_id
            kept = fresh.get(facility_id) or latest.get(facility_id)
            if kept is not None and kept.seq >= update.seq:
                continue  # replayed, already loaded, or older than what this batch holds
            received += 1
            fresh[facility_id] = update
        self.updates_in += received
        self.updates_collapsed += received - len(fresh)
        if not fresh:
            return 0
        latest.update(fresh)
        touched: list[Subscriber] = []
        delivered = 0
        audiences = [self.audience(update) for update in fresh.values()]
        for update, audience in zip(fresh.values(), audiences, strict=True):
            delivered += len(audience.solo)
            _write_each(audience.solo, update.ws_frame, [update], touched)
        multis = [a.multi for a in audiences]
        first = multis[0]
        if all(m is first or m == first for m in multis[1:]):
            # one audience for the whole batch (one update, or a filter's clients): join once
            delivered += len(first) * len(fresh)
            updates = list(fresh.values())
            if len(updates) == 1:
                _write_each(first, updates[0].ws_frame, updates[:1], touched)
            elif first:
                joined = b"".join([u.ws_frame for u in updates])
                _write_each(first, joined, updates, touched)
        else:
            for update, multi in zip(fresh.values(), multis, strict=True):
                delivered += len(multi)
                facility_id, seq = update.facility_id, update.seq
                for sub in multi:  # _hold, inlined: this runs per client and update
                    outbox = sub.outbox
                    pending = outbox.get(facility_id)
                    if pending is None:
                        if not outbox:
                            touched.append(sub)
                        outbox[facility_id] = update
                    elif pending.seq < seq:
                        outbox[facility_id] = update
        for sub in touched:
            sub.flush()
        self.frames_out += delivered
        return delivered

    def audience(self, update: Update) -> Audience:
        """Who gets ``update`` (cached per facility; see :attr:`audiences`)."""
        facility_id = update.facility_id
        audience = self.audiences.get(facility_id)
        if (
            audience is not None
            and audience.type == update.type
            and audience.arrondissement == update.arrondissement
        ):
            return audience
        solo: list[Subscriber] = []
        multi: set[Subscriber] = set()
        for sub in self.by_id.get(facility_id, ()):
            if len(sub.ids) == 1 and not sub.filters:
                solo.append(sub)
            else:
                multi.add(sub)
        t, a = update.type, update.arrondissement
        if multi:
            multi.update(self._filtered(t, a))
            shared = tuple(sorted(multi, key=id))
        else:
            cached = self.filter_audiences.get((t, a))
            shared = cached if cached is not None else self._filter_audience(t, a)
        audience = Audience(t, a, tuple(solo), shared)
        self.audiences[facility_id] = audience
        return audience

    def _filtered(self, type_: str | None, arrondissement: int | None) -> set[Subscriber]:
        """The filter clients of a facility of this type and arrondissement."""
        by_filter = self.by_filter
        found: set[Subscriber] = set()
        if by_filter:
            for key in ((type_, arrondissement), (type_, None), (None, arrondissement)):
                found.update(by_filter.get(key, ()))
        return found

    def _filter_audience(
        self, type_: str | None, arrondissement: int | None
    ) -> tuple[Subscriber, ...]:
        shared = tuple(sorted(self._filtered(type_, arrondissement), key=id))
        self.filter_audiences[(type_, arrondissement)] = shared
        return shared

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
                bilingual("connexion trop lente, reconnectez-vous"),
            )
            sub.terminate(TRY_AGAIN_LATER, bilingual("trop lent"))
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
                sub.terminate(GOING_AWAY, bilingual("pas de réponse"))
            elif sub.paused_since is None:
                sub.send_heartbeat(payload)


def _write_each(
    subs: tuple[Subscriber, ...], data: bytes, updates: list[Update], touched: list[Subscriber]
) -> None:
    """``data`` (the frames of ``updates``, joined) straight to each writable transport; the
    updates into the outbox of the others."""
    for sub in subs:
        write = sub.direct
        if write is not None:
            try:
                write(data)
                continue
            except Exception:  # a transport that died under us: the shell decides
                logger.exception("live: direct write failed")
                sub.direct = None
        for update in updates:
            _hold(sub, update, touched)


def _hold(sub: Subscriber, update: Update, touched: list[Subscriber]) -> None:
    """Put ``update`` in ``sub``'s outbox (flushed at the end of the batch, or when it drains),
    unless the outbox already holds a status of that facility at least as new."""
    outbox = sub.outbox
    pending = outbox.get(update.facility_id)
    if pending is None:
        if not outbox:
            touched.append(sub)
        outbox[update.facility_id] = update
    elif pending.seq < update.seq:
        outbox[update.facility_id] = update


def _matches(update: Update, key: FilterKey) -> bool:
    type_, arrondissement = key
    return (type_ is None or update.type == type_) and (
        arrondissement is None or update.arrondissement == arrondissement
    )
