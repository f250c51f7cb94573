"""The one module that relies on uvicorn's internals: how ``/v1/live`` plugs into uvicorn.

:class:`api.live_ws.LiveConnection` is not an ASGI app but a uvicorn *WebSocket protocol class*
(``uvicorn.Config(ws=...)``). uvicorn documents ``ws`` only as a name ("websockets", "wsproto");
passing a class, and what uvicorn then does with it, are internals of uvicorn
:data:`UVICORN_VERSION`:

- ``Config.load`` keeps a non-string ``ws`` as ``config.ws_protocol_class``;
- the HTTP protocol (``httptools``, the one :func:`api.server.uvicorn_config` selects) hands an
  ``Upgrade: websocket`` request over by calling
  ``ws_protocol_class(config=, server_state=, app_state=)``, then ``connection_made(transport)``,
  ``transport.set_protocol(protocol)`` and ``data_received(<the request head>)``;
- ``ServerState.connections`` is the set the protocol joins; on a graceful stop
  ``Server.shutdown`` calls ``shutdown()`` on each member;
- ``uvicorn.middleware.proxy_headers._TrustedHosts`` (``in`` and
  ``get_trusted_client_address``) decides which ``X-Forwarded-For`` to believe, so that the
  per-address cap of ``/v1/live`` counts the address uvicorn gives HTTP routes.

:data:`INTERNALS` names each one; ``tests/faults/test_framework_internals.py`` checks each against
the installed uvicorn and fails naming the one that changed. uvicorn is pinned exactly in
``pyproject.toml``: an upgrade means reviewing this module, then moving the pin and the constant.
"""

from __future__ import annotations

import functools

from uvicorn.middleware.proxy_headers import _TrustedHosts

__all__ = ["INTERNALS", "UVICORN_VERSION", "TrustedHosts", "trusted_hosts"]

UVICORN_VERSION = "0.55.0"
"""The uvicorn release the live endpoint was written and checked against."""

INTERNALS: dict[str, str] = {
    "Config.load keeps a class given as ws": "uvicorn.config.Config.load",
    "HTTP protocol builds ws_protocol_class(config=, server_state=, app_state=)": (
        "uvicorn.protocols.http.httptools_impl.HttpToolsProtocol.handle_websocket_upgrade"
    ),
    "ServerState.connections": "uvicorn.server.ServerState.__init__",
    "Server.shutdown calls connection.shutdown()": "uvicorn.server.Server.shutdown",
    "_TrustedHosts": "uvicorn.middleware.proxy_headers._TrustedHosts",
}
"""What the live endpoint relies on → where it lives in uvicorn."""

TrustedHosts = _TrustedHosts


@functools.lru_cache(maxsize=8)
def trusted_hosts(raw: str | tuple[str, ...]) -> _TrustedHosts:
    """uvicorn's parser of ``--forwarded-allow-ips`` (cached per value)."""
    return _TrustedHosts(list(raw) if isinstance(raw, tuple) else raw)
