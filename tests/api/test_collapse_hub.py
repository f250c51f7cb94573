"""Overload at the hub and the Redis subscription reader: a batch keeps the newest status of each
facility (issue 18). Pure core: fake subscribers, a fake clock, no socket, no sleep."""

from __future__ import annotations

from typing import Any

import orjson

from api.forecast_feed import push_forecasts
from api.hub import Hub
from api.subscriber import Subscriber, Update
from schemas.ws import SubscribeMessage
from tests.api.api_testkit import make_status


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class FakeSub(Subscriber):
    """Records each write: one list of frames per write."""

    __slots__ = ("writes",)

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.writes: list[list[Any]] = []

    def write_updates(self, updates: list[Update]) -> None:
        self.writes.append([orjson.loads(u.payload) for u in updates])

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        self.writes.append([orjson.loads(payload)])

    def terminate(self, code: int, reason: str) -> None:
        self.hub.detach(self)

    def updates(self) -> list[tuple[str, int]]:
        return [
            (m["facility"]["facility_id"], m["facility"]["seq"])
            for write in self.writes
            for m in write
            if m["op"] == "update"
        ]


def subscribed(hub: Hub, *facilities: str) -> FakeSub:
    sub = FakeSub(hub)
    hub.attach(sub)
    hub.subscribe(
        sub, SubscribeMessage.model_validate({"op": "subscribe", "facilities": list(facilities)})
    )
    sub.writes.clear()  # the (empty) snapshot
    return sub


def test_backlogged_batch_sends_latest_per_facility_in_first_arrival_order() -> None:
    """A batch the reader buffered while busy (a, b, a, c, b, a) goes out as the newest of a, b
    and c, in the order each first appeared, in one write."""
    hub = Hub(clock=FakeClock())
    sub = subscribed(hub, "pool-a", "pool-b", "pool-c")
    batch = [("pool-a", 1), ("pool-b", 1), ("pool-a", 2), ("pool-c", 1), ("pool-b", 2)]
    batch.append(("pool-a", 3))
    hub.dispatch([make_status(f, seq) for f, seq in batch])
    assert sub.updates() == [("pool-a", 3), ("pool-b", 2), ("pool-c", 1)]
    assert len(sub.writes) == 1
    assert hub.updates_in == 6 and hub.updates_collapsed == 3 and hub.frames_out == 3


def test_older_status_later_in_a_batch_never_wins() -> None:
    """An older seq arriving after a newer one in the same batch (a replay) is ignored."""
    hub = Hub(clock=FakeClock())
    sub = subscribed(hub, "pool-a")
    hub.dispatch([make_status("pool-a", 5), make_status("pool-a", 4)])
    assert sub.updates() == [("pool-a", 5)]
    assert hub.latest["pool-a"].seq == 5


def test_reader_that_keeps_up_sends_every_change() -> None:
    """Changes read one batch at a time (the reader keeps up) each reach the client."""
    hub = Hub(clock=FakeClock())
    sub = subscribed(hub, "pool-a")
    for seq in (1, 2, 3):
        hub.dispatch([make_status("pool-a", seq)])
    assert sub.updates() == [("pool-a", 1), ("pool-a", 2), ("pool-a", 3)]
    assert hub.updates_collapsed == 0


def test_filter_subscriber_also_gets_the_newest_only() -> None:
    """A filter subscription collapses like an id subscription: newest per facility."""
    hub = Hub(clock=FakeClock())
    sub = FakeSub(hub)
    hub.attach(sub)
    hub.subscribe(
        sub, SubscribeMessage.model_validate({"op": "subscribe", "filter": {"type": "pool"}})
    )
    sub.writes.clear()
    hub.dispatch([make_status("pool-a", s, type="pool") for s in (1, 2, 3)])
    assert sub.updates() == [("pool-a", 3)]


def test_paused_client_then_backlogged_reader_collapse_together() -> None:
    """A paused client holding pool-a then pool-b gets, on resume, the newest of each in that
    order, whatever came meanwhile and however it was batched."""
    clock = FakeClock()
    hub = Hub(clock=clock)
    sub = subscribed(hub, "pool-a", "pool-b")
    sub.pause()
    hub.dispatch([make_status("pool-a", 1), make_status("pool-b", 1)])
    hub.dispatch([make_status("pool-b", 2), make_status("pool-a", 2), make_status("pool-b", 3)])
    assert sub.writes == []
    clock.now += 1.0
    sub.resume()
    assert sub.updates() == [("pool-a", 2), ("pool-b", 3)]
    assert len(sub.writes) == 1


def test_forecast_frames_keep_their_own_semantics() -> None:
    """Forecast frames are not status updates: they go out as they come to a client that reads,
    and never enter the status outbox."""
    hub = Hub(clock=FakeClock())
    sub = subscribed(hub, "pool-a")
    forecast = orjson.dumps({"facility_id": "pool-a", "forecast": []})
    assert push_forecasts(hub, [forecast, forecast]) == 2
    assert [m["op"] for write in sub.writes for m in write] == ["forecast", "forecast"]
    assert not sub.outbox
