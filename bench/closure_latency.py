"""Closure and equipment outage visibility: an agent declares through the API → a subscribed
WebSocket client sees it.

    .venv/bin/python -m bench.closure_latency [--closures 50] [--outages 50]

Runs, on the real Kafka, Redis and PostgreSQL (isolated topic prefix, Redis prefix and schema,
removed afterwards): one stream worker (``python -m paris_live.cli worker``) and one API process
(``python -m api.cli serve``), each in its own process, and this orchestrator, which holds a
WebSocket client subscribed to the facilities it closes.

For each closure: ``POST /v1/facilities/{id}/closures`` is sent at t0; the latency is the time
until an ``update`` frame listing that ``closure_id`` reaches the client (PostgreSQL transaction,
Kafka publish with acks=all, worker fetch + state machine + 100 ms live flush, Redis PUT_STATUS +
pub/sub, hub fan-out). Then the closure is ended and the time until it disappears is recorded.

Baseline, in the same run: a status written straight to Redis as the stream sinks do
(``PUT_STATUS_LUA``) → the same client's frame, i.e. the part of the path after the worker.
``value`` is the declare→WebSocket p99 (target ≤ 1 s).

Equipment outages (issue 20), the same way and through the same declaration service: for each,
``POST /v1/facilities/{id}/equipment-outages`` (a town hall's lift out of service) at t0; the
latency is the time until an ``update`` frame shows that lift out of service, then
``…/equipment-outages/end`` until the frame shows it back. Written as ``equipment_latency``
(target: declared → visible on a subscribed card ≤ 1 s p99).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import redis.asyncio as aioredis
import websockets
from psycopg import sql

from api.auth import issue_token
from bench.common import write_result
from paris_live.db import connect, migrate
from paris_live.kafka_admin import delete_topics, ensure_topics
from paris_live.live import PUT_STATUS_LUA, changes_channel, facility_key, index_key
from paris_live.settings import Settings
from schemas.catalogue import load_catalogue
from schemas.equipment import equipment_of

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


class Children:
    """The worker and API processes, always stopped (SIGTERM, then SIGKILL)."""

    def __init__(self, settings: Settings, state_dir: Path) -> None:
        self.env = dict(os.environ)
        self.env.update(
            PARIS_LIVE_ENV="test",
            PARIS_LIVE_KAFKA_BOOTSTRAP=settings.kafka,
            PARIS_LIVE_REDIS_URL=settings.redis,
            PARIS_LIVE_DATABASE_URL=settings.database,
            PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix,
            PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
            PARIS_LIVE_DB_SCHEMA=settings.db_schema,
            PARIS_LIVE_PARTITIONS=str(settings.partitions),
            PARIS_LIVE_STATE_DIR=str(state_dir),
            PARIS_LIVE_LOG_JSON="false",
            PARIS_LIVE_LOG_LEVEL="warning",
            PYTHONPATH=str(ROOT),
        )
        self.state_dir = state_dir
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, args: list[str]) -> None:
        log = (self.state_dir / f"{name}.log").open("wb")
        proc = subprocess.Popen(
            [sys.executable, *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs.append((name, proc))

    def check(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.state_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self) -> None:
        for _, proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for _, proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=5)


class Watcher:
    """A WebSocket client of ``/v1/live``: when each closure id appeared and disappeared."""

    def __init__(self) -> None:
        self.appeared: dict[str, float] = {}
        self.gone: dict[str, float] = {}
        self.seqs: dict[tuple[str, int], float] = {}
        self.open: dict[str, set[str]] = {}
        self.down: dict[str, bool] = {}
        self.lift: dict[tuple[str, str, int], float] = {}
        """(facility, "down" | "up", n) → when the n-th such change of its lift arrived."""
        self.changed = asyncio.Event()
        self.subscribed = asyncio.Event()

    def feed(self, frame: str | bytes, at: float) -> None:
        message = orjson.loads(frame)
        if message.get("op") == "snapshot":
            self.subscribed.set()
        if message.get("op") != "update":
            return
        status = message["facility"]
        facility_id = status["facility_id"]
        self.seqs.setdefault((facility_id, status["seq"]), at)
        now_open = {c["closure_id"] for c in status.get("closures") or []}
        for closure_id in now_open:
            self.appeared.setdefault(closure_id, at)
        for closure_id in self.open.get(facility_id, set()) - now_open:
            self.gone.setdefault(closure_id, at)
        self.open[facility_id] = now_open
        equipment = (status.get("accessibility") or {}).get("equipment") or []
        lift = next((e for e in equipment if e["equipment_id"] == "lift"), None)
        if lift is not None:
            down = lift["status"] != "in_service"
            if down != self.down.get(facility_id, False):
                way = "down" if down else "up"
                n = 1 + sum(1 for (f, w, _) in self.lift if f == facility_id and w == way)
                self.lift[(facility_id, way, n)] = at
            self.down[facility_id] = down
        self.changed.set()

    async def wait_for(self, seen: dict[Any, float], key: Any, within: float) -> float:
        deadline = time.perf_counter() + within
        while key not in seen:
            left = deadline - time.perf_counter()
            if left <= 0:
                raise TimeoutError(f"{key} not seen within {within} s")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return seen[key]


async def _listen(url: str, facilities: list[str], watcher: Watcher) -> None:
    async with websockets.connect(url, max_size=None) as ws:
        await ws.send(orjson.dumps({"op": "subscribe", "facilities": facilities}).decode())
        async for frame in ws:
            watcher.feed(frame, time.perf_counter())


async def _wait_ready(base: str, children: Children, within: float = 60.0) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient(base_url=base, timeout=2.0) as http:
        while True:
            children.check()
            with contextlib.suppress(httpx.HTTPError):
                if (await http.get("/v1/readyz")).status_code == 200:
                    return
            if time.monotonic() > deadline:
                raise TimeoutError(f"{base} never became ready")
            await asyncio.sleep(0.1)


def _token(settings: Settings) -> dict[str, str]:
    # one token per request: the benchmark must not measure the per-token rate limit
    value = issue_token(
        settings,
        f"bench-{uuid.uuid4().hex[:8]}",
        "supervisor",
        facility_types=["pool", "town_hall"],
    )
    return {"Authorization": f"Bearer {value}"}


async def _declare(http: httpx.AsyncClient, settings: Settings, facility_id: str) -> str:
    reopening = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    response = await http.post(
        f"/v1/facilities/{facility_id}/closures",
        json={"reason": "technical_failure", "expected_reopening_at": reopening.isoformat()},
        headers=_token(settings),
    )
    if response.status_code != 201:
        raise RuntimeError(f"declare answered {response.status_code}: {response.text}")
    closure_id: str = response.json()["closure_id"]
    return closure_id


async def _outage(
    http: httpx.AsyncClient, settings: Settings, facility_id: str, end: bool = False
) -> None:
    """The lift of ``facility_id`` out of service (or back: ``end``), as an agent declares it."""
    back = dt.datetime.now(dt.UTC) + dt.timedelta(hours=2)
    body = {"equipment_id": "lift"}
    if not end:
        body |= {"kind": "lift", "expected_back_at": back.isoformat()}
    path = f"/v1/facilities/{facility_id}/equipment-outages" + ("/end" if end else "")
    response = await http.post(path, json=body, headers=_token(settings))
    if response.status_code not in (200, 201):
        raise RuntimeError(f"outage answered {response.status_code}: {response.text}")


async def _outages(
    http: httpx.AsyncClient, settings: Settings, watcher: Watcher, halls: list[str], n: int
) -> tuple[list[float], list[float]]:
    """Declared → frame and ended → frame of ``n`` lift outages, ms."""
    declare_ms, end_ms = [], []
    for i in range(n):
        facility_id = halls[i % len(halls)]
        rank = i // len(halls) + 1
        t0 = time.perf_counter()
        await _outage(http, settings, facility_id)
        t1 = await watcher.wait_for(watcher.lift, (facility_id, "down", rank), 30.0)
        declare_ms.append((t1 - t0) * 1000)
        t2 = time.perf_counter()
        await _outage(http, settings, facility_id, end=True)
        t3 = await watcher.wait_for(watcher.lift, (facility_id, "up", rank), 30.0)
        end_ms.append((t3 - t2) * 1000)
        await asyncio.sleep(0.05)
    return declare_ms, end_ms


async def _baseline(
    redis: aioredis.Redis, settings: Settings, watcher: Watcher, facility_id: str, samples: int
) -> list[float]:
    """PUT_STATUS straight into Redis → the client's frame, ms."""
    raw = await redis.hget(facility_key(settings, facility_id), "json")
    if raw is None:
        raise RuntimeError(f"no live status for {facility_id}")
    doc = orjson.loads(raw)
    latencies = []
    for i in range(samples):
        seq = doc["seq"] + 1_000_000 + i
        doc.update(seq=seq, updated_at=dt.datetime.now(dt.UTC).isoformat())
        t0 = time.perf_counter()
        await redis.eval(
            PUT_STATUS_LUA,
            3,
            facility_key(settings, facility_id),
            index_key(settings),
            changes_channel(settings),
            facility_id,
            seq,
            orjson.dumps(doc),
            doc["updated_at"],
        )
        t1 = await watcher.wait_for(watcher.seqs, (facility_id, seq), 10.0)
        latencies.append((t1 - t0) * 1000)
        await asyncio.sleep(0.02)
    return latencies


@contextlib.contextmanager
def _environment() -> Iterator[tuple[Settings, Path]]:
    tag = uuid.uuid4().hex[:8]
    base = Settings(env="test", log_json=False)
    settings = base.model_copy(
        update={
            "topic_prefix": f"bench{tag}.",
            "redis_prefix": f"bench{tag}:",
            "db_schema": f"bench_{tag}",
        }
    )
    with tempfile.TemporaryDirectory(prefix="closure-latency-") as state:
        yield settings, Path(state)


async def _cleanup(settings: Settings, created: list[str]) -> None:
    with contextlib.suppress(Exception):
        await delete_topics(settings, created)
    async with await connect(settings, autocommit=True) as conn:
        await conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(settings.db_schema))
        )
    redis = aioredis.from_url(settings.redis)
    keys = [k async for k in redis.scan_iter(match=f"{settings.redis_prefix}*", count=1000)]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


async def run(closures: int, outages: int) -> dict[str, Any]:
    catalogue = load_catalogue()
    pools = [f.id for f in catalogue.by_type("pool")]
    targets = pools[:10]
    halls = [
        f.id
        for f in catalogue.by_type("town_hall")
        if any(e.equipment_id == "lift" for e in equipment_of(f))
    ][:10]
    with _environment() as (settings, state_dir):
        created = await ensure_topics(settings)
        await migrate(settings)
        children = Children(settings, state_dir)
        port = _free_port()
        try:
            children.start("worker", ["-m", "paris_live.cli", "worker", "--no-prepare"])
            children.start("api", ["-m", "api.cli", "serve", "--port", str(port)])
            base = f"http://127.0.0.1:{port}"
            await _wait_ready(base, children)
            watcher = Watcher()
            listener = asyncio.create_task(
                _listen(f"ws://127.0.0.1:{port}/v1/live", targets + halls, watcher)
            )
            await asyncio.wait_for(watcher.subscribed.wait(), 10.0)
            redis = aioredis.from_url(settings.redis)
            async with httpx.AsyncClient(base_url=base, timeout=10.0) as http:
                # warm-up: the worker joins its consumer group and owns the partitions
                t_start = time.monotonic()
                probe = await _declare(http, settings, targets[0])
                while probe not in watcher.appeared:
                    children.check()
                    if time.monotonic() - t_start > 120:
                        raise TimeoutError("the worker never applied the first closure")
                    await asyncio.sleep(0.1)
                warmup_s = time.monotonic() - t_start
                await http.post(f"/v1/closures/{probe}/end", headers=_token(settings))
                await watcher.wait_for(watcher.gone, probe, 30.0)

                declare_ms, end_ms, api_ms = [], [], []
                for i in range(closures):
                    facility_id = targets[i % len(targets)]
                    t0 = time.perf_counter()
                    closure_id = await _declare(http, settings, facility_id)
                    api_ms.append((time.perf_counter() - t0) * 1000)
                    t1 = await watcher.wait_for(watcher.appeared, closure_id, 30.0)
                    declare_ms.append((t1 - t0) * 1000)
                    t2 = time.perf_counter()
                    ended = await http.post(
                        f"/v1/closures/{closure_id}/end", headers=_token(settings)
                    )
                    if ended.status_code != 200:
                        raise RuntimeError(f"end answered {ended.status_code}: {ended.text}")
                    t3 = await watcher.wait_for(watcher.gone, closure_id, 30.0)
                    end_ms.append((t3 - t2) * 1000)
                    await asyncio.sleep(0.05)
                outage_ms, outage_end_ms = await _outages(http, settings, watcher, halls, outages)
                # after the closures: bumping seq past the worker's is harmless now
                baseline_ms = await _baseline(redis, settings, watcher, targets[0], closures)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await listener
            await redis.aclose()
        finally:
            children.stop()
            await _cleanup(settings, created)
    return {
        "declare_ms": declare_ms,
        "end_ms": end_ms,
        "api_ms": api_ms,
        "baseline_ms": baseline_ms,
        "warmup_s": warmup_s,
        "outage_ms": outage_ms,
        "outage_end_ms": outage_end_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--closures", type=int, default=50, help="closures declared and ended")
    parser.add_argument("--outages", type=int, default=50, help="lift outages declared and ended")
    args = parser.parse_args()
    figures = asyncio.run(asyncio.wait_for(run(args.closures, args.outages), timeout=900))
    declare_ms, end_ms = figures["declare_ms"], figures["end_ms"]
    baseline_ms, api_ms = figures["baseline_ms"], figures["api_ms"]
    p99 = _percentile(declare_ms, 0.99)
    print(
        f"declare → WebSocket: p50 {statistics.median(declare_ms):.0f} ms, p99 {p99:.0f} ms, "
        f"max {max(declare_ms):.0f} ms over {len(declare_ms)} closures "
        f"(API answer p50 {statistics.median(api_ms):.0f} ms); end → WebSocket p50 "
        f"{statistics.median(end_ms):.0f} ms, p99 {_percentile(end_ms, 0.99):.0f} ms; "
        f"worker warm-up {figures['warmup_s']:.1f} s"
    )
    write_result(
        "closure_latency",
        p99,
        "ms",
        "redis_put_status_to_ws_p99",
        _percentile(baseline_ms, 0.99),
        "p99 ≤ 1000 ms (declare → subscribed WebSocket client)",
        p50_ms=round(statistics.median(declare_ms), 1),
        p99_ms=round(p99, 1),
        max_ms=round(max(declare_ms), 1),
        samples=float(len(declare_ms)),
        api_p50_ms=round(statistics.median(api_ms), 1),
        api_p99_ms=round(_percentile(api_ms, 0.99), 1),
        end_p50_ms=round(statistics.median(end_ms), 1),
        end_p99_ms=round(_percentile(end_ms, 0.99), 1),
        baseline_p50_ms=round(statistics.median(baseline_ms), 1),
        baseline_p99_ms=round(_percentile(baseline_ms, 0.99), 1),
    )
    outage_ms, outage_end_ms = figures["outage_ms"], figures["outage_end_ms"]
    if outage_ms:
        outage_p99 = _percentile(outage_ms, 0.99)
        print(
            f"lift out of service → WebSocket: p50 {statistics.median(outage_ms):.0f} ms, p99 "
            f"{outage_p99:.0f} ms, max {max(outage_ms):.0f} ms over {len(outage_ms)} outages; "
            f"back in service → WebSocket p50 {statistics.median(outage_end_ms):.0f} ms, p99 "
            f"{_percentile(outage_end_ms, 0.99):.0f} ms"
        )
        write_result(
            "equipment_latency",
            outage_p99,
            "ms",
            "redis_put_status_to_ws_p99",
            _percentile(baseline_ms, 0.99),
            "p99 ≤ 1000 ms (equipment outage declared → subscribed WebSocket client)",
            p50_ms=round(statistics.median(outage_ms), 1),
            p99_ms=round(outage_p99, 1),
            max_ms=round(max(outage_ms), 1),
            samples=float(len(outage_ms)),
            end_p50_ms=round(statistics.median(outage_end_ms), 1),
            end_p99_ms=round(_percentile(outage_end_ms, 0.99), 1),
        )


if __name__ == "__main__":
    main()
