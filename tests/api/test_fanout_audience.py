"""The fan-out's precomputed audiences (issue 18): each client gets ONE write per batch, each
facility once, and the audiences follow every subscription change. Pure core: subscribers whose
direct writer records the bytes it is given (as a transport's ``write`` would), a fake clock, no
socket, no sleep."""

from __future__ import annotations

from typing import Any

from api.hub import Hub
from api.subscriber import Subscriber, Update
from schemas.ws import SubscribeMessage
from tests.api.api_testkit import frame_updates, make_status


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Recorder(Subscriber):
    """A writable connection: every write (direct or through the outbox) is one bytes object."""

    __slots__ = ("broken", "writes")

    def __init__(self, hub: Hub) -> None:
        super().__init__(hub)
        self.writes: list[bytes] = []
        self.broken = False

    def _write(self, data: bytes) -> None:
        if self.broken:
            raise ConnectionResetError("gone")
        self.writes.append(bytes(data))

    def writer(self) -> Any:
        return self._write

    def write_updates(self, updates: list[Update]) -> None:
        self.writes.append(b"".join(u.ws_frame for u in updates))

    def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
        self.writes.append(b"")  # snapshots and errors: not what these tests look at

    def terminate(self, code: int, reason: str) -> None:
        self.hub.detach(self)

    def updates_per_write(self) -> list[list[tuple[str, int]]]:
        """Each non-empty write as the (facility, seq) of the update frames it carries."""
        return [frame_updates(data) for data in self.writes if data]


def connect(hub: Hub, message: dict[str, Any]) -> Recorder:
    sub = Recorder(hub)
    hub.attach(sub)
    sub.direct = sub.writer()
    hub.subscribe(sub, SubscribeMessage.model_validate({"op": "subscribe", **message}))
    sub.writes.clear()
    return sub


def pool(facility_id: str, seq: int, arrondissement: int = 5) -> bytes:
    return make_status(facility_id, seq, type="pool", arrondissement=arrondissement)


def test_each_client_gets_one_write_per_batch_with_each_facility_once() -> None:
    """A batch of three facilities: a viewer of one gets its frame, a filter client that also
    follows one of them by id gets the three in one write, that facility once, in batch order."""
    hub = Hub(clock=FakeClock())
    viewer = connect(hub, {"facilities": ["pool-b"]})
    both = connect(hub, {"facilities": ["pool-b"]})
    hub.subscribe(
        both, SubscribeMessage.model_validate({"op": "subscribe", "filter": {"type": "pool"}})
    )
    both.writes.clear()
    hub.dispatch([pool("pool-a", 1), pool("pool-b", 1), pool("pool-c", 1)])
    assert viewer.updates_per_write() == [[("pool-b", 1)]]
    assert both.updates_per_write() == [[("pool-a", 1), ("pool-b", 1), ("pool-c", 1)]]


def test_filter_audience_gets_the_batch_joined_in_first_arrival_order() -> None:
    """Clients sharing one filter get a backlogged batch as one write each: the newest status of
    each facility, in the order each facility first appeared."""
    hub = Hub(clock=FakeClock())
    clients = [connect(hub, {"filter": {"type": "pool"}}) for _ in range(3)]
    hub.dispatch([pool("pool-a", 1), pool("pool-b", 1), pool("pool-a", 2), pool("pool-c", 1)])
    for client in clients:
        assert client.updates_per_write() == [[("pool-a", 2), ("pool-b", 1), ("pool-c", 1)]]
    assert hub.frames_out == 9


def test_paused_client_in_a_shared_audience_keeps_the_newest_and_gets_it_on_resume() -> None:
    """One of the filter's clients cannot take data: the others get each batch at once; it gets
    the newest status of each facility, once, when it drains."""
    hub = Hub(clock=FakeClock())
    fast = connect(hub, {"filter": {"type": "pool"}})
    slow = connect(hub, {"filter": {"type": "pool"}})
    slow.pause()
    hub.dispatch([pool("pool-a", 1), pool("pool-b", 1)])
    hub.dispatch([pool("pool-a", 2), pool("pool-b", 2)])
    assert fast.updates_per_write() == [
        [("pool-a", 1), ("pool-b", 1)],
        [("pool-a", 2), ("pool-b", 2)],
    ]
    assert slow.writes == []
    slow.resume()
    assert slow.updates_per_write() == [[("pool-a", 2), ("pool-b", 2)]]


def test_audiences_follow_subscribe_and_unsubscribe() -> None:
    """A client that subscribes after updates went out gets the next ones; one that follows a
    second facility gets both in one write; one that unsubscribes gets nothing more."""
    hub = Hub(clock=FakeClock())
    first = connect(hub, {"facilities": ["pool-a"]})
    hub.dispatch([pool("pool-a", 1)])
    late = connect(hub, {"facilities": ["pool-a"]})
    hub.subscribe(
        first, SubscribeMessage.model_validate({"op": "subscribe", "facilities": ["pool-b"]})
    )
    first.writes.clear()
    hub.dispatch([pool("pool-a", 2), pool("pool-b", 1)])
    assert first.updates_per_write() == [[("pool-a", 2), ("pool-b", 1)]]
    assert late.updates_per_write() == [[("pool-a", 2)]]
    hub.unsubscribe(first, ["pool-a"])
    hub.unsubscribe(late, None)
    hub.dispatch([pool("pool-a", 3), pool("pool-b", 2)])
    assert first.updates_per_write()[-1] == [("pool-b", 2)]
    assert late.updates_per_write() == [[("pool-a", 2)]]


def test_filter_added_and_client_gone_change_the_audience() -> None:
    """A filter subscribed between two batches is in the second; a client that left is in none,
    and the others still get every update."""
    hub = Hub(clock=FakeClock())
    viewer = connect(hub, {"facilities": ["pool-a"]})
    leaving = connect(hub, {"facilities": ["pool-a"]})
    hub.dispatch([pool("pool-a", 1, arrondissement=12)])
    district = connect(hub, {"filter": {"arrondissement": 12}})
    hub.detach(leaving)
    hub.dispatch([pool("pool-a", 2, arrondissement=12)])
    assert viewer.updates_per_write() == [[("pool-a", 1)], [("pool-a", 2)]]
    assert leaving.updates_per_write() == [[("pool-a", 1)]]
    assert district.updates_per_write() == [[("pool-a", 2)]]


def test_facility_moving_arrondissement_reaches_the_new_filter() -> None:
    """The audience is rebuilt when a facility's arrondissement changes (a catalogue fix)."""
    hub = Hub(clock=FakeClock())
    eleventh = connect(hub, {"filter": {"arrondissement": 11}})
    twelfth = connect(hub, {"filter": {"arrondissement": 12}})
    hub.dispatch([pool("pool-a", 1, arrondissement=11)])
    hub.dispatch([pool("pool-a", 2, arrondissement=12)])
    assert eleventh.updates_per_write() == [[("pool-a", 1)]]
    assert twelfth.updates_per_write() == [[("pool-a", 2)]]


def test_a_write_that_fails_falls_back_to_the_outbox() -> None:
    """A direct write that raises loses nothing: that client's update goes through its outbox to
    the shell's ``write_updates`` (which decides what a dead transport means), direct writes stop
    for it, and the other viewers are served."""
    hub = Hub(clock=FakeClock())
    broken = connect(hub, {"facilities": ["pool-a"]})
    other = connect(hub, {"facilities": ["pool-a"]})
    broken.broken = True
    hub.dispatch([pool("pool-a", 1)])
    assert other.updates_per_write() == [[("pool-a", 1)]]
    assert broken.direct is None
    assert broken.updates_per_write() == [[("pool-a", 1)]]


def test_outbox_keeps_a_newer_status_than_a_replayed_one() -> None:
    """A paused client holding seq 5 keeps it when an older seq of that facility comes through
    after the mirror was dropped (a reconnecting feed): it gets seq 5 when it drains."""
    hub = Hub(clock=FakeClock())
    slow = connect(hub, {"filter": {"type": "pool"}})
    slow.pause()
    hub.dispatch([pool("pool-a", 5), pool("pool-b", 1)])
    hub.forget()
    hub.dispatch([pool("pool-a", 3), pool("pool-b", 2)])
    slow.resume()
    assert slow.updates_per_write() == [[("pool-a", 5), ("pool-b", 2)]]


def test_filter_client_that_leaves_gets_nothing_from_any_facility_of_its_filter() -> None:
    """Facilities of one type share their filter clients; one that unsubscribes or disconnects
    is out of all of them at the next batch, the one that stays still gets every facility."""
    hub = Hub(clock=FakeClock())
    stays = connect(hub, {"filter": {"type": "pool"}})
    unsubscribes = connect(hub, {"filter": {"type": "pool"}})
    disconnects = connect(hub, {"filter": {"type": "pool"}})
    hub.dispatch([pool("pool-a", 1), pool("pool-b", 1)])
    hub.unsubscribe(unsubscribes, None)
    hub.detach(disconnects)
    hub.dispatch([pool("pool-a", 2)])
    hub.dispatch([pool("pool-b", 2), pool("pool-c", 1)])
    assert stays.updates_per_write() == [
        [("pool-a", 1), ("pool-b", 1)],
        [("pool-a", 2)],
        [("pool-b", 2), ("pool-c", 1)],
    ]
    assert unsubscribes.updates_per_write() == [[("pool-a", 1), ("pool-b", 1)]]
    assert disconnects.updates_per_write() == [[("pool-a", 1), ("pool-b", 1)]]
