"""The one module that relies on websockets' internals: ending a closed connection's parser.

:class:`api.live_ws.LiveConnection` drives websockets' sans-I/O :class:`~websockets.server.
ServerProtocol` through its documented methods. One thing is not documented: the protocol keeps
its frame parser as a generator in ``Protocol.parser`` (which holds the protocol, a reference
cycle) and the error that stopped it in ``Protocol.parser_exc`` (whose traceback holds the
parser's frame, another cycle). A closed connection would wait for the cyclic collector — and,
once :func:`paris_live.runtime_gc.settle_heap` has frozen the heap and raised the gen-0 threshold,
tens of thousands of them could pile up between collections. :func:`release_parser` ends both so
a closed connection is freed by reference counting alone.

:data:`INTERNALS` names each internal; ``tests/faults/test_framework_internals.py`` checks each
against the installed websockets and fails naming the one that changed. websockets is pinned
exactly in ``pyproject.toml``: an upgrade means reviewing this module, then moving the pin and
:data:`WEBSOCKETS_VERSION`.
"""

from __future__ import annotations

from websockets.protocol import Protocol

__all__ = ["INTERNALS", "WEBSOCKETS_VERSION", "release_parser"]

WEBSOCKETS_VERSION = "17.4"
"""The websockets release the live endpoint was written and checked against."""

INTERNALS: dict[str, str] = {
    "Protocol.parser (a generator)": "websockets.protocol.Protocol.__init__",
    "Protocol.parser_exc": "websockets.protocol.Protocol.__init__",
}


def release_parser(conn: Protocol) -> None:
    """End a closed connection's parser and drop the error that stopped it (see the module)."""
    conn.parser.close()
    conn.parser_exc = None
