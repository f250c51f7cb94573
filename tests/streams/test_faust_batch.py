"""The faust internals the batch fast path relies on (streams/faust_batch.py) exist in the
installed faust-streaming, with the shapes the shim was written against."""

from __future__ import annotations

import inspect

import faust
import pytest
from faust.transport.consumer import Consumer as FaustConsumer
from faust.transport.consumer import Fetcher
from faust.transport.drivers.aiokafka import Consumer as AIOKafkaConsumer
from mode import Service

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
