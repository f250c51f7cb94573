"""A producer whose deliveries never settle (the worker froze there after a leader broker was
killed) no longer holds the sink forever: the flush fails as transient after its limit, the
reliable records stay queued and go out through a fresh producer."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from streams.sinks.kafka import KafkaSink, KafkaSinkError, Outgoing


class Accumulator:
    def __init__(self) -> None:
        self.failed: list[BaseException] = []
        self.futures: list[asyncio.Future[object]] = []

    def fail_all(self, exception: BaseException) -> None:
        self.failed.append(exception)
        for future in self.futures:
            if not future.done():
                future.set_exception(exception)


class FakeProducer:
    """Acknowledges every record, or none ever (``stuck``); starts or refuses to (``down``)."""

    def __init__(self, *, stuck: bool, down: bool = False, dies: bool = False) -> None:
        self.stuck, self.down, self.dies = stuck, down, dies
        self._message_accumulator = Accumulator()
        self.sent: list[bytes] = []
        self.started = self.stopped = False

    async def start(self) -> None:
        if self.down:
            from aiokafka.errors import KafkaConnectionError

            raise KafkaConnectionError("down")
        self.started = True

    async def stop(self) -> None:
        self.stopped = True
        if self.dies:  # aiokafka's sender task died of the failed batches: stop() re-raises it
            raise AttributeError("'NoneType' object has no attribute 'done'")

    async def send(self, topic: str, *, value: bytes, **_: Any) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._message_accumulator.futures.append(future)
        self.sent.append(value)
        if not self.stuck:
            future.set_result(object())
        return future


def sink_with(monkeypatch: pytest.MonkeyPatch, producers: list[FakeProducer]) -> KafkaSink:
    made = iter(producers)
    monkeypatch.setattr(KafkaSink, "_new_producer", lambda self: next(made))
    return KafkaSink("127.0.0.1:1", delivery_timeout_s=0.05)


async def test_a_stuck_delivery_fails_transient_and_a_fresh_producer_sends_it_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck, fresh = FakeProducer(stuck=True), FakeProducer(stuck=False)
    sink = sink_with(monkeypatch, [stuck, fresh])
    await sink.start()
    sink.send("facility-status", b"k", b"status-1")
    seq = sink.send_reliable(Outgoing("dead-letters", b"k", b"letter-1"))

    with pytest.raises(KafkaSinkError, match="1 live record"):
        await sink.flush()

    assert stuck._message_accumulator.failed and stuck.stopped
    assert fresh.started
    assert sink.settled_through < seq  # the reliable record is still owed
    assert await sink.wait_settled(seq, within=5.0)
    assert fresh.sent == [b"letter-1"]


async def test_kafka_unreachable_after_replacement_keeps_the_reliable_record_queued(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stuck = FakeProducer(stuck=True)
    down_1, down_2 = FakeProducer(stuck=False, down=True), FakeProducer(stuck=False, down=True)
    back = FakeProducer(stuck=False)
    sink = sink_with(monkeypatch, [stuck, down_1, down_2, back])
    await sink.start()
    seq = sink.send_reliable(Outgoing("dead-letters", b"k", b"letter-1"))

    with pytest.raises(KafkaSinkError):
        await sink.flush()  # stuck → replaced by down_1, which cannot connect (→ down_2)
    with pytest.raises(KafkaSinkError, match="not connected"):
        await sink.flush()  # down_2 cannot connect either (→ back)
    assert sink.settled_through < seq and not down_2.sent

    assert await sink.flush() == 1  # back connects and sends it
    assert sink.settled_through == seq and back.sent == [b"letter-1"]


async def test_a_stuck_producer_whose_stop_raises_is_still_replaced(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Seen with a broker restarted under load: stopping the stuck producer raised out of the
    flush, the fresh producer was never started and the worker hung on it."""
    stuck, fresh = FakeProducer(stuck=True, dies=True), FakeProducer(stuck=False)
    sink = sink_with(monkeypatch, [stuck, fresh])
    await sink.start()
    seq = sink.send_reliable(Outgoing("dead-letters", b"k", b"letter-1"))

    with pytest.raises(KafkaSinkError):
        await sink.flush()

    assert fresh.started
    assert await sink.flush() == 1
    assert sink.settled_through == seq and fresh.sent == [b"letter-1"]


class SlowProducer(FakeProducer):
    """Acknowledges every record on the next loop turn: a record can be queued meanwhile."""

    async def send(self, topic: str, *, value: bytes, **_: Any) -> asyncio.Future[object]:
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self.sent.append(value)
        asyncio.get_running_loop().call_soon(future.set_result, object())
        return future


async def test_a_record_queued_during_a_flush_is_not_a_failure_of_that_flush(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A dead letter queued while a flush awaits its acknowledgements was never sent by it: the
    flush succeeds (it raised « 1 reliable record(s) to retry », and the worker paused its live
    publishing 0.5 s, on every flush of a burst of dead letters); the next flush sends it."""
    producer = SlowProducer(stuck=False)
    sink = sink_with(monkeypatch, [producer])
    await sink.start()
    sink.send_reliable(Outgoing("dead-letters", b"k", b"letter-1"))

    async def one_more_while_flushing() -> None:
        await asyncio.sleep(0)
        sink.send_reliable(Outgoing("dead-letters", b"k", b"letter-2"))

    late = asyncio.create_task(one_more_while_flushing())
    assert await sink.flush() == 1
    await late
    assert producer.sent == [b"letter-1"]
    assert await sink.flush() == 1
    assert producer.sent == [b"letter-1", b"letter-2"]
    assert sink.settled_through == sink.last_seq
