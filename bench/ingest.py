"""Ingest throughput of the stream worker — ``python -m bench.ingest``.

One run, one set of topic contents (``--events`` CloudEvents of the realistic mix of
``bench.decode``, timestamped around now, keyed by facility over ``--partitions`` partitions of the
six input topics), consumed from the beginning by, in turn:

* **ceiling** — a bare aiokafka ``getmany`` loop + ``orjson.loads`` + dict update (and the same with
  ``decode_event``, the codec the worker uses);
* **baseline** — a plain faust agent, one event at a time: ``decode_event`` + dict update;
* **value** — the real worker, end to end: Kafka → state machines → Redis + ``facility-status`` +
  PostgreSQL history and checkpoint, offsets committed; measured from the PostgreSQL checkpoints
  (an offset counts once its effects are stored);
* the same worker with faust's per-event agent path (``--per-event``), for the gain of the batch path;
* two worker processes of one consumer group.

Each worker run has its own consumer group, Redis prefix and PostgreSQL schema, so none benefits
from another's writes. ``--profile`` adds a run of the single worker and one of the faust baseline
under cProfile (not used for the figures) and prints where the time goes. Targets: worker
≥ 20,000 events/s and ≥ 2× the plain faust agent; two workers ≥ 1.6× one.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import pstats
import random
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any, cast

import orjson

from bench.common import write_result
from bench.decode import MIX, _data
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.catalogue import load_catalogue
from schemas.events import make_event

ROOT = Path(__file__).resolve().parent.parent
PROFILE_DIR = ROOT / "bench" / "results" / "profiles"


# -- topic contents ---------------------------------------------------------------------------


def build_records(n: int, facilities: list[str], seed: int = 7) -> list[tuple[str, str, bytes]]:
    """``(topic base name, facility id, encoded event)`` of the realistic mix, times ≈ now."""
    rng = random.Random(seed)
    types = [t for t, _ in MIX]
    weights = [w for _, w in MIX]
    start = dt.datetime.now(dt.UTC) - dt.timedelta(milliseconds=n)
    out = []
    for i in range(n):
        event_type = rng.choices(types, weights)[0]
        facility = rng.choice(facilities)
        when = start + dt.timedelta(milliseconds=i)
        event = make_event(
            event_type,
            facility,
            _data(event_type, rng, when),
            source=f"/producers/{facility}",
            time=when,
        )
        out.append((contract.topic_for_type(event_type), facility, event.to_json()))
    return out


async def produce(settings: Settings, records: list[tuple[str, str, bytes]]) -> dict[str, int]:
    """Write the records; returns the end offset of every input topic-partition."""
    from aiokafka import AIOKafkaProducer
    from aiokafka.admin import AIOKafkaAdminClient

    from paris_live.kafka_admin import ensure_topics

    await ensure_topics(settings)
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka, linger_ms=20, max_batch_size=512 * 1024
    )
    await producer.start()
    try:
        futures = [
            await producer.send(settings.topic(base), value, key=facility.encode())
            for base, facility, value in records
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka)
    await admin.start()
    await admin.close()
    return await end_offsets(settings)


async def end_offsets(settings: Settings) -> dict[str, int]:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka)
    await consumer.start()
    try:
        tps = [
            TopicPartition(settings.topic(t), p)
            for t in contract.INPUT_TOPICS
            for p in range(settings.partitions)
        ]
        ends = await consumer.end_offsets(tps)
    finally:
        await consumer.stop()
    return {f"{tp.topic}:{tp.partition}": off for tp, off in ends.items()}


# -- ceiling: bare aiokafka -------------------------------------------------------------------


async def ceiling(settings: Settings, total: int, *, codec: bool) -> float:
    """getmany + decode + dict update, every input partition assigned to one consumer."""
    from aiokafka import AIOKafkaConsumer, TopicPartition

    from schemas.codec import decode_event

    ids = load_catalogue().ids
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka, enable_auto_commit=False, max_poll_records=5_000
    )
    await consumer.start()
    tps = [
        TopicPartition(settings.topic(t), p)
        for t in contract.INPUT_TOPICS
        for p in range(settings.partitions)
    ]
    consumer.assign(tps)
    await consumer.seek_to_beginning(*tps)
    counts: dict[str, int] = {}
    seen = 0
    started = None
    try:
        while seen < total:
            batches = await consumer.getmany(timeout_ms=1000)
            if started is None and batches:
                started = time.perf_counter()
            for records in batches.values():
                for rec in records:
                    if codec:
                        subject = decode_event(rec.value, facilities=ids).subject
                    else:
                        subject = orjson.loads(rec.value)["subject"]
                    counts[subject] = counts.get(subject, 0) + 1
                seen += len(records)
    finally:
        await consumer.stop()
    assert started is not None
    return total / (time.perf_counter() - started)


# -- baseline: a plain faust agent ------------------------------------------------------------


def run_faust_baseline(settings: Settings, total: int, group: str, out: Path) -> None:
    """(subprocess) A plain faust agent: decode_event + dict update, per event; writes its rate."""
    import faust

    from schemas.codec import decode_event

    ids = load_catalogue().ids
    datadir = settings.state_dir / "faust" / group
    datadir.parent.mkdir(parents=True, exist_ok=True)
    app = faust.App(
        group,
        broker=f"kafka://{settings.kafka}",
        value_serializer="raw",
        key_serializer="raw",
        consumer_auto_offset_reset="earliest",
        topic_disable_leader=True,
        web_enabled=False,
        datadir=str(datadir),
        store="memory://",
        broker_max_poll_records=5_000,
    )
    topic = app.topic(*[settings.topic(t) for t in contract.INPUT_TOPICS])
    counts: dict[str, int] = {}
    marks: dict[str, float] = {}

    @app.agent(topic)
    async def count(stream: Any) -> None:
        async for value in stream:
            if not marks:
                marks["start"] = time.perf_counter()
            subject = decode_event(value, facilities=ids).subject
            counts[subject] = counts.get(subject, 0) + 1
            marks["n"] = marks.get("n", 0) + 1
            if marks["n"] >= total:
                _write_rate(out, total / (time.perf_counter() - marks["start"]))
                os.kill(os.getpid(), signal.SIGTERM)

    asyncio.set_event_loop(asyncio.new_event_loop())
    faust.Worker(
        app, loglevel="warning", quiet=True, redirect_stdouts=False
    ).execute_from_commandline()


# -- the real worker --------------------------------------------------------------------------


def run_worker(group: str, per_event: bool, go_file: Path | None) -> None:
    """(subprocess) The real worker app for the environment's settings.

    With ``go_file``, the process joins the group and says when it holds partitions
    (``<go_file>.assigned.<pid>``) but applies nothing before ``go_file`` exists: the bench starts
    the clock once every worker of the group has its share, as in production where workers are
    long-lived — the measurement is not a startup race.
    """
    from paris_live.logs import configure_logging
    from streams.app import AppOptions, create_app
    from streams.app import run_worker as run

    settings = Settings()
    configure_logging(settings)
    app = create_app(settings, AppOptions(group_id=group, fast_path=not per_event))
    if go_file is not None:
        handler = app.batch_handler
        assert handler is not None, "--go-file gates the batch path (not --per-event)"

        async def gated(*args: Any) -> bool:
            while True:
                if _exists(go_file):
                    return bool(await handler(*args))
                await asyncio.sleep(0.02)

        async def assigned(sender: Any, assigned: Any, **kwargs: Any) -> None:
            if assigned:
                _touch(Path(f"{go_file}.assigned.{os.getpid()}"))

        app.batch_handler = gated
        app.on_partitions_assigned.connect(cast(Any, assigned))
    run(app, loglevel="error")


def _child_env(settings: Settings) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        PARIS_LIVE_KAFKA_BOOTSTRAP=settings.kafka,
        PARIS_LIVE_REDIS_URL=settings.redis,
        PARIS_LIVE_DATABASE_URL=settings.database,
        PARIS_LIVE_TOPIC_PREFIX=settings.topic_prefix,
        PARIS_LIVE_REDIS_PREFIX=settings.redis_prefix,
        PARIS_LIVE_DB_SCHEMA=settings.db_schema,
        PARIS_LIVE_PARTITIONS=str(settings.partitions),
        PARIS_LIVE_STATE_DIR=str(settings.state_dir),
        PARIS_LIVE_LOG_LEVEL=os.environ.get("BENCH_INGEST_LOG_LEVEL", "warning"),
        PARIS_LIVE_LOG_JSON="false",
    )
    return env


def _spawn(
    role: str, settings: Settings, *args: str, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    cmd = [sys.executable]
    if profile is not None:
        cmd += ["-m", "cProfile", "-o", str(profile)]
    cmd += ["-m", "bench.ingest", "--role", role, *args]
    return subprocess.Popen(cmd, cwd=ROOT, env=_child_env(settings))


def _stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGINT)
    for p in procs:
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


async def _stored_progress(settings: Settings, group: str) -> tuple[int, float]:
    """Records whose effects are stored (from the checkpoints) and when the last one was written."""
    import psycopg

    async with await psycopg.AsyncConnection.connect(settings.database) as conn:
        cur = await conn.execute(
            "SELECT effects, extract(epoch FROM updated_at) "
            f'FROM "{settings.db_schema}".stream_checkpoints WHERE group_id = %s',
            (group,),
        )
        rows = await cur.fetchall()
    done = sum(int(off) + 1 for effects, _ in rows for off in effects.values())
    return done, max((float(at) for _, at in rows), default=0.0)


def _exists(path: Path) -> bool:
    return path.exists()


def _write_rate(path: Path, rate: float) -> None:
    path.write_text(json.dumps({"events_per_s": rate}))


def _read_rate(path: Path) -> float:
    rate = float(json.loads(path.read_text())["events_per_s"])
    path.unlink()
    return rate


def _machine_cpu() -> tuple[float, float]:
    """(busy, total) jiffies of the whole machine since boot (/proc/stat)."""
    with open("/proc/stat") as fh:
        fields = [float(x) for x in fh.readline().split()[1:]]
    idle = fields[3] + fields[4]
    return sum(fields) - idle, sum(fields)


def _process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (all its threads)."""
    with open(f"/proc/{pid}/stat") as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (float(fields[11]) + float(fields[12])) / os.sysconf("SC_CLK_TCK")


def _count(pattern_dir: Path, pattern: str) -> int:
    return len(list(pattern_dir.glob(pattern)))


def _touch(path: Path) -> float:
    started = time.time()
    path.touch()
    return started


def _remove(paths: list[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


async def measure_workers(
    settings: Settings,
    total: int,
    *,
    processes: int,
    per_event: bool,
    profile: Path | None,
    limit_s: float,
) -> dict[str, float]:
    """Start worker processes; events/s from their stored checkpoints, and CPU used meanwhile.

    The clock starts when the workers, all holding their partitions, are let go, and stops at the
    PostgreSQL time of the checkpoint that stored the last record's effects (same host clock):
    warm-up and the final flush are included. While held, the consumers may already have fetched
    (a running worker always prefetches) — the same for one or two processes.
    """
    from paris_live.db import migrate

    await migrate(settings)
    group = f"{settings.topic_prefix}ingest-{uuid.uuid4().hex[:6]}"
    go = Path(f"/tmp/{group}.go")
    args = ["--group", group, "--go-file", str(go)] + (["--per-event"] if per_event else [])
    procs = [_spawn("worker", settings, *args, profile=profile) for _ in range(processes)]
    try:
        while _count(go.parent, f"{go.name}.assigned.*") < processes:
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited early")
            await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # let the last rebalance settle
        cpu0 = [_process_cpu_s(p.pid) for p in procs]
        busy0, total0 = _machine_cpu()
        started = _touch(go)
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            try:
                done, last_at = await _stored_progress(settings, group)
            except Exception:  # tables not created yet
                done, last_at = 0, 0.0
            if os.environ.get("BENCH_INGEST_TRACE"):
                print(f"  progress {time.time() - started:.2f} {done}", flush=True)
            if done >= total:
                busy1, total1 = _machine_cpu()
                worker_cpu = sum(_process_cpu_s(p.pid) for p in procs) - sum(cpu0)
                return {
                    "rate": total / (last_at - started),
                    "machine_busy_pct": 100.0 * (busy1 - busy0) / (total1 - total0),
                    "worker_cpu_us_per_event": 1e6 * worker_cpu / total,
                }
            if any(p.poll() is not None for p in procs):
                raise RuntimeError("a worker exited early")
            await asyncio.sleep(0.05)
        raise TimeoutError(f"workers did not finish {total} events in {limit_s} s")
    finally:
        _stop(procs)
        _remove([go, *go.parent.glob(f"{go.name}.assigned.*")])


async def faust_baseline(
    settings: Settings, total: int, group: str, limit_s: float, profile: Path | None = None
) -> float:
    """Run the plain faust agent in a subprocess over every record; its events/s."""
    out = Path(f"/tmp/{group}.json")
    proc = _spawn(
        "faust-baseline",
        settings,
        "--group",
        group,
        "--total",
        str(total),
        "--out",
        str(out),
        profile=profile,
    )
    try:
        await asyncio.to_thread(proc.wait, limit_s)
    finally:
        _stop([proc])
    return _read_rate(out)


async def cleanup(settings: Settings, schemas: list[str]) -> None:
    import psycopg
    import redis.asyncio as aioredis

    from paris_live.kafka_admin import delete_topics

    await delete_topics(settings, [settings.topic(t) for t in contract.TOPICS])
    async with await psycopg.AsyncConnection.connect(settings.database, autocommit=True) as conn:
        for schema in schemas:
            await conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    client = aioredis.from_url(settings.redis)
    keys = [k async for k in client.scan_iter(match=f"{settings.topic_prefix}*", count=1000)]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def print_profile(path: Path, title: str, top: int = 25) -> None:
    print(f"\n=== profile: {title} ({path}) — by cumulative then internal time ===")
    stats = pstats.Stats(str(path))
    stats.sort_stats("tottime").print_stats(top)


async def orchestrate(args: argparse.Namespace) -> None:
    tag = uuid.uuid4().hex[:8]
    base = Settings()
    prefix = f"bench-ingest-{tag}-"
    settings = base.model_copy(
        update={"topic_prefix": prefix, "redis_prefix": prefix, "partitions": args.partitions}
    )
    facilities = sorted(load_catalogue().ids)
    print(f"building {args.events:,} events over {len(facilities)} facilities …", flush=True)
    records = build_records(args.events, facilities)
    ends = await produce(settings, records)
    total = sum(ends.values())
    print(f"produced {total:,} records to {len(ends)} topic-partitions ({prefix}*)", flush=True)
    schemas: list[str] = []

    def run_settings(name: str) -> Settings:
        schema = f"bench_{tag}_{name}"
        schemas.append(schema)
        return settings.model_copy(update={"db_schema": schema, "redis_prefix": f"{prefix}{name}:"})

    PROFILE_DIR.mkdir(parents=True, exist_ok=True)
    figures: dict[str, float] = {}
    try:
        figures["raw"] = await ceiling(settings, total, codec=False)
        print(
            f"ceiling  aiokafka + orjson + dict:        {figures['raw']:>10,.0f} events/s",
            flush=True,
        )
        figures["raw_codec"] = await ceiling(settings, total, codec=True)
        print(
            f"ceiling  aiokafka + decode_event + dict:  {figures['raw_codec']:>10,.0f} events/s",
            flush=True,
        )

        figures["faust"] = await faust_baseline(settings, total, f"{prefix}faust", args.limit)
        print(
            f"baseline faust agent, decode + dict:      {figures['faust']:>10,.0f} events/s",
            flush=True,
        )

        one = await measure_workers(
            run_settings("one"),
            total,
            processes=1,
            per_event=False,
            profile=None,
            limit_s=args.limit,
        )
        figures["one"] = one["rate"]
        print(
            f"worker   end to end, 1 process:           {figures['one']:>10,.0f} events/s"
            f"  (machine {one['machine_busy_pct']:.0f} % busy, worker "
            f"{one['worker_cpu_us_per_event']:.1f} µs CPU/event)",
            flush=True,
        )
        two = await measure_workers(
            run_settings("two"),
            total,
            processes=2,
            per_event=False,
            profile=None,
            limit_s=args.limit,
        )
        figures["two"] = two["rate"]
        print(
            f"worker   end to end, 2 processes:         {figures['two']:>10,.0f} events/s"
            f"  (machine {two['machine_busy_pct']:.0f} % busy, workers "
            f"{two['worker_cpu_us_per_event']:.1f} µs CPU/event)",
            flush=True,
        )
        if args.per_event:
            per_event = await measure_workers(
                run_settings("perevent"),
                total,
                processes=1,
                per_event=True,
                profile=None,
                limit_s=args.limit,
            )
            figures["per_event"] = per_event["rate"]
            print(
                f"worker   per-event agent path:            {figures['per_event']:>10,.0f} events/s",
                flush=True,
            )
        if args.profile:  # extra runs: cProfile slows what it watches, figures above are clean
            await faust_baseline(
                settings,
                total,
                f"{prefix}faust-prof",
                args.limit,
                PROFILE_DIR / "faust_baseline.prof",
            )
            await measure_workers(
                run_settings("prof"),
                total,
                processes=1,
                per_event=False,
                profile=PROFILE_DIR / "worker.prof",
                limit_s=args.limit,
            )
    finally:
        if not args.keep:
            await cleanup(settings, schemas)

    extra: dict[str, Any] = {
        "events": total,
        "partitions": args.partitions,
        "facilities": len(facilities),
        "raw_aiokafka_events_per_s": round(figures["raw"], 1),
        "raw_aiokafka_decode_event_events_per_s": round(figures["raw_codec"], 1),
        "two_workers_events_per_s": round(figures["two"], 1),
        "two_vs_one_ratio": round(figures["two"] / figures["one"], 3),
        "worker_vs_ceiling_ratio": round(figures["one"] / figures["raw"], 3),
        "cpu_cores": os.cpu_count() or 0,
        "one_worker_machine_busy_pct": round(one["machine_busy_pct"], 1),
        "two_workers_machine_busy_pct": round(two["machine_busy_pct"], 1),
        "one_worker_cpu_us_per_event": round(one["worker_cpu_us_per_event"], 2),
        "two_workers_cpu_us_per_event": round(two["worker_cpu_us_per_event"], 2),
        "load_avg_1m_at_end": os.getloadavg()[0],
    }
    if "per_event" in figures:
        extra["per_event_path_events_per_s"] = round(figures["per_event"], 1)
    print(
        f"\nratios: worker/faust agent {figures['one'] / figures['faust']:.2f} (target ≥ 2), "
        f"2 workers/1 worker {figures['two'] / figures['one']:.2f} (target ≥ 1.6), "
        f"worker/raw ceiling {figures['one'] / figures['raw']:.2f}"
    )
    write_result(
        "ingest",
        figures["one"],
        "events/s",
        "plain faust agent (decode_event + dict, per event)",
        figures["faust"],
        ">= 20000 events/s end to end and >= 2x the plain faust agent; 2 workers >= 1.6x one",
        **extra,
    )
    if args.profile:
        print_profile(PROFILE_DIR / "faust_baseline.prof", "plain faust agent")
        print_profile(PROFILE_DIR / "worker.prof", "worker (main thread)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--limit", type=float, default=240.0, help="seconds allowed per run")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--per-event", action="store_true", help="also run the per-event path")
    parser.add_argument("--keep", action="store_true", help="keep topics/schemas/keys")
    parser.add_argument("--role", default="main", choices=["main", "worker", "faust-baseline"])
    parser.add_argument("--group")
    parser.add_argument("--total", type=int)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--go-file", type=Path)
    args = parser.parse_args(argv)
    if args.role == "worker":
        run_worker(args.group, args.per_event, args.go_file)
    elif args.role == "faust-baseline":
        run_faust_baseline(Settings(), args.total, args.group, args.out)
    else:
        asyncio.run(orchestrate(args))


if __name__ == "__main__":
    main()
