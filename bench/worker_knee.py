"""The stream worker's CPU per event at moderate rates, and where its time goes (issue 18).

    .venv/bin/python -m bench.worker_knee [--rates 500,2000] [--warm 3] [--measure 8] [--repeat 2]
                                          [--profile 2000] [--label NAME]

One stream worker (``python -m paris_live.cli worker``) on the real Kafka, Redis and PostgreSQL
(isolated topic prefix, Redis prefix and schema, removed afterwards), fed by the paced producer of
:mod:`bench.e2e` (the simulator of the whole catalogue, each event's ``time`` set when it is handed
to Kafka). No API and no WebSocket clients: the worker's cost does not depend on them, and the two
shared cores stay for the worker.

Per point: ``rate`` events/s for ``warm`` + ``measure`` s. The worker's CPU (user + system, every
thread, from ``/proc``) is counted from the start of the measuring window until the last event
produced is in Redis (as ``bench.e2e`` does), divided by the events produced in the window:
``core_ms_per_event``. The main thread (asyncio: the processor, the sinks, the timers) and the other
threads (faust's consumer thread, librdkafka-less aiokafka runs in the loop) are given apart.
``publish`` latency is event time → the change notification on Redis (what the API's hub reads),
one sample per notification that carries a newer ``last_data_at`` for its facility. The longest
time without any such notification in the window (``notification_gap_max_ms``, and every gap
over 250 ms with its start in s into the window) is the longest stall of the worker (a snapshot
round, a full garbage collection) or of what feeds it; the maximum latency is given too, but it
counts a ``last_data_at`` moved by an event that changed nothing, published with the next change
seconds later, as one late sample. The worker's
garbage collections in the window (count per generation, total and longest pause) come from its
``PARIS_LIVE_GC_PAUSES`` log (:mod:`paris_live.runtime_gc`).

``--profile RATE`` runs one more point at that rate under py-spy (``pip install py-spy`` in the
venv; not a project dependency) and writes ``bench/results/profiles/worker-knee[-LABEL]
.speedscope.json`` and a text summary beside it (self time by line, inclusive time by function);
that point's CPU is left out of the figures (py-spy takes some of the two cores).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import itertools
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.e2e import ROOT, Sweep

PROFILES = ROOT / "bench" / "results" / "profiles"
TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of a process, by thread id."""
    out: dict[int, float] = {}
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
                out[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def cpu_split(pid: int, before: dict[int, float], after: dict[int, float]) -> dict[str, float]:
    """CPU seconds between two readings: the main thread, the others, and the whole process."""
    used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
    main = used.get(pid, 0.0)
    total = sum(used.values())
    return {"main": main, "threads": total - main, "total": total}


class Notifications:
    """The change notifications of the worker's Redis channel: event time → notification."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.newest = 0.0
        self.samples: list[tuple[float, float]] = []
        """(receive wall time, latency in s) per notification carrying a newer event."""
        self._last: dict[str, float] = {}
        self._moved = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Notifications:
        import redis.asyncio as aioredis

        from paris_live.live import changes_channel

        self._redis = aioredis.from_url(self.settings.redis)
        self._pubsub = self._redis.pubsub()
        await self._pubsub.subscribe(changes_channel(self.settings))
        self._task = asyncio.ensure_future(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._pubsub.aclose()
        await self._redis.aclose()

    async def _read(self) -> None:
        import orjson

        async for message in self._pubsub.listen():
            if message.get("type") != "message":
                continue
            now = time.time()
            status = orjson.loads(message["data"])
            seen = status.get("last_data_at")
            if not seen:
                continue
            at = dt.datetime.fromisoformat(seen).timestamp()
            fid = status["facility_id"]
            if at > self._last.get(fid, 0.0):
                self._last[fid] = at
                self.samples.append((now, now - at))
                self.newest = max(self.newest, at)
                self._moved.set()

    async def wait_newest(self, at: float, within: float) -> bool:
        """Wait until a notification carries an event at ``at`` or newer; False after ``within``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while self.newest < at:
                    self._moved.clear()
                    await self._moved.wait()
        return self.newest >= at

    def gaps(self, since: float, until: float) -> list[tuple[float, float]]:
        """(start, length) of every time without a notification between ``since`` and ``until``,
        longest first: the stalls of the worker's publishing (at 2,000 events/s it announces
        ~1,600 changes a second) — or of what feeds it (producer, broker, fetch)."""
        times = [since, *(at for at, _ in self.samples if since <= at <= until), until]
        return sorted(((a, b - a) for a, b in itertools.pairwise(times)), key=lambda g: -g[1])

    def latencies_since(self, since: float) -> list[float]:
        return sorted(lat for at, lat in self.samples if at >= since)


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


async def point(
    sweep: Sweep,
    notes: Notifications,
    rate: int,
    warm: float,
    measure: float,
    *,
    profile: str | None = None,
) -> dict[str, Any]:
    """``rate`` events/s; the worker's CPU per event and the publish latency while measuring."""
    sweep.check()
    worker = sweep.procs["worker"].pid
    producer = sweep.start(
        "producer",
        ["-m", "bench.e2e", "--produce", "--rate", str(rate), "--duration", str(warm + measure)],
    )
    assert producer.stdout is not None
    if not await asyncio.to_thread(producer.stdout.readline):
        raise RuntimeError(f"the producer exited with {producer.wait()}")
    await asyncio.sleep(warm)
    spy = _profiler(worker, profile) if profile else None
    since = time.time()
    t0, cpu0 = time.monotonic(), thread_cpu(worker)
    await asyncio.sleep(measure)
    window = cpu_split(worker, cpu0, thread_cpu(worker))
    wall = time.monotonic() - t0
    if spy is not None and profile is not None:
        _stop_profiler(spy, profile)
    out = await asyncio.wait_for(asyncio.to_thread(producer.stdout.read), 120)
    await asyncio.to_thread(producer.wait, 30)
    sweep.procs.pop("producer", None)
    produced = json.loads(out.decode().strip().splitlines()[-1])
    drained = await notes.wait_newest(produced["last"] - 0.001, within=30.0)
    until_drained = cpu_split(worker, cpu0, thread_cpu(worker))
    events = max(1.0, produced["rate"] * measure)  # (rate 0: the idle worker, per second)
    latencies = notes.latencies_since(since)
    gaps = notes.gaps(since, since + measure)
    gc_figures = gc_pauses(sweep.state_dir / GC_LOG, since, since + measure)
    return {
        "rate": rate,
        "produced_rate": round(produced["rate"], 1),
        "drained": drained,
        "core_ms_per_event": round(1000 * until_drained["total"] / events, 3),
        "core_ms_per_event_main": round(1000 * until_drained["main"] / events, 3),
        "core_ms_per_event_threads": round(1000 * until_drained["threads"] / events, 3),
        "cpu_worker_pct": round(100 * window["total"] / wall, 1),
        "cpu_worker_main_pct": round(100 * window["main"] / wall, 1),
        "publish_p50_ms": round(1000 * _pct(latencies, 0.5), 1),
        "publish_p99_ms": round(1000 * _pct(latencies, 0.99), 1),
        "publish_p999_ms": round(1000 * _pct(latencies, 0.999), 1),
        "publish_max_ms": round(1000 * latencies[-1], 1) if latencies else None,
        "notification_gap_max_ms": round(1000 * gaps[0][1], 1),
        "notification_gaps_over_250ms": [
            [round(at - since, 1), round(1000 * length)] for at, length in gaps if length > 0.25
        ],
        **gc_figures,
        "notifications_per_s": round(len(latencies) / measure, 1),
        "load_average_1m": round(os.getloadavg()[0], 2),
    }


GC_LOG = "gc-pauses.log"


def gc_pauses(path: Path, since: float, until: float) -> dict[str, Any]:
    """The worker's garbage collections that ended within [since, until] (its
    :func:`paris_live.runtime_gc.record_pauses` log; a worker without it: no figures)."""
    if not path.exists():
        return {"gc_collections": None}
    counts = [0, 0, 0]
    pauses: list[float] = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError, IndexError):
            at, gen, pause, _ = line.split()
            if since <= float(at) <= until:
                counts[int(gen)] += 1
                pauses.append(float(pause))
    return {
        "gc_collections": counts,
        "gc_pause_total_ms": round(1000 * sum(pauses), 1),
        "gc_pause_max_ms": round(1000 * max(pauses, default=0.0), 1),
    }


def _profiler(pid: int, name: str) -> subprocess.Popen[bytes] | None:
    """py-spy recording the worker, every thread, idle samples left out (None: not installed)."""
    py_spy = Path(sys.executable).parent / "py-spy"
    if not py_spy.exists():
        print("  (py-spy not installed: no profile; .venv/bin/python -m pip install py-spy)")
        return None
    PROFILES.mkdir(parents=True, exist_ok=True)
    out = PROFILES / f"{name}.speedscope.json"
    return subprocess.Popen(
        [
            *(str(py_spy), "record", "--pid", str(pid), "--rate", "250"),
            *("--format", "speedscope", "--nonblocking", "--output", str(out)),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _stop_profiler(proc: subprocess.Popen[bytes], name: str) -> None:
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=60)
    path = PROFILES / f"{name}.speedscope.json"
    if path.exists():
        (PROFILES / f"{name}-profile.txt").write_text(summarise_profile(path))


def summarise_profile(path: Path, top: int = 25) -> str:
    """Self time by line and inclusive time by function, per thread, of a speedscope profile."""
    doc = json.loads(path.read_text())
    frames = doc["shared"]["frames"]
    lines: list[str] = []
    grand = sum(sum(p["weights"]) for p in doc["profiles"]) or 1.0
    for profile in sorted(doc["profiles"], key=lambda p: -sum(p["weights"])):
        total = sum(profile["weights"]) or 1.0
        leaf: dict[str, float] = {}
        inclusive: dict[str, float] = {}
        for sample, weight in zip(profile["samples"], profile["weights"], strict=True):
            if not sample:
                continue
            frame = frames[sample[-1]]
            where = f"{frame['name']} ({Path(frame.get('file', '?')).name}:{frame.get('line')})"
            leaf[where] = leaf.get(where, 0.0) + weight
            for name in {
                f"{frames[i]['name']} ({Path(frames[i].get('file', '?')).name})" for i in sample
            }:
                inclusive[name] = inclusive.get(name, 0.0) + weight
        lines.append(
            f"{profile['name']}: {total:.2f} s sampled ({total / grand:.0%} of all threads)"
        )
        lines.append("  self time by line")
        for where, weight in sorted(leaf.items(), key=lambda kv: -kv[1])[:top]:
            lines.append(f"    {weight / total:6.1%}  {where}")
        lines.append("  inclusive time by function")
        ranked = sorted(inclusive.items(), key=lambda kv: -kv[1])
        for where, weight in [kv for kv in ranked if kv[1] < 0.9 * total][: 2 * top]:
            lines.append(f"    {weight / total:6.1%}  {where}")
        lines.append("")
    return "\n".join(lines)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    from bench.closure_latency import _cleanup
    from paris_live.db import migrate
    from paris_live.kafka_admin import ensure_topics
    from paris_live.settings import Settings

    tag = uuid.uuid4().hex[:8]
    settings = Settings(env="test", log_json=False).model_copy(
        update={
            "topic_prefix": f"knee{tag}.",
            "redis_prefix": f"knee{tag}:",
            "db_schema": f"knee_{tag}",
        }
    )
    points: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="worker-knee-") as tmp:
        created = await ensure_topics(settings)
        await migrate(settings)
        sweep = Sweep(settings, Path(tmp))
        sweep.env["PARIS_LIVE_GC_PAUSES"] = str(sweep.state_dir / GC_LOG)
        try:
            async with Notifications(settings) as notes:
                sweep.start("worker", ["-m", "paris_live.cli", "worker", "--no-prepare"])
                started = time.monotonic()
                # warm-up: the worker joins its group, recovers and applies its first events
                first = await point(sweep, notes, args.rates[0], 4.0, 2.0)
                print(f"warm-up ({time.monotonic() - started:.1f} s): {first}", flush=True)
                for _ in range(args.repeat):
                    for rate in args.rates:
                        figures = await point(sweep, notes, rate, args.warm, args.measure)
                        points.append(figures)
                        print(json.dumps(figures), flush=True)
                if args.profile >= 0:
                    name = "worker-knee" + (f"-{args.label}" if args.label else "")
                    figures = await point(
                        sweep, notes, args.profile, args.warm, args.measure, profile=name
                    )
                    print("profiled:", json.dumps(figures), flush=True)
        finally:
            for name in list(sweep.procs):
                sweep.stop(name)
            await _cleanup(settings, created)
            if args.worker_log:
                shutil.copyfile(Path(tmp) / "worker.log", args.worker_log)
    summary = {}
    for rate in args.rates:
        at = [p["core_ms_per_event"] for p in points if p["rate"] == rate]
        summary[str(rate)] = {
            "core_ms_per_event": at,
            "median": round(statistics.median(at), 3) if at else None,
        }
    return {"label": args.label, "points": points, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rates", default="500,2000", help="events/s, comma-separated")
    parser.add_argument("--warm", type=float, default=3.0, help="s of load before measuring")
    parser.add_argument("--measure", type=float, default=8.0, help="s measured per point")
    parser.add_argument("--repeat", type=int, default=2, help="times each rate is measured")
    parser.add_argument(
        "--profile", type=int, default=-1, help="py-spy one point at this rate (0: idle)"
    )
    parser.add_argument("--worker-log", default="", help="keep the worker's log at this path")
    parser.add_argument("--label", default="", help="suffix of the profile's file names")
    args = parser.parse_args()
    args.rates = [int(r) for r in args.rates.split(",")]
    result = asyncio.run(run(args))
    print(json.dumps(result["summary"]))


if __name__ == "__main__":
    main()
