"""Unit tests of the hub's pure core, with a fake clock and fake subscribers (no sockets)."""

from __future__ import annotations

from typing import Any

import orjson

from api.hub import Hub, HubLimits
from api.subscriber import MessageBudget, Subscriber, Update
from schemas.ws import SubscribeMessage
from tests.api.api_testkit import make_status


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSub(Subscriber):
    __slots__ = ("closed_with", "sent")

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.sent: list[Any] = []
        self.closed_with: int | None = None

    def write_updates(self, updates: list[Update]) -> None:
        self.sent += [orjson.loads(u.payload) for u in updates]

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        self.sent.append(orjson.loads(payload))

    def terminate(self, code: int, reason: str) -> None:
        self.closed_with = code
        self.hub.detach(self)

    def ops(self) -> list[object]:
        return [m["op"] for m in self.sent]


def sub_msg(**fields: object) -> SubscribeMessage:
    return SubscribeMessage.model_validate({"op": "subscribe", **fields})


def setup(**limits: Any) -> tuple[Hub, FakeClock]:
    clock = FakeClock()
    return Hub(limits=HubLimits(**limits), clock=clock), clock


def test_snapshot_then_each_update_once() -> None:
    """A subscriber gets the mirrored status, then every newer update exactly once."""
    hub, _ = setup()
    hub.load([make_status("pool-a", 3)])
    sub = FakeSub(hub)
    hub.attach(sub)
    hub.subscribe(sub, sub_msg(facilities=["pool-a"]))
    hub.dispatch([make_status("pool-a", 4), make_status("pool-a", 4), make_status("pool-b", 1)])
    assert sub.ops() == ["snapshot", "update"]
    assert sub.sent[0]["facilities"][0]["seq"] == 3
    assert sub.sent[1]["facility"]["seq"] == 4


def test_batch_sends_the_newest_change_of_each_facility() -> None:
    """Several changes of one facility in one pub/sub batch (the process fell behind) reach a
    client as the newest one only (issue 18; tests/api/test_collapse_hub.py has the rest)."""
    hub, _ = setup()
    sub = FakeSub(hub)
    hub.subscribe(sub, sub_msg(facilities=["pool-a", "pool-b"]))
    hub.dispatch([make_status(f, seq) for seq in (1, 2, 3) for f in ("pool-a", "pool-b")])
    assert [(m["facility"]["facility_id"], m["facility"]["seq"]) for m in sub.sent[1:]] == [
        ("pool-a", 3),
        ("pool-b", 3),
    ]


def test_since_skips_what_the_client_already_has() -> None:
    """Resuming with since only snapshots facilities whose seq is newer."""
    hub, _ = setup()
    hub.load([make_status("pool-a", 7), make_status("pool-b", 2)])
    sub = FakeSub(hub)
    hub.subscribe(sub, sub_msg(facilities=["pool-a", "pool-b"], since={"pool-a": 7, "pool-b": 1}))
    assert [f["facility_id"] for f in sub.sent[0]["facilities"]] == ["pool-b"]


def test_filter_matches_type_and_arrondissement() -> None:
    """A filter subscription receives only statuses of its type and arrondissement."""
    hub, _ = setup()
    sub = FakeSub(hub)
    hub.subscribe(sub, sub_msg(filter={"type": "pool", "arrondissement": 5}))
    hub.dispatch(
        [
            make_status("pool-5", 1, type="pool", arrondissement=5),
            make_status("pool-6", 1, type="pool", arrondissement=6),
            make_status("lib-5", 1, type="library", arrondissement=5),
        ]
    )
    assert [m["facility"]["facility_id"] for m in sub.sent[1:]] == ["pool-5"]


def test_paused_subscriber_collapses_to_latest_per_facility() -> None:
    """A slow subscriber keeps only the newest status per facility and gets it on resume."""
    hub, _ = setup()
    fast, slow = FakeSub(hub), FakeSub(hub)
    for sub in (fast, slow):
        hub.subscribe(sub, sub_msg(facilities=["pool-a", "pool-b"]))
    slow.pause()
    for seq in range(1, 51):
        hub.dispatch([make_status("pool-a", seq), make_status("pool-b", seq)])
    assert len(fast.sent) == 1 + 100
    assert len(slow.outbox) == 2 and len(slow.sent) == 1
    slow.resume()
    assert [(m["facility"]["facility_id"], m["facility"]["seq"]) for m in slow.sent[1:]] == [
        ("pool-a", 50),
        ("pool-b", 50),
    ]


def test_paused_subscriber_owes_one_snapshot_per_drain() -> None:
    """Subscribes while paused write nothing; the drain sends ONE snapshot of the then-current
    statuses (honouring the lowest since), then the updates newer than it."""
    hub, _ = setup()
    hub.load([make_status("pool-a", 3), make_status("pool-b", 7), make_status("pool-c", 1)])
    sub = FakeSub(hub)
    hub.attach(sub)
    sub.pause()
    for _ in range(4000):
        hub.subscribe(sub, sub_msg(facilities=["pool-a", "pool-b"], since={"pool-b": 7}))
    hub.subscribe(sub, sub_msg(facilities=["pool-c"]))
    assert sub.sent == []
    assert sub.snapshot_due == {"pool-a": -1, "pool-b": 7, "pool-c": -1}
    hub.dispatch([make_status("pool-a", 4), make_status("pool-c", 2)])
    hub.dispatch([make_status("pool-c", 3)])
    sub.resume()
    assert sub.ops() == ["snapshot"]
    assert [(f["facility_id"], f["seq"]) for f in sub.sent[0]["facilities"]] == [
        ("pool-a", 4),
        ("pool-c", 3),
    ]
    assert sub.snapshot_due is None and not sub.outbox
    hub.dispatch([make_status("pool-b", 8)])
    assert sub.sent[-1]["facility"]["seq"] == 8


def test_paused_subscriber_with_nothing_to_show_still_gets_a_snapshot() -> None:
    """A subscribe answered while paused is answered at the drain, even by an empty snapshot."""
    hub, _ = setup()
    sub = FakeSub(hub)
    sub.pause()
    hub.subscribe(sub, sub_msg(filter={"type": "pool"}))
    sub.resume()
    assert sub.sent == [{"op": "snapshot", "facilities": []}]


def test_closed_subscriber_cannot_subscribe() -> None:
    """A subscribe handled after the connection was closed registers nothing."""
    hub, _ = setup()
    sub = FakeSub(hub)
    hub.attach(sub)
    sub.terminate(1008, "bye")
    hub.subscribe(sub, sub_msg(facilities=["pool-a"]))
    assert not hub.by_id and not sub.ids and sub.sent == []


def test_message_budget_bursts_then_refills() -> None:
    """The budget allows a burst, then rate messages per second."""
    budget = MessageBudget(rate=2.0, burst=3, now=0.0)
    assert [budget.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert budget.take(0.25) is False
    assert budget.take(0.5) is True
    assert [budget.take(100.0) for _ in range(4)] == [True, True, True, False]


def test_stuck_subscriber_is_closed_with_1013() -> None:
    """A subscriber paused longer than slow_timeout gets too_slow and is closed (1013)."""
    hub, clock = setup(slow_timeout=2.0)
    sub = FakeSub(hub)
    hub.subscribe(sub, sub_msg(facilities=["pool-a"]))
    sub.pause()
    clock.now += 1.0
    hub.tick()
    assert sub.closed_with is None
    clock.now += 1.5
    hub.tick()
    assert sub.closed_with == 1013
    assert sub.sent[-1]["code"] == "too_slow"
    assert sub not in hub.subscribers and not hub.by_id


def test_limits_and_abuse() -> None:
    """Too many subscriptions give an error frame; repeated bad frames close with 1008."""
    hub, _ = setup(max_facilities=2, max_strikes=3)
    sub = FakeSub(hub)
    hub.attach(sub)
    hub.handle_text(sub, orjson.dumps({"op": "subscribe", "facilities": ["a1", "a2", "a3"]}))
    assert sub.sent[-1]["code"] == "too_many_subscriptions"
    hub.handle_text(sub, b"{not json")
    assert sub.sent[-1]["code"] == "bad_json" and sub.closed_with is None
    hub.handle_text(sub, b'{"op": "dance"}')
    assert sub.sent[-1]["code"] == "unknown_op"
    assert sub.closed_with == 1008


def test_heartbeat_and_dead_peer() -> None:
    """Heartbeats go out every interval; a peer silent past dead_after is dropped."""
    hub, clock = setup(heartbeat_interval=15.0, dead_after=45.0)
    alive, dead = FakeSub(hub), FakeSub(hub)
    hub.attach(alive)
    hub.attach(dead)
    hub.tick()
    assert alive.ops() == ["heartbeat"]
    clock.now += 50
    alive.last_seen = clock.now
    hub.tick()
    assert alive.ops() == ["heartbeat", "heartbeat"]
    assert dead.closed_with == 1001


def test_reconnect_replaces_mirror_and_resnapshots() -> None:
    """After a feed reconnect the mirror is what the store says and every client gets a snapshot."""
    hub, _ = setup()
    hub.load([make_status("pool-a", 9)])
    sub = FakeSub(hub)
    hub.attach(sub)
    hub.subscribe(sub, sub_msg(facilities=["pool-a"]))
    hub.forget()
    hub.load([make_status("pool-a", 2)])
    hub.resnapshot_all()
    assert sub.ops() == ["snapshot", "snapshot"]
    assert sub.sent[-1]["facilities"][0]["seq"] == 2
