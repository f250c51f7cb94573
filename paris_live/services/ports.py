"""Port checks that never open a TCP connection to a port nobody listens on.

Our service ports (Kafka 39092/39093, Redis 36379, PostgreSQL 35432) lie inside Linux's ephemeral
port range (32768–60999). A client that connects to one of them before the server listens may be
given that very port as its own source port: the SYN meets itself, the kernel completes a
*simultaneous open* and the client is connected — to itself. Closing that socket leaves a
``127.0.0.1:39092 → 127.0.0.1:39092`` TIME-WAIT behind, and the server then fails to bind with
"Address already in use".

So: whether a port listens is read from the kernel's socket tables (``/proc/net/tcp``,
``/proc/net/tcp6``), never by connecting; a connection is only opened once the port listens; a
self-connected socket is recognised and dropped with an RST (``SO_LINGER`` 0, so no TIME-WAIT); and
TIME-WAIT sockets holding a port can be waited out before a server binds it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# TCP states as the kernel numbers them in /proc/net/tcp (include/net/tcp_states.h).
TCP_ESTABLISHED = 0x01
TCP_TIME_WAIT = 0x06
TCP_LISTEN = 0x0A

PROC_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))

# "Address already in use" as Kafka (Java), Redis and PostgreSQL write it in their logs.
BIND_FAILURE_MARKERS = ("Address already in use", "EADDRINUSE", "could not bind")


@dataclass(frozen=True)
class SocketEntry:
    """One line of ``/proc/net/tcp{,6}``: local and remote port, state, inode."""

    local_port: int
    remote_port: int
    state: int
    inode: int


def parse_proc_net_tcp(text: str) -> list[SocketEntry]:
    """The sockets listed in a ``/proc/net/tcp`` (or ``tcp6``) table."""
    entries: list[SocketEntry] = []
    for line in text.splitlines()[1:]:
        fields = line.split()
        if len(fields) < 10:
            continue
        local, remote, state, inode = fields[1], fields[2], fields[3], fields[9]
        entries.append(
            SocketEntry(
                local_port=int(local.rsplit(":", 1)[1], 16),
                remote_port=int(remote.rsplit(":", 1)[1], 16),
                state=int(state, 16),
                inode=int(inode),
            )
        )
    return entries


def tcp_sockets(tables: tuple[Path, ...] = PROC_TABLES) -> Iterator[SocketEntry]:
    for table in tables:
        try:
            text = table.read_text(encoding="ascii")
        except OSError:
            continue
        yield from parse_proc_net_tcp(text)


def listening_inodes(port: int) -> set[int]:
    """Inodes of the sockets listening on ``port`` (any address), from the kernel's tables."""
    return {s.inode for s in tcp_sockets() if s.local_port == port and s.state == TCP_LISTEN}


def port_listening(port: int) -> bool:
    """True when some process listens on ``port``; opens no connection."""
    return bool(listening_inodes(port))


def time_wait_count(port: int) -> int:
    """Sockets in TIME-WAIT whose local port is ``port`` (they make a plain bind fail)."""
    return sum(1 for s in tcp_sockets() if s.local_port == port and s.state == TCP_TIME_WAIT)


def held_count(port: int) -> int:
    """Sockets other than listeners whose local port is ``port`` (any state but LISTEN)."""
    return sum(1 for s in tcp_sockets() if s.local_port == port and s.state != TCP_LISTEN)


def socket_inodes(pid: int) -> set[int] | None:
    """Inodes of the sockets a process holds open; None when its fds cannot be read."""
    inodes: set[int] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return None
    for name in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{name}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(int(target[8:-1]))
    return inodes


def group_pids(pid: int) -> list[int]:
    """``pid`` and every process in its process group (a launcher and the server it forked)."""
    try:
        pgid = os.getpgid(pid)
    except ProcessLookupError:
        return []
    pids = [pid]
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == pid:
            continue
        try:
            if os.getpgid(int(entry)) == pgid:
                pids.append(int(entry))
        except ProcessLookupError:
            continue
    return pids


def pid_listens(pid: int, port: int) -> bool:
    """True when the process ``pid`` (or its process group) holds the socket listening on ``port``.

    When another user's fds cannot be read, a listening socket on the port is taken as its own
    (the caller checked before launching that nobody else listened there).
    """
    listening = listening_inodes(port)
    if not listening:
        return False
    readable = False
    for member in group_pids(pid):
        inodes = socket_inodes(member)
        if inodes is None:
            continue
        readable = True
        if inodes & listening:
            return True
    return not readable


def wait_time_wait_clear(
    port: int, timeout: float = 65.0, poll: float = 0.5, *, any_state: bool = False
) -> bool:
    """Wait until no TIME-WAIT socket holds ``port`` (Linux keeps them 60 s); True when clear.

    With ``any_state``, wait for every non-listening socket on the port to go (after a bind
    failure: a self-connected socket may still be open, and its TIME-WAIT follows).
    """
    count = held_count if any_state else time_wait_count
    deadline = time.monotonic() + timeout
    while count(port):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll)
    return True


def is_self_connected(sock: socket.socket) -> bool:
    """True when a TCP socket is connected to itself (a simultaneous open on one port)."""
    try:
        return bool(sock.getsockname() == sock.getpeername())
    except OSError:
        return False


def drop(sock: socket.socket) -> None:
    """Close with an RST (``SO_LINGER`` 0) so the port is not held in TIME-WAIT."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def connect_probe(port: int, host: str = "127.0.0.1", timeout: float = 0.3) -> bool:
    """True when a real server accepts on ``host:port``.

    On this host, a port that does not listen is never dialled. A connection that turns out to be
    connected to itself is dropped without TIME-WAIT and counts as "nobody listens".
    """
    if host in ("127.0.0.1", "localhost", "::1") and not port_listening(port):
        return False
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        if sock.connect_ex((host, port)) != 0:
            sock.close()
            return False
    except OSError:
        sock.close()
        return False
    if is_self_connected(sock):
        drop(sock)
        return False
    sock.close()
    return True


def mentions_bind_failure(log_tail: str) -> bool:
    """True when a server's last log lines say it could not bind its port."""
    return any(marker in log_tail for marker in BIND_FAILURE_MARKERS)
