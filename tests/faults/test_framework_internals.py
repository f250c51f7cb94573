"""The private framework internals the worker, the publisher and the live endpoint rely on are each
behind one shim module, pinned exactly, and still there: an upgrade that changes one fails here,
naming the internal and the shim to review (faust's own checks: tests/streams/test_faust_batch.py).
"""

from __future__ import annotations

import asyncio
import inspect
import re
import tomllib
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest

from api import uvicorn_shim, websockets_shim
from api.live_ws import LiveConnection
from producers.publishing import aiokafka_shim
from streams import faust_batch

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"

PINS = {
    "faust-streaming": (faust_batch.FAUST_STREAMING_VERSION, "streams/faust_batch.py"),
    "mode-streaming": ("0.7.1", "streams/faust_batch.py (mode's Service._stopped)"),
    "aiokafka": (aiokafka_shim.AIOKAFKA_VERSION, "producers/publishing/aiokafka_shim.py"),
    "uvicorn": (uvicorn_shim.UVICORN_VERSION, "api/uvicorn_shim.py"),
    "websockets": (websockets_shim.WEBSOCKETS_VERSION, "api/websockets_shim.py"),
}


def _pins() -> dict[str, str]:
    dependencies = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["dependencies"]
    pins = {}
    for spec in dependencies:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)(?:\[[^]]*\])?==([^,;\s]+)", spec.strip())
        if match:
            pins[match.group(1)] = match.group(2)
    return pins


@pytest.mark.parametrize("dist", sorted(PINS))
def test_each_framework_with_internals_is_pinned_exactly_to_the_checked_version(dist: str) -> None:
    """pyproject pins the release the shim was checked against, and that release is installed."""
    checked, shim = PINS[dist]
    pinned = _pins().get(dist)
    assert pinned == checked, f"{dist} must be pinned =={checked} in pyproject ({shim})"
    installed = metadata.version(dist)
    assert installed == checked, (
        f"{dist} {installed} is installed, {shim} was checked against {checked}: review the shim, "
        f"then move its version constant and the pin"
    )


# ── uvicorn: the /v1/live protocol class ────────────────────────────────────────────────────


def _uvicorn_changed(name: str) -> str:
    return f"uvicorn internal changed: {name} ({uvicorn_shim.INTERNALS[name]}) — review api/uvicorn_shim.py"


def test_uvicorn_config_keeps_a_protocol_class_given_as_ws() -> None:
    """``Config(ws=<callable>)`` is kept as the WebSocket protocol class."""
    from uvicorn import Config

    async def app(scope: Any, receive: Any, send: Any) -> None:  # pragma: no cover - not called
        return None

    factory = LiveConnection
    config = Config(app=app, ws=factory, http="httptools", lifespan="off")
    config.load()
    name = "Config.load keeps a class given as ws"
    assert config.ws_protocol_class is factory, _uvicorn_changed(name)


def test_uvicorn_hands_the_upgrade_to_the_protocol_class_as_the_live_endpoint_expects() -> None:
    """The httptools protocol builds the class with config/server_state/app_state, attaches it to
    the transport and feeds it the request head; LiveConnection accepts exactly that call."""
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    name = "HTTP protocol builds ws_protocol_class(config=, server_state=, app_state=)"
    source = inspect.getsource(HttpToolsProtocol.handle_websocket_upgrade)
    for needle in (
        "self.ws_protocol_class(",
        "config=self.config",
        "server_state=self.server_state",
        "app_state=self.app_state",
        "protocol.connection_made(self.transport)",
        "self.transport.set_protocol(protocol)",
        "protocol.data_received(",
    ):
        assert needle in source, f"{_uvicorn_changed(name)}: no `{needle}`"
    inspect.signature(LiveConnection).bind(config=None, server_state=None, app_state={})


def test_uvicorn_server_state_tracks_connections_and_shuts_them_down() -> None:
    """``ServerState.connections`` is a set; a graceful stop calls ``shutdown()`` on each."""
    from uvicorn.server import Server, ServerState

    assert isinstance(ServerState().connections, set), _uvicorn_changed("ServerState.connections")
    name = "Server.shutdown calls connection.shutdown()"
    assert "connection.shutdown()" in inspect.getsource(Server.shutdown), _uvicorn_changed(name)
    assert callable(LiveConnection.shutdown)


def test_uvicorn_trusted_hosts_parse_forwarded_for() -> None:
    """``_TrustedHosts`` answers ``in`` and picks the client from X-Forwarded-For."""
    name = "_TrustedHosts"
    hosts = uvicorn_shim.trusted_hosts("127.0.0.1,10.0.0.0/8")
    assert "10.1.2.3" in hosts and "203.0.113.9" not in hosts, _uvicorn_changed(name)
    client = hosts.get_trusted_client_address("198.51.100.4, 10.1.2.3")
    assert client[0] == "198.51.100.4", _uvicorn_changed(name)


# ── websockets: a closed connection's parser ───────────────────────────────────────────────


def _websockets_changed(name: str) -> str:
    return (
        f"websockets internal changed: {name} ({websockets_shim.INTERNALS[name]}) — "
        "review api/websockets_shim.py"
    )


def test_websockets_protocol_keeps_its_parser_and_the_error_that_stopped_it() -> None:
    """``Protocol.parser`` is a generator and ``parser_exc`` the error that ended it; after
    ``release_parser`` the parser is closed and the error gone."""
    from websockets.client import ClientProtocol
    from websockets.server import ServerProtocol
    from websockets.uri import parse_uri

    client = ClientProtocol(parse_uri("ws://127.0.0.1/v1/live"))
    client.send_request(client.connect())
    conn = ServerProtocol()
    conn.receive_data(b"".join(client.data_to_send()))
    conn.send_response(conn.accept(conn.events_received()[0]))
    assert inspect.isgenerator(getattr(conn, "parser", None)), _websockets_changed(
        "Protocol.parser (a generator)"
    )
    conn.receive_eof()  # an open connection's stream ends: the parser stops on an EOFError
    assert isinstance(getattr(conn, "parser_exc", None), Exception), _websockets_changed(
        "Protocol.parser_exc"
    )
    websockets_shim.release_parser(conn)
    assert conn.parser_exc is None
    assert inspect.getgeneratorstate(conn.parser) == inspect.GEN_CLOSED


# ── aiokafka: failing what an idempotent producer still holds ───────────────────────────────


def _aiokafka_changed(name: str) -> str:
    return (
        f"aiokafka internal changed: {name} ({aiokafka_shim.INTERNALS[name]}) — "
        "review producers/publishing/aiokafka_shim.py"
    )


def test_aiokafka_producer_keeps_its_accumulator() -> None:
    """``AIOKafkaProducer.__init__`` still sets ``_message_accumulator``."""
    from aiokafka import AIOKafkaProducer

    name = "AIOKafkaProducer._message_accumulator"
    source = inspect.getsource(AIOKafkaProducer.__init__)
    assert "self._message_accumulator =" in source, _aiokafka_changed(name)


def test_aiokafka_accumulator_fails_pending_batches() -> None:
    """``MessageAccumulator.fail_all(exception)`` fails a pending batch's future with it."""
    from aiokafka.producer.message_accumulator import MessageAccumulator
    from aiokafka.structs import TopicPartition

    name = "MessageAccumulator.fail_all(exception)"
    parameters = tuple(inspect.signature(MessageAccumulator.fail_all).parameters)
    assert parameters == ("self", "exception"), _aiokafka_changed(name)

    async def pending_then_failed() -> BaseException | None:
        accumulator = MessageAccumulator(
            cluster=None, batch_size=16384, compression_type=0, batch_ttl=60
        )
        tp = TopicPartition("paris-live-shim-check", 0)
        future = await accumulator.add_message(tp, b"key", b"value", timeout=1.0)
        accumulator.fail_all(RuntimeError("shim check"))
        await asyncio.sleep(0)
        return future.exception() if future.done() else None

    failure = asyncio.run(pending_then_failed())
    assert isinstance(failure, RuntimeError), _aiokafka_changed(name)
