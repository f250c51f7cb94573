"""Fan-out of ``/v1/live`` at city scale, against the ``websockets`` library alone, in one run.

    .venv/bin/python -m bench.fanout [--clients 10000] [--burst 20] [--loadgens 1] [--profile]

The server under test, load generators (raw asyncio sockets: each does the WebSocket handshake,
sends a masked subscribe frame, answers pings and counts frames by their headers, so it stays
cheap; ``--loadgens`` processes share the clients, since one Python process receiving 10,000
frames is slower than the server sending them — the same processes serve both servers), and this
orchestrator, which writes statuses to Redis exactly as the
stream sinks do (``PUT_STATUS_LUA``). The same load generator then connects the same number of
clients to a plain ``websockets`` asyncio server that subscribes to the same Redis channel and calls
``websockets.broadcast()`` for each message (compression off on both sides).

Figures, for each server:
* memory per idle connection: RSS after N clients connected (and, for the hub, subscribed) minus
  RSS before, divided by N;
* one update fanned out to N clients: N / time from the Redis write to the last client's frame
  (median of ``--singles`` updates; N counts the clients still open — on a loaded machine a
  server may close some for a late pong, and the result says how many were left), and the server's CPU per such update (``core_ms_per_update``);
* a burst of B updates (distinct facilities) to N clients: B×N / time to the last frame.
``value`` is the hub's burst frames/s, ``baseline`` broadcast()'s on the same clients. The load
average of the machine is recorded beside the figures (a shared machine moves them 2–3×), and the
previous result's single-update figure is kept as ``before``. ``--profile`` records the server
under py-spy (when installed: ``pip install py-spy``) into ``bench/results/profiles/``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

from bench.perf import PerfRecorder

ROOT = Path(__file__).resolve().parents[1]
PROFILES = ROOT / "bench" / "results" / "profiles"
HANDSHAKE = (
    "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n"
)
PONG = b"\x8a\x80\x00\x00\x00\x00"


def raise_nofile() -> int:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_ns(pid: int) -> int:
    """CPU time of every thread of ``pid`` in ns (``schedstat``: finer than ``stat``'s 10 ms
    ticks, which a single update to 10,000 clients lasts only a few of)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            total += int((task / "schedstat").read_text().split()[0])
    return total


# ── load generator ────────────────────────────────────────────────────────────────────────────


class LoadGen:
    def __init__(self) -> None:
        self.clients: list[RawClient] = []
        self.count = 0
        self.target = 0
        self.first = 0.0
        self.last = 0.0
        self.done: asyncio.Event = asyncio.Event()


class RawClient(asyncio.Protocol):
    def __init__(self, gen: LoadGen) -> None:
        self.gen = gen
        self.buf = bytearray()
        self.open = False
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.got_first: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None  # closed by the server (a keepalive timeout on a loaded machine)

    def data_received(self, data: bytes) -> None:
        buf = self.buf
        buf += data
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                self.ready.set_exception(RuntimeError(bytes(buf[:80]).decode()))
                return
            del buf[: end + 4]
            self.open = True
            self.ready.set_result(None)
        gen = self.gen
        pos, size = 0, len(buf)
        while size - pos >= 2:
            opcode = buf[pos] & 0x0F
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if size - pos < 4:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 4], "big"), 4
            elif length == 127:
                if size - pos < 10:
                    break
                length, head = int.from_bytes(buf[pos + 2 : pos + 10], "big"), 10
            if size - pos < head + length:
                break
            if opcode == 1:
                if buf[pos + head + 7 : pos + head + 13] == b"update":
                    now = time.monotonic()
                    if gen.count == 0:
                        gen.first = now
                    gen.count += 1
                    if gen.count == gen.target:
                        gen.last = now
                        gen.done.set()
                if not self.got_first.done():
                    self.got_first.set_result(None)
            elif opcode == 9 and self.transport is not None:
                self.transport.write(PONG)
            pos += head + length
        del buf[:pos]


async def _connect_all(gen: LoadGen, port: int, path: str, n: int, subscribe: bytes | None) -> None:
    loop = asyncio.get_running_loop()
    request = HANDSHAKE.format(path=path, port=port).encode()
    gate = asyncio.Semaphore(200)

    async def one() -> None:
        async with gate:
            for attempt in range(5):
                try:
                    _, client = await loop.create_connection(
                        lambda: RawClient(gen), "127.0.0.1", port
                    )
                    break
                except OSError:
                    await asyncio.sleep(0.2 * (attempt + 1))
            else:
                raise RuntimeError("could not connect")
            assert client.transport is not None
            client.transport.write(request)
            await asyncio.wait_for(client.ready, 30)
            if subscribe is not None:
                client.transport.write(subscribe)
                await asyncio.wait_for(client.got_first, 30)
            gen.clients.append(client)

    await asyncio.gather(*(one() for _ in range(n)))


async def loadgen_main() -> None:
    raise_nofile()
    gen = LoadGen()
    loop = asyncio.get_running_loop()

    def reply(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    while True:
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        cmd = json.loads(line)
        if cmd["cmd"] == "connect":
            started = time.monotonic()
            sub = bytes.fromhex(cmd["subscribe"]) if cmd.get("subscribe") else None
            await _connect_all(gen, cmd["port"], cmd["path"], cmd["n"], sub)
            reply({"connected": len(gen.clients), "secs": time.monotonic() - started})
        elif cmd["cmd"] == "expect":
            open_ = sum(c.transport is not None for c in gen.clients)
            gen.count, gen.first, gen.last = 0, 0.0, 0.0
            gen.target = cmd["per_client"] * open_
            gen.done = asyncio.Event()
            reply({"armed": True})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(gen.done.wait(), cmd["timeout"])
            reply({"count": gen.count, "first": gen.first, "last": gen.last, "open": open_})
        elif cmd["cmd"] == "close":
            for client in gen.clients:
                if client.transport is not None:
                    client.transport.abort()
            gen.clients.clear()
            await asyncio.sleep(0.5)
            reply({"closed": True})
        elif cmd["cmd"] == "cpu":
            usage = resource.getrusage(resource.RUSAGE_SELF)
            reply({"cpu_s": usage.ru_utime + usage.ru_stime})
        elif cmd["cmd"] == "exit":
            return


# ── baseline server: websockets alone + broadcast() ─────────────────────────────────────────


async def baseline_main(port: int, redis_url: str, channel: str) -> None:
    import redis.asyncio as aioredis
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    from schemas.ws import update_frame

    raise_nofile()
    connections: set[ServerConnection] = set()

    async def handler(ws: ServerConnection) -> None:
        connections.add(ws)
        try:
            await ws.wait_closed()
        finally:
            connections.discard(ws)

    redis = aioredis.from_url(redis_url)
    pubsub = redis.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe(channel)
    async with serve(handler, "127.0.0.1", port, compression=None, backlog=2048):
        print("ready", flush=True)
        while True:
            message = await pubsub.get_message(timeout=1.0)
            if message is not None and message["type"] == "message":
                broadcast(connections, update_frame(message["data"]), text=True)


# ── the hub's own Python, no socket ──────────────────────────────────────────────────────────


def dispatch_main(clients: int, per_batch: int, batches: int = 40) -> dict[str, float]:
    """Python CPU of :meth:`api.hub.Hub.dispatch` per frame in the issue-5 mix (``bench.e2e``'s
    subscriptions), every write a C no-op: the part of a frame's cost that is the hub's and not
    the kernel's (``send_floor_us_per_frame``). Batches of ``per_batch`` facilities drawn as
    the e2e producer weights them."""
    import collections
    import gc
    import random

    from api.hub import Hub
    from api.subscriber import Subscriber, Update
    from bench.e2e import subscriptions
    from schemas.catalogue import load_catalogue
    from schemas.ws import SubscribeMessage
    from tests.api.api_testkit import make_status

    sink = collections.deque[bytes](maxlen=0).append

    class Sub(Subscriber):
        __slots__ = ()

        def writer(self) -> Any:
            return sink

        def write_updates(self, updates: list[Update]) -> None:
            sink(b"".join([u.ws_frame for u in updates]))

        def send_message(self, payload: bytes, event: str, event_id: str | None = None) -> None:
            pass

        def terminate(self, code: int, reason: str) -> None:
            self.hub.detach(self)

    facilities = list(load_catalogue())
    weights = [max(20, f.capacity or 0) * (3 if f.type == "pool" else 1) for f in facilities]
    rng = random.Random(1)
    raws, warm = [], []
    for seq in range(10, 10 + batches):
        chosen = {f.id: f for f in rng.choices(facilities, weights, k=per_batch)}
        raws.append([make_status(f, seq) for f in chosen.values()])
        warm.append([make_status(f, 1) for f in chosen.values()])
    hub = Hub()
    for raw, _ops in subscriptions(0, clients):
        sub = Sub(hub)
        hub.attach(sub)
        sub.direct = sub.writer()
        hub.subscribe(sub, SubscribeMessage.model_validate_json(raw))
    for batch in warm:  # the mirror and the audiences, then the measured rounds
        hub.dispatch(batch)
    gc.collect()  # the set-up's objects are old in a server that has been up for a while
    gc.freeze()
    per_frame = []
    for batch in raws:
        started = time.thread_time()
        frames = hub.dispatch(batch)
        per_frame.append(1e6 * (time.thread_time() - started) / max(1, frames))
    return {
        "python_us_per_frame": round(statistics.median(per_frame), 3),
        "frames_per_batch": frames,
    }


# ── the API server with its garbage collections recorded ────────────────────────────────────


def gc_serve_main(port: int, out: str) -> None:
    """``api.cli serve`` with a ``gc.callbacks`` hook timing every collection; at exit, writes
    ``[[monotonic end, generation, pause s, collected, pause CPU s], ...]`` to ``out`` (bench
    only: the callback costs four clock reads per collection). The wall pause is what the
    sockets wait; its CPU part is the collector's own work (the rest: the machine's other
    processes)."""
    import atexit
    import gc

    pauses: list[tuple[float, int, float, int, float]] = []
    began = [0.0, 0.0]

    def timed(phase: str, info: dict[str, int]) -> None:
        now, cpu = time.monotonic(), time.thread_time()
        if phase == "start":
            began[:] = [now, cpu]
        else:
            pause, work = now - began[0], cpu - began[1]
            pauses.append((now, info["generation"], pause, info["collected"], work))

    gc.callbacks.append(timed)
    atexit.register(lambda: Path(out).write_text(json.dumps(pauses)))
    # uvicorn re-raises the SIGTERM it caught once it has shut down: exit through atexit
    signal.signal(signal.SIGTERM, lambda _sig, _frame: sys.exit(0))
    from api.cli import serve

    serve(host="127.0.0.1", port=port, workers=1)


def gc_summary(pauses: list[list[float]], start: float, end: float) -> dict[str, Any]:
    """Collections that ended within ``[start, end)``: count, longest and total pause (ms) per
    generation, and the longest CPU time of one."""
    summary: dict[str, Any] = {}
    for gen in (0, 1, 2):
        mine = [p for p in pauses if int(p[1]) == gen and start <= p[0] < end]
        summary[f"gen{gen}"] = {
            "count": len(mine),
            "max_ms": round(1000 * max((p[2] for p in mine), default=0.0), 2),
            "total_ms": round(1000 * sum(p[2] for p in mine), 2),
            "max_cpu_ms": round(1000 * max((p[4] for p in mine), default=0.0), 2),
        }
    return summary


# ── orchestrator ──────────────────────────────────────────────────────────────────────────────


class Channel:
    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.proc = proc

    def send(self, **cmd: Any) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps(cmd) + "\n")
        self.proc.stdin.flush()

    def ask(self, **cmd: Any) -> dict[str, Any]:
        self.send(**cmd)
        return self.read()

    def read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError("load generator died")
        value: dict[str, Any] = json.loads(line)
        return value


def _status(facility_id: str, seq: int, type_: str = "pool") -> bytes:
    from schemas.status import FacilityStatus

    now = datetime.now(UTC).isoformat(timespec="seconds")
    return FacilityStatus.model_validate(
        {
            "facility_id": facility_id,
            "name": f"Piscine banc d'essai {facility_id[-3:]}",
            "type": type_,
            "arrondissement": 5,
            "seq": seq,
            "updated_at": now,
            "open_state": "open",
            "today_hours": [{"opens": "07:00", "closes": "20:30"}],
            "next_change_at": now,
            "occupancy": {
                "count": 87,
                "capacity": 250,
                "ratio": 0.348,
                "level": "moderate",
                "trend": "rising",
                "measured_at": now,
                "source": "passages",
            },
            "last_data_at": now,
        }
    ).to_json()


async def _publish(redis: Any, settings: Any, raws: list[bytes]) -> float:
    from paris_live.live import PUT_STATUS_LUA, changes_channel, facility_key, index_key

    started = time.monotonic()
    async with redis.pipeline(transaction=False) as pipe:
        for raw in raws:
            doc = json.loads(raw)
            pipe.eval(
                PUT_STATUS_LUA,
                3,
                facility_key(settings, doc["facility_id"]),
                index_key(settings),
                changes_channel(settings),
                doc["facility_id"],
                doc["seq"],
                raw,
                doc["updated_at"],
            )
        await pipe.execute()
    return started


class Seq:
    value = 1_000_000

    @classmethod
    def next(cls) -> int:
        cls.value += 1
        return cls.value


class Gens:
    """The load generator processes, each with its share of the clients."""

    def __init__(self, channels: list[Channel], n: int) -> None:
        self.channels = channels
        k = len(channels)
        self.shares = [n // k + (1 if i < n % k else 0) for i in range(k)]

    def connect(self, port: int, path: str, subscribe: bytes | None) -> float:
        for channel, share in zip(self.channels, self.shares, strict=True):
            channel.send(
                cmd="connect",
                port=port,
                path=path,
                n=share,
                subscribe=subscribe.hex() if subscribe else None,
            )
        return max(float(channel.read()["secs"]) for channel in self.channels)

    def expect(self, per_client: int, timeout: float) -> None:
        """Count ``per_client`` frames on every client still open."""
        for channel in self.channels:
            channel.ask(cmd="expect", per_client=per_client, timeout=timeout)

    async def done(self) -> dict[str, float]:
        """Frames counted by all; the first and last frame's time (one monotonic clock)."""
        parts = [await asyncio.to_thread(channel.read) for channel in self.channels]
        lasts = [p["last"] for p in parts]
        return {
            "count": sum(p["count"] for p in parts),
            "open": sum(p["open"] for p in parts),
            "first": min(p["first"] for p in parts),
            "last": max(lasts) if all(lasts) else 0.0,
        }

    def ask_all(self, **cmd: Any) -> list[dict[str, Any]]:
        return [channel.ask(**cmd) for channel in self.channels]

    def cpu_s(self) -> float:
        return sum(float(reply["cpu_s"]) for reply in self.ask_all(cmd="cpu"))


async def _measure(
    gens: Gens,
    server_pid: int,
    redis: Any,
    settings: Any,
    n: int,
    burst: int,
    ids: list[str],
    singles_n: int,
) -> dict[str, float]:
    singles = []
    cpu = []
    for _ in range(singles_n):
        gens.expect(1, timeout=60)
        cpu0 = cpu_ns(server_pid)
        started = await _publish(redis, settings, [_status(ids[0], Seq.next())])
        done = await gens.done()
        cpu.append((cpu_ns(server_pid) - cpu0) / 1e9)
        if done["count"] < done["open"]:
            raise RuntimeError(f"single update reached {done['count']} of {done['open']} clients")
        singles.append(done["count"] / (done["last"] - started))
        await asyncio.sleep(0.3)
    gens.expect(burst, timeout=120)
    started = await _publish(redis, settings, [_status(f, Seq.next()) for f in ids[:burst]])
    done = await gens.done()
    elapsed = (done["last"] or time.monotonic()) - started
    return {
        "single_fps": statistics.median(singles),
        "single_fps_best": max(singles),
        "core_ms_per_update": 1000 * statistics.median(cpu),
        "burst_fps": done["count"] / elapsed,
        "burst_complete": float(done["count"] == done["open"] * burst),
        "clients_open": done["open"],
    }


def send_floor_us(n: int, size: int) -> float:
    """CPU µs of one bare ``socket.send`` of ``size`` bytes to each of ``n`` idle loopback TCP
    sockets from Python (median of 3 rounds): the floor of any one-write-per-client fan-out on
    this host, against which the hub's CPU per frame is read (on loopback the sender's system
    call also runs the receiver's TCP input)."""
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4096)
    port = listener.getsockname()[1]
    pairs = []
    try:
        for _ in range(n):
            client = socket.create_connection(("127.0.0.1", port))
            server, _addr = listener.accept()
            server.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pairs.append((client, server))
        payload = b"x" * size
        rounds = []
        for _ in range(3):
            started = time.thread_time()
            for _client, server in pairs:
                server.send(payload)
            rounds.append((time.thread_time() - started) / n * 1e6)
            for client, _server in pairs:
                client.recv(65536)
        return statistics.median(rounds)
    finally:
        for client, server in pairs:
            client.close()
            server.close()
        listener.close()


def _profiler(pid: int, name: str, rate: int = 500) -> subprocess.Popen[bytes] | None:
    """py-spy recording the server (None when py-spy is not installed); ``rate`` samples/s."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(py_spy).exists():
        print("  (py-spy not installed: no profile; pip install py-spy)")
        return None
    PROFILES.mkdir(parents=True, exist_ok=True)
    out = PROFILES / f"{name}.speedscope.json"
    return subprocess.Popen(
        [
            py_spy,
            "record",
            "--pid",
            str(pid),
            "--rate",
            str(rate),
            "--format",
            "speedscope",
            "--nonblocking",
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profiler(proc: subprocess.Popen[bytes] | None, name: str) -> None:
    """Stop py-spy and write a plain-text summary beside its profile (top lines, self time)."""
    if proc is None:
        return
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    path = PROFILES / f"{name}.speedscope.json"
    if not path.exists():
        return
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    lines = []
    for profile in doc["profiles"]:
        total = sum(profile["weights"]) or 1.0
        leaf: dict[str, float] = {}
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True):
            if sample:
                frame = frames[sample[-1]]
                where = f"{frame['name']} ({Path(frame.get('file', '?')).name}:{frame.get('line')})"
                leaf[where] = leaf.get(where, 0.0) + weight
        lines.append(f"{profile['name']}: {total:.2f} s sampled; self time by line")
        for where, weight in sorted(leaf.items(), key=lambda kv: -kv[1])[:15]:
            lines.append(f"  {weight / total:6.1%}  {where}")
    (PROFILES / f"{name}.txt").write_text("\n".join(lines) + "\n")


def _perf_start(pid: int) -> PerfRecorder | None:
    """``perf record`` of the hub over the single updates and the burst (None without perf)."""
    if not PerfRecorder.available():
        print("  (perf missing or not allowed (kernel.perf_event_paranoid > 2): no kernel profile)")
        return None
    recorder = PerfRecorder(pid, frequency=2999)
    recorder.start()
    return recorder


def _perf_write(
    recorder: PerfRecorder, n: int, floor_us: float, figures: dict[str, float]
) -> float:
    """Stop ``recorder``, write ``profiles/fanout-hub-perf.txt``; the kernel's share."""
    recorder.stop()
    try:
        title = (
            f"bench.fanout --perf: the hub (uvicorn + api.live_ws) under perf record -g while "
            f"one update reaches each of {n:,} clients (median {figures['single_fps']:,.0f} "
            f"frames/s, {1000 * figures['core_ms_per_update'] / n:.2f} CPU µs per frame; bare "
            f"send() floor {floor_us:.2f} µs) and a burst"
        )
        kernel, text = recorder.summary(title)
    finally:
        recorder.close()
    PROFILES.mkdir(parents=True, exist_ok=True)
    (PROFILES / "fanout-hub-perf.txt").write_text(text)
    print(f"  hub under perf: {kernel:.1%} of its samples in the kernel")
    return kernel


def _previous() -> dict[str, Any]:
    """The reference figures kept as ``before``: those of the result this run replaces, or the
    ``before`` it carried."""
    path = ROOT / "bench" / "results" / "fanout.json"
    try:
        old = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if isinstance(old.get("before"), dict) and old["before"]:
        return dict(old["before"])  # the reference point (the baseline run) stays
    keys = ("commit", "at", "single_update_fps", "websockets_single_update_fps", "value")
    return {k: old[k] for k in keys if k in old}


async def _stream(redis: Any, settings: Any, rate: int, secs: float) -> int:
    """Statuses of 1,200 libraries at ``rate`` per second for ``secs``: no client follows them,
    so the server decodes, mirrors and drops them — the allocations of an e2e run's stream (each
    update's objects live until that facility's next one) without frames to send."""
    template = _status("bench-lib-0000", 1, type_="library")
    raws = [template.replace(b"bench-lib-0000", f"bench-lib-{i:04d}".encode()) for i in range(1200)]
    seq_at = template.index(b'"seq":1') + len(b'"seq":')
    tick, sent, started = 0.05, 0, time.monotonic()
    while time.monotonic() - started < secs:
        batch = []
        for _ in range(max(1, int(rate * tick))):
            raw = raws[sent % len(raws)]
            batch.append(raw[:seq_at] + str(Seq.next()).encode() + raw[seq_at + 1 :])
            sent += 1
        await _publish(redis, settings, batch)
        await asyncio.sleep(max(0.0, started + sent / rate - time.monotonic()))
    return sent


async def orchestrate(
    n: int,
    burst: int,
    loadgens: int,
    singles: int,
    profile: bool,
    *,
    hub_only: bool = False,
    gc_watch: bool = False,
    stream_rate: int = 0,
    stream_secs: float = 0.0,
    perf: bool = False,
) -> None:
    import httpx
    import orjson
    import redis.asyncio as aioredis
    from websockets.frames import Frame, Opcode

    from bench.common import write_result
    from paris_live.live import changes_channel
    from paris_live.settings import Settings

    limit = raise_nofile()
    if n + 200 > limit:
        raise SystemExit(f"RLIMIT_NOFILE hard limit {limit} is too low for {n} clients")
    tag = uuid.uuid4().hex[:8]
    settings = Settings(env="test", redis_prefix=f"bench{tag}:", log_level="warning")
    redis = aioredis.from_url(settings.redis)
    ids = [f"bench-pool-{i:03d}" for i in range(max(burst, 1))]
    env = dict(
        os.environ,
        PARIS_LIVE_ENV="test",
        PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
        PARIS_LIVE_LOG_LEVEL="warning",
        # the load generator stands for thousands of citizens behind one address
        PARIS_LIVE_HUB_WS_MAX_PER_ADDRESS="1000000",
        PYTHONPATH=str(ROOT),
    )
    gens = Gens(
        [
            Channel(
                subprocess.Popen(  # noqa: ASYNC220 - fork+exec, returns at once
                    [sys.executable, "-m", "bench.fanout", "--role", "loadgen"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                    cwd=ROOT,
                    env=env,
                )
            )
            for _ in range(loadgens)
        ],
        n,
    )
    before_run = _previous()
    load_start = os.getloadavg()
    floor_n = min(n, (limit - 400) // 2)
    floor_us = send_floor_us(floor_n, len(_status(ids[0], 1)) + 30)
    print(f"  bare send() floor: {floor_us:.2f} CPU µs per frame ({floor_n} loopback sockets)")
    subscribe = Frame(
        Opcode.TEXT, orjson.dumps({"op": "subscribe", "filter": {"type": "pool"}})
    ).serialize(mask=True)
    results: dict[str, dict[str, float]] = {}
    try:
        # ── the hub (uvicorn + api.live_ws) ──
        port = _free_port()
        gc_out = ROOT / "bench" / "results" / f".fanout-gc-{tag}.json"
        command = ["-m", "api.cli", "serve", "--port", str(port)]
        if gc_watch:
            command = ["-m", "bench.fanout", "--role", "gcserve", "--port", str(port)]
            command += ["--gc-out", str(gc_out)]
        server = subprocess.Popen(  # noqa: ASYNC220 - fork+exec, returns at once
            [sys.executable, *command], cwd=ROOT, env=env
        )
        marks = {"start": 0.0}
        try:
            await _wait_http(httpx, f"http://127.0.0.1:{port}/v1/readyz")
            await asyncio.sleep(1.0)
            marks["ready"] = time.monotonic()
            before = rss_kib(server.pid)
            connect_s = gens.connect(port, "/v1/live", subscribe)
            await asyncio.sleep(2.0)
            after = rss_kib(server.pid)
            marks["connected"] = time.monotonic()
            cpu0, gen_cpu0 = cpu_s(server.pid), gens.cpu_s()
            profiler = _profiler(server.pid, "fanout-hub") if profile else None
            recorder = _perf_start(server.pid) if perf else None
            try:
                figures = await _measure(gens, server.pid, redis, settings, n, burst, ids, singles)
                if recorder is not None:
                    figures["kernel_share"] = _perf_write(recorder, n, floor_us, figures)
                marks["measured"] = time.monotonic()
                if stream_rate:
                    cpu_stream = cpu_ns(server.pid)
                    figures["stream_events"] = await _stream(
                        redis, settings, stream_rate, stream_secs
                    )
                    figures["stream_core_s"] = (cpu_ns(server.pid) - cpu_stream) / 1e9
                marks["streamed"] = time.monotonic()
            finally:
                _stop_profiler(profiler, "fanout-hub")
            figures["server_cpu_s"] = cpu_s(server.pid) - cpu0
            figures["loadgen_cpu_s"] = gens.cpu_s() - gen_cpu0
            figures["kib_per_conn"] = (after - before) / n
            figures["connect_s"] = connect_s
            results["hub"] = figures
            gens.ask_all(cmd="close")
        finally:
            server.terminate()
            server.wait(timeout=30)
        if gc_watch:
            pauses = json.loads(gc_out.read_text())
            gc_out.unlink()
            phases = {"start-up": "start", "connect": "ready", "fan-out": "connected"}
            phases |= {"stream": "measured", "end": "streamed"}
            names = list(phases)
            gc_figures = {
                name: gc_summary(pauses, marks[phases[name]], marks[phases[after]])
                for name, after in itertools.pairwise(names)
            }
            for name, figures_ in gc_figures.items():
                print(f"  hub garbage collections, {name}: {json.dumps(figures_)}")
        if hub_only:
            f = results["hub"]
            print(
                f"  hub only: one update → all {f['single_fps']:,.0f} frames/s "
                f"(best {f['single_fps_best']:,.0f}; {f['core_ms_per_update']:.1f} core-ms, "
                f"{1000 * f['core_ms_per_update'] / n:.2f} µs/frame against a send() floor of "
                f"{floor_us:.2f}) | burst {f['burst_fps']:,.0f} frames/s | load average "
                f"{load_start[0]:.2f} → {os.getloadavg()[0]:.2f} | {json.dumps(f)}"
            )
            return
        # ── websockets alone + broadcast() ──
        port = _free_port()
        baseline = subprocess.Popen(  # noqa: ASYNC220 - fork+exec, returns at once
            [
                sys.executable,
                "-m",
                "bench.fanout",
                "--role",
                "baseline",
                "--port",
                str(port),
                "--redis",
                settings.redis,
                "--channel",
                changes_channel(settings),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert baseline.stdout is not None
            assert baseline.stdout.readline().strip() == "ready"
            await asyncio.sleep(1.0)
            before = rss_kib(baseline.pid)
            connect_s = gens.connect(port, "/", None)
            await asyncio.sleep(2.0)
            after = rss_kib(baseline.pid)
            cpu0, gen_cpu0 = cpu_s(baseline.pid), gens.cpu_s()
            profiler = _profiler(baseline.pid, "fanout-websockets") if profile else None
            try:
                figures = await _measure(
                    gens, baseline.pid, redis, settings, n, burst, ids, singles
                )
            finally:
                _stop_profiler(profiler, "fanout-websockets")
            figures["server_cpu_s"] = cpu_s(baseline.pid) - cpu0
            figures["loadgen_cpu_s"] = gens.cpu_s() - gen_cpu0
            figures["kib_per_conn"] = (after - before) / n
            figures["connect_s"] = connect_s
            results["websockets"] = figures
            gens.ask_all(cmd="close")
        finally:
            baseline.terminate()
            baseline.wait(timeout=30)
        loadgen_cpu = gens.cpu_s()
    finally:
        for channel in gens.channels:
            if channel.proc.stdin is not None:
                channel.proc.stdin.close()
            channel.proc.wait(timeout=30)
        keys = [k async for k in redis.scan_iter(match=f"{settings.redis_prefix}*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()

    load_end = os.getloadavg()
    hub, ws = results["hub"], results["websockets"]
    print(
        f"clients: {n} over {loadgens} load generator(s), burst: {burst} updates; load average "
        f"{load_start[0]:.2f} at start, {load_end[0]:.2f} at end"
    )
    for name, f in results.items():
        print(
            f"  {name:10s} {f['kib_per_conn']:6.1f} KiB/idle conn | one update → all: "
            f"{f['single_fps']:>10,.0f} frames/s ({f['core_ms_per_update']:.1f} core-ms) | "
            f"burst: {f['burst_fps']:>10,.0f} frames/s | server CPU {f['server_cpu_s']:.2f} s, "
            f"load generators {f['loadgen_cpu_s']:.2f} s | connect {f['connect_s']:.1f} s | "
            f"{f['clients_open']:.0f} clients still open at the end"
        )
    if before_run.get("single_update_fps"):
        print(
            f"  one update → all, before ({before_run.get('commit')}): "
            f"{before_run['single_update_fps']:,.0f} frames/s; now {hub['single_fps']:,.0f} "
            f"({hub['single_fps'] / before_run['single_update_fps']:.2f}×)"
        )
    print(
        f"  ratios hub/websockets: burst {hub['burst_fps'] / ws['burst_fps']:.2f}, "
        f"single {hub['single_fps'] / ws['single_fps']:.2f}, memory "
        f"{hub['kib_per_conn'] / ws['kib_per_conn']:.2f}; load generator CPU {loadgen_cpu:.1f} s"
    )
    write_result(
        "fanout",
        hub["burst_fps"],
        "frames/s",
        "websockets.broadcast()",
        ws["burst_fps"],
        "≥ 100,000 frames/s and ≥ 1× broadcast(); ≤ 20 KiB per idle connection",
        clients=n,
        burst_updates=burst,
        kib_per_idle_connection=round(hub["kib_per_conn"], 2),
        websockets_kib_per_idle_connection=round(ws["kib_per_conn"], 2),
        single_update_fps=round(hub["single_fps"], 1),
        websockets_single_update_fps=round(ws["single_fps"], 1),
        server_cpu_s=round(hub["server_cpu_s"], 2),
        websockets_server_cpu_s=round(ws["server_cpu_s"], 2),
        loadgen_cpu_s=round(loadgen_cpu, 2),
        single_update_fps_now=round(hub["single_fps"], 1),
        single_update_ratio=round(hub["single_fps"] / ws["single_fps"], 3),
        single_update_fps_best=round(hub["single_fps_best"], 1),
        websockets_single_update_fps_best=round(ws["single_fps_best"], 1),
        single_updates=singles,
        core_ms_per_update=round(hub["core_ms_per_update"], 2),
        websockets_core_ms_per_update=round(ws["core_ms_per_update"], 2),
        us_per_frame=round(1000 * hub["core_ms_per_update"] / n, 3),
        send_floor_us_per_frame=round(floor_us, 3),
        websockets_us_per_frame=round(1000 * ws["core_ms_per_update"] / n, 3),
        loadgens=loadgens,
        clients_open_at_end=int(hub["clients_open"]),
        websockets_clients_open_at_end=int(ws["clients_open"]),
        loadgen_cpu_s_hub=round(hub["loadgen_cpu_s"], 2),
        loadgen_cpu_s_websockets=round(ws["loadgen_cpu_s"], 2),
        load_average_start=[round(x, 2) for x in load_start],
        load_average_end=[round(x, 2) for x in load_end],
        before=before_run,
        **({"hub_kernel_share": round(hub["kernel_share"], 3)} if "kernel_share" in hub else {}),
        profiles=sorted(str(p.relative_to(ROOT)) for p in PROFILES.glob("fanout-*.json"))
        if profile
        else [],
    )


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def _wait_http(httpx: Any, url: str, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(timeout=2.0) as client:
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} never became ready")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=10_000)
    parser.add_argument("--burst", type=int, default=20)
    parser.add_argument(
        "--loadgens",
        type=int,
        default=1,
        help="load generator processes (on 2 cores, 1: the server keeps a core to itself)",
    )
    parser.add_argument("--singles", type=int, default=11, help="single updates measured")
    parser.add_argument("--profile", action="store_true", help="py-spy the servers")
    parser.add_argument(
        "--perf",
        action="store_true",
        help="perf record the hub over the single updates and the burst: its kernel share, and "
        "profiles/fanout-hub-perf.txt",
    )
    parser.add_argument(
        "--role",
        choices=["orchestrator", "loadgen", "baseline", "dispatch", "gcserve"],
        default="orchestrator",
        help="dispatch: only the hub's Python per frame in the issue-5 mix (no socket), printed",
    )
    parser.add_argument(
        "--per-batch", type=int, default=70, help="dispatch: facilities drawn per batch"
    )
    parser.add_argument(
        "--hub-only",
        action="store_true",
        help="measure the hub alone (no websockets baseline), print, write no result: for A/B runs",
    )
    parser.add_argument(
        "--gc",
        action="store_true",
        help="time the hub's garbage collections (gc.callbacks), printed per phase",
    )
    parser.add_argument(
        "--stream-rate",
        type=int,
        default=0,
        help="after the fan-out, statuses/s of 1,200 facilities no client follows (e2e's heap)",
    )
    parser.add_argument("--stream-secs", type=float, default=30.0)
    parser.add_argument("--gc-out", default="")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--redis", default="")
    parser.add_argument("--channel", default="")
    args = parser.parse_args()
    import uvloop

    if args.role == "dispatch":
        print(
            json.dumps(
                {
                    "clients": args.clients,
                    "per_batch": args.per_batch,
                    **dispatch_main(args.clients, args.per_batch),
                }
            )
        )
        return
    if args.role == "gcserve":
        gc_serve_main(args.port, args.gc_out)
        return
    if args.role == "loadgen":
        uvloop.run(loadgen_main())
    elif args.role == "baseline":
        uvloop.run(baseline_main(args.port, args.redis, args.channel))
    else:
        uvloop.run(
            orchestrate(
                args.clients,
                args.burst,
                args.loadgens,
                args.singles,
                args.profile,
                hub_only=args.hub_only,
                gc_watch=args.gc,
                stream_rate=args.stream_rate,
                perf=args.perf,
                stream_secs=args.stream_secs,
            )
        )


if __name__ == "__main__":
    main()
