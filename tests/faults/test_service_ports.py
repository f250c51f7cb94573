"""Starting a local service never connects to its own port: self-connects are found and dropped,
a bind that fails because the port is held is retried once after the port clears."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from paris_live.services import ports
from paris_live.services.base import LocalService

# Ports of this engineer's range (18500–18599): no other test uses them.
SELF_PORT = 18571
DROP_PORT = 18572
PROBE_PORT = 18573
LISTEN_PORT = 18574
RETRY_PORT = 18575


def _self_connected(port: int) -> socket.socket:
    """A socket connected to itself: bound to ``port``, then dialling ``port`` (simultaneous open).

    This is what happens to a readiness probe when the kernel picks the probed port, in the
    ephemeral range, as the probe's own source port while no server listens there yet.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    sock.connect(("127.0.0.1", port))
    return sock


def test_a_self_connected_socket_is_recognised() -> None:
    """A socket dialling its own port is seen as self-connected; a real connection is not."""
    sock = _self_connected(SELF_PORT)
    try:
        assert ports.is_self_connected(sock)
    finally:
        ports.drop(sock)
    with socket.socket() as server:
        server.bind(("127.0.0.1", LISTEN_PORT))
        server.listen()
        with socket.create_connection(("127.0.0.1", LISTEN_PORT)) as client:
            assert not ports.is_self_connected(client)


def test_a_dropped_self_connect_leaves_no_time_wait() -> None:
    """Dropping a self-connected socket (RST) frees the port at once: a server can bind it."""
    sock = _self_connected(DROP_PORT)
    assert ports.held_count(DROP_PORT) >= 1
    ports.drop(sock)
    assert ports.time_wait_count(DROP_PORT) == 0
    with socket.socket() as server:
        server.bind(("127.0.0.1", DROP_PORT))  # would raise EADDRINUSE after a plain close
        server.listen()


def test_probe_of_a_silent_port_opens_no_socket() -> None:
    """Probing a port nobody listens on answers False without dialling it (nothing left behind)."""
    assert not ports.port_listening(PROBE_PORT)
    for _ in range(50):
        assert not ports.connect_probe(PROBE_PORT)
    assert ports.held_count(PROBE_PORT) == 0


def test_listening_is_read_from_the_kernel_and_tied_to_the_process() -> None:
    """A listening socket shows in /proc/net/tcp and belongs to this process."""
    with socket.socket() as server:
        server.bind(("127.0.0.1", LISTEN_PORT))
        assert not ports.port_listening(LISTEN_PORT)
        server.listen()
        assert ports.port_listening(LISTEN_PORT)
        assert ports.pid_listens(__import__("os").getpid(), LISTEN_PORT)
        assert ports.connect_probe(LISTEN_PORT)
    assert not ports.port_listening(LISTEN_PORT)


def test_proc_net_tcp_lines_are_parsed() -> None:
    """Local port, remote port, state and inode are read from a /proc/net/tcp table."""
    table = (
        "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
        "timeout inode\n"
        "   0: 0100007F:98A4 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 "
        "0 123456 1 0000000000000000 100 0 0 10 0\n"
        "   1: 0100007F:98A4 0100007F:98A4 06 00000000:00000000 03:00000DAC 00000000  0 "
        "0 0 3 0000000000000000\n"
    )
    listen, time_wait = ports.parse_proc_net_tcp(table)
    assert (listen.local_port, listen.state, listen.inode) == (39076, ports.TCP_LISTEN, 123456)
    assert (time_wait.local_port, time_wait.remote_port) == (39076, 39076)
    assert time_wait.state == ports.TCP_TIME_WAIT


SERVER = """
import socket, sys, time
sock = socket.socket()
try:
    sock.bind(("127.0.0.1", int(sys.argv[1])))  # no SO_REUSEADDR, as a strict server
except OSError as exc:
    print(f"Socket server failed to bind: {exc}", flush=True)
    sys.exit(1)
sock.listen()
print("listening", flush=True)
while True:
    conn, _ = sock.accept()
    conn.sendall(b"ok")
    conn.recv(1)  # the client closes first: the TIME-WAIT stays on its side, not on our port
    conn.close()
"""


class TinyServer(LocalService):
    """A one-port TCP server that binds strictly, like Kafka's socket server."""

    name = "tiny"

    def prepare(self) -> None:
        (self.root / "server.py").write_text(SERVER)

    def command(self) -> Sequence[str]:
        return [sys.executable, str(self.root / "server.py"), str(self.port)]

    def ready(self) -> bool:
        with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
            return sock.recv(2) == b"ok"

    def start_timeout(self) -> float:
        return 30.0


@pytest.fixture
def tiny(tmp_path: Path) -> Iterator[TinyServer]:
    service = TinyServer(tmp_path, RETRY_PORT)
    yield service
    service.stop(timeout=5)


@pytest.mark.timeout(240)
def test_a_bind_failure_is_retried_once_the_port_clears(tiny: TinyServer) -> None:
    """A port held by a self-connect makes the first bind fail; the start waits it out and retries."""
    assert ports.wait_time_wait_clear(RETRY_PORT, any_state=True)  # a previous run's leftovers
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import socket, sys\n"
            "s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])))\n"
            "s.connect(('127.0.0.1', int(sys.argv[1]))); print('held', flush=True)\n"
            "sys.stdin.read(); s.close()\n",
            str(RETRY_PORT),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
    result: dict[str, object] = {}

    def start() -> None:
        try:
            result["started"] = tiny.start()
        except Exception as exc:  # reported by the assertion below
            result["error"] = exc

    starter = threading.Thread(target=start)
    starter.start()
    # Let the holder go (a plain close: TIME-WAIT for 60 s) only once the first bind has failed.
    while "Address already in use" not in tiny._log_since_launch() and starter.is_alive():
        threading.Event().wait(0.2)
    assert holder.stdin is not None
    holder.stdin.close()
    holder.wait(timeout=10)
    holder.stdout.close()
    starter.join(timeout=200)
    assert result.get("started") is True, result
    log = tiny.log_file.read_text()
    assert log.count("failed to bind") == 1
    assert ports.pid_listens(tiny.pid() or 0, RETRY_PORT)


async def test_the_topic_admin_waits_for_a_local_broker_without_dialling_it() -> None:
    """`ensure_topics`' admin client does not dial a local broker port before it listens: it
    gives up after its wait with a clear error, and no socket ever held the port."""
    from aiokafka.errors import KafkaConnectionError

    from paris_live.kafka_admin import local_ports_listening, started_admin

    bootstrap = f"127.0.0.1:{PROBE_PORT}"
    assert not local_ports_listening(bootstrap)
    with pytest.raises(KafkaConnectionError, match="no broker listens"):
        await started_admin(bootstrap, wait_s=1.5)
    assert ports.held_count(PROBE_PORT) == 0
