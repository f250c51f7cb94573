"""The faust internals the batch fast path relies on (streams/faust_batch.py) exist in the
installed faust-streaming, with the shapes the shim was written against."""

from __future__ import annotations

import inspect
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.consumer import Fetcher
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from faust.types import TP
from mode import Service

from streams.app import FetchGaps
from streams.faust_batch import (
    FAUST_STREAMING_VERSION,
    PRIVATE_ATTRIBUTES,
    PRIVATE_METHODS,
    BatchApp,
    BatchConsumer,
    BatchTransport,
    check_faust_version,
)


def test_installed_faust_is_the_pinned_version() -> None:
    """faust-streaming is the version the shim was checked against: an upgrade fails here until
    streams/faust_batch.py is reviewed and FAUST_STREAMING_VERSION moved."""
    assert faust.__version__ == FAUST_STREAMING_VERSION
    assert check_faust_version()


@pytest.mark.parametrize("name", sorted(PRIVATE_METHODS))
def test_private_consumer_methods_keep_their_signature(name: str) -> None:
    """Each private Consumer method the batch path overrides or calls exists, same parameters."""
    method = getattr(AIOKafkaConsumer, name, None)
    assert callable(method), f"faust's Consumer lost {name}"
    assert tuple(inspect.signature(method).parameters) == PRIVATE_METHODS[name]
    assert inspect.iscoroutinefunction(method) == inspect.iscoroutinefunction(
        getattr(BatchConsumer, name)
    ), f"{name}: sync/async changed"


@pytest.mark.parametrize("name", PRIVATE_ATTRIBUTES)
def test_private_consumer_attributes_are_still_set(name: str) -> None:
    """Each private attribute the batch path reads is still set by faust's Consumer.__init__."""
    assert f"self.{name} =" in inspect.getsource(FaustConsumer.__init__)


def test_fetcher_stop_event_and_app_transport_hook() -> None:
    """The fetcher still has the mode ``_stopped`` event and faust.App builds its transport in
    ``_new_transport``, which BatchApp overrides with BatchTransport (BatchConsumer)."""
    assert issubclass(Fetcher, Service)
    assert "self._stopped =" in inspect.getsource(Service.__init__)
    assert tuple(inspect.signature(faust.App._new_transport).parameters) == ("self",)
    assert BatchApp._new_transport is not faust.App._new_transport
    assert BatchTransport.Consumer is BatchConsumer


def test_fetch_state_attributes_are_still_set() -> None:
    """The stall watch (BatchConsumer.fetch_state) reads faust's paused and active partition
    sets, reset in Consumer._reset_state, and the aiokafka driver's consumer thread."""
    reset = inspect.getsource(FaustConsumer._reset_state)
    assert "self._active_partitions =" in reset and "self._paused_partitions =" in reset
    assert "self._thread" in inspect.getsource(AIOKafkaConsumer.__init__)


class _Stub:
    """Just what BatchConsumer._apply_fetched reads of a consumer (faust's own are not built
    outside a running app)."""

    def __init__(self, handler: Any, tps: set[TP]) -> None:
        self.flow_active = True
        self.app = SimpleNamespace(
            batch_handler=handler, batch_topics=frozenset({"in"}), consumer_generation_id=7
        )
        self._active_partitions = set(tps)
        self._buffered_partitions: set[TP] = set()
        self._read_offset: dict[TP, int] = {}
        self.to_callback: list[Any] = []

    def highwater(self, tp: TP) -> int:
        return 100

    async def callback(self, message: Any) -> None:
        self.to_callback.append(message)

    def _to_message(self, tp: TP, record: Any) -> Any:
        return (tp, record.offset)


def _records(*tps: TP) -> dict[TP, list[Any]]:
    return {tp: [SimpleNamespace(offset=o) for o in (10, 11, 12)] for tp in tps}


A, B, OTHER = TP("in", 0), TP("in", 1), TP("other", 0)


async def test_a_fetch_applied_whole_reports_true_and_moves_read_offsets() -> None:
    applied: list[TP] = []

    async def handler(tp: TP, batch: list[Any], current: Any) -> bool:
        applied.append(tp)
        return True

    stub = _Stub(handler, {A, B, OTHER})
    assert await BatchConsumer._apply_fetched(stub, _records(A, B, OTHER), 7)  # type: ignore[arg-type]
    assert applied == [A, B]
    assert stub.to_callback == [(OTHER, 10), (OTHER, 11), (OTHER, 12)]
    assert stub._read_offset == {A: 12, B: 12, OTHER: 12}


@pytest.mark.parametrize(
    "what", ["handler refuses", "paused after the fetch", "generation moved", "flow stopped"]
)
async def test_a_fetch_not_applied_whole_is_reported_so_that_it_is_read_again(what: str) -> None:
    """The records of the second partition were taken from the fetcher but not applied: the
    caller must seek back (it did not, and a rebalance's own seek that came earlier left them
    skipped — the join/leave cluster fault, issue 19)."""
    applied: list[TP] = []
    stub: _Stub

    async def handler(tp: TP, batch: list[Any], current: Any) -> bool:
        if tp == B and what == "handler refuses":
            return False
        applied.append(tp)
        if what == "paused after the fetch":
            stub._active_partitions.discard(B)
        elif what == "generation moved":
            stub.app.consumer_generation_id = 8
        elif what == "flow stopped":
            stub.flow_active = False
        return True

    stub = _Stub(handler, {A, B})
    assert not await BatchConsumer._apply_fetched(stub, _records(A, B), 7)  # type: ignore[arg-type]
    assert applied == [A]
    assert B not in stub._read_offset


async def test_a_batch_the_handler_skipped_leaves_its_read_offset_and_the_others_go_on() -> None:
    """None from the handler: the batch did not follow what was applied and its position was
    moved back; the fetch's other batches are still applied."""
    applied: list[TP] = []

    async def handler(tp: TP, batch: list[Any], current: Any) -> bool | None:
        if tp == A:
            return None
        applied.append(tp)
        return True

    stub = _Stub(handler, {A, B})
    assert await BatchConsumer._apply_fetched(stub, _records(A, B), 7)  # type: ignore[arg-type]
    assert applied == [B]
    assert stub._read_offset == {B: 12}


def test_a_batch_past_the_next_offset_to_apply_is_read_again_once() -> None:
    """The join/leave cluster fault (issue 19): a batch fetched before faust's end-of-rebalance
    seek, handed over after it, started 9 records past what the partition had applied; applying
    it made those 9 look applied and they were lost. Such a batch is read again; the same gap
    twice means the records left the log (retention) and the batch is applied."""
    gaps = FetchGaps()
    assert gaps.check(A, None, 500) == "apply"  # nothing applied yet: wherever the log starts
    assert gaps.check(A, 1970, 1971) == "apply"  # the next one
    assert gaps.check(A, 1970, 1900) == "apply"  # read again after a seek: the processor skips
    assert gaps.check(A, 1970, 1980) == "read_again"
    assert gaps.check(B, 10, 11) == "apply"  # per partition
    assert gaps.check(A, 1970, 1971) == "apply"  # the records came back after the seek
    assert gaps.check(A, 1979, 1990) == "read_again"
    assert gaps.check(A, 1979, 1990) == "gone"  # the same gap again: not in the log any more
    assert gaps.check(A, 1979, 1990) == "read_again"  # a later gap is read again afresh
