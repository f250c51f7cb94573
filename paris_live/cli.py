"""``paris-live``: one command line for the whole platform.

``paris-live up`` runs everything locally; ``paris-live services start|stop|status`` manages the
local Kafka, Redis and PostgreSQL alone; the stream worker, API, producers and simulator add their
own subcommands.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import time

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from paris_live.settings import Settings, get_settings

app = typer.Typer(
    help="Paris Live — état des équipements en temps réel / real-time facility status.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(
    help="Local Kafka, Redis and PostgreSQL under the state directory.", no_args_is_help=True
)
app.add_typer(services_app, name="services")
console = Console(stderr=True)


def load_settings() -> Settings:
    """The settings, or a clear message naming the bad variable and exit code 2."""
    try:
        return get_settings()
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            name = f"PARIS_LIVE_{where.upper()}" if where else "PARIS_LIVE_*"
            console.print(f"[red]Invalid setting {name}: {error['msg']}[/red]")
        raise typer.Exit(2) from None


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(1)


KAFKA_BROKERS = typer.Option(
    None,
    "--kafka-brokers",
    help="1: the single broker (the default); 3 (odd, ≤ 9): a replicated KRaft cluster on its "
    "own ports 18801+ (replication 3, min.insync.replicas 2). Unset for status/stop: the "
    "cluster if one runs.",
)


def _manager(
    kafka_brokers: int | None, *, running: bool = False, redis_sentinel: bool = False
) -> object:
    """The services to act on; with ``running``, an unset ``--kafka-brokers`` means the cluster
    running under the state directory, if any (else the single broker)."""
    from paris_live.services import ServiceError, ServiceManager
    from paris_live.services.kafka_cluster import running_cluster_size

    settings = load_settings()
    if kafka_brokers is None:
        kafka_brokers = (running_cluster_size(settings.state_dir) if running else None) or 1
    try:
        return ServiceManager(settings, kafka_brokers, redis_sentinel=redis_sentinel)
    except ServiceError as exc:
        raise _fail(str(exc)) from exc


@services_app.command("start")
def services_start(
    kafka_brokers: int | None = KAFKA_BROKERS,
    redis_sentinel: bool = typer.Option(
        False, help="also a Redis primary, a replica and 3 Sentinels (PARIS_LIVE_REDIS_SENTINELS)"
    ),
) -> None:
    """Start the local services that are not running (and install/fetch what they need)."""
    from paris_live.services import ServiceError, ServiceManager

    manager = _manager(kafka_brokers, redis_sentinel=redis_sentinel)
    assert isinstance(manager, ServiceManager)
    t0 = time.monotonic()
    try:
        started = manager.start()
    except ServiceError as exc:
        raise _fail(str(exc)) from exc
    console.print(
        f"started: {', '.join(started) or 'nothing (all running)'} in {time.monotonic() - t0:.1f} s"
    )
    _print_status(manager)


@services_app.command("stop")
def services_stop(kafka_brokers: int | None = KAFKA_BROKERS) -> None:
    """Stop the local services."""
    from paris_live.services import ServiceManager

    manager = _manager(kafka_brokers, running=True)
    assert isinstance(manager, ServiceManager)
    stopped = manager.stop()
    console.print(f"stopped: {', '.join(stopped) or 'nothing was running'}")


@services_app.command("status")
def services_status(kafka_brokers: int | None = KAFKA_BROKERS) -> None:
    """Show each local service: running, ready, address, log file (and, for a Kafka cluster, the
    leader of every partition). Exits 1 if one is not ready."""
    if not _print_status(_manager(kafka_brokers, running=True)):
        raise typer.Exit(1)


def _print_status(manager: object) -> bool:
    from paris_live.services import ServiceManager
    from paris_live.services.kafka_cluster import KafkaCluster

    assert isinstance(manager, ServiceManager)
    table = Table(title="Paris Live — local services")
    for col in ("service", "state", "address", "pid", "role", "log"):
        table.add_column(col)
    all_ready = True
    for st in manager.status():
        state = "ready" if st.ready else ("running, not ready" if st.running else "stopped")
        all_ready &= st.ready
        table.add_row(
            st.name, state, st.address, str(st.pid or "-"), st.detail or "-", str(st.log_file)
        )
    if not manager.services:
        console.print(
            "no local services: PARIS_LIVE_KAFKA_BOOTSTRAP/REDIS_URL/DATABASE_URL are set"
        )
    Console().print(table)
    for service in manager.services:
        if isinstance(service, KafkaCluster):
            _print_leaders(service)
    return all_ready


def _print_leaders(cluster: object) -> None:
    """Per topic: the leader of each partition, replicas, and partitions short of their ISR."""
    from paris_live.services.kafka_cluster import KafkaCluster, PartitionLeader

    assert isinstance(cluster, KafkaCluster)
    out = Console()
    out.print(f"Kafka cluster bootstrap: PARIS_LIVE_KAFKA_BOOTSTRAP={cluster.bootstrap}")
    leaders = cluster.leaders()
    if not leaders:
        out.print("no topics yet: create them with `paris-live topics` (bootstrap above)")
        return
    table = Table(title="Partition leaders (broker id per partition)")
    for col in ("topic", "partitions → leader", "replicas", "in sync"):
        table.add_column(col)
    topics: dict[str, list[PartitionLeader]] = {}
    for p in leaders:
        topics.setdefault(p.topic, []).append(p)
    for topic, rows in topics.items():
        under = [p.partition for p in rows if len(p.isr) < len(p.replicas)]
        table.add_row(
            topic,
            " ".join(f"{p.partition}→{p.leader}" for p in rows),
            str(len(rows[0].replicas)),
            "all" if not under else f"under-replicated: {', '.join(map(str, under))}",
        )
    out.print(table)


@app.command()
def migrate() -> None:
    """Apply the database migrations (TimescaleDB path when the extension is present)."""
    from paris_live.db import migrate as run

    settings = load_settings()
    mode, applied = asyncio.run(run(settings))
    console.print(f"database ({mode}): applied {', '.join(applied) or 'nothing (up to date)'}")


@app.command()
def topics() -> None:
    """Create the contract's Kafka topics that are missing."""
    from paris_live.kafka_admin import ensure_topics

    settings = load_settings()
    created = asyncio.run(ensure_topics(settings))
    console.print(f"topics: created {', '.join(created) or 'nothing (all exist)'}")


@app.command()
def maintain(
    once: bool = typer.Option(False, help="one run, then exit (cron, compose one-shots)"),
    interval: float = typer.Option(3600.0, min=1.0, help="seconds between runs"),
) -> None:
    """Database maintenance: partitions ahead, retention, rollups (plain PostgreSQL path)."""
    from paris_live.maintenance import maintain_forever, run_maintenance

    settings = load_settings()
    if once:
        report = asyncio.run(run_maintenance(settings))
        console.print(f"maintenance: {report.summary()}")
        return

    async def _run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        await maintain_forever(settings, interval_s=interval, stop=stop)

    asyncio.run(_run())


@app.command()
def init() -> None:
    """One-shot deployment step: create the topics, apply the migrations, run the maintenance."""
    topics()
    migrate()
    maintain(once=True, interval=3600.0)


@app.command()
def up(
    workers: int = typer.Option(1, min=0, help="stream worker processes"),
    api_workers: int = typer.Option(1, min=0, help="API processes (0: no API)"),
    simulate: bool = typer.Option(True, help="run the Paris simulator"),
    speed: float = typer.Option(
        1.0,
        min=0.01,
        help="simulator speed factor (1: real time). Above 1 the simulated clock runs ahead of "
        "the real one: after 60/(speed-1) minutes its events are more than 1 h ahead and the "
        "worker dead-letters them (time_out_of_range)",
    ),
    keep_services: bool = typer.Option(False, help="leave Kafka/Redis/PostgreSQL running on exit"),
) -> None:
    """Run the whole platform locally: services, topics, migrations, database maintenance (hourly),
    workers, API, simulator.

    A process that exits is restarted with backoff (1 s doubling to 30 s), never a reason to stop
    the others; Ctrl-C or SIGTERM stops everything.
    """
    from paris_live.db import migrate as run_migrations
    from paris_live.kafka_admin import ensure_topics
    from paris_live.services import ServiceError, ServiceManager
    from paris_live.supervisor import Supervisor

    settings = load_settings()
    manager = ServiceManager(settings)
    try:
        started = manager.start()
    except ServiceError as exc:
        raise _fail(str(exc)) from exc
    logs = settings.state_dir.resolve() / "logs"
    supervisor = Supervisor(logs, report=lambda line: console.print(f"[yellow]{line}[/yellow]"))
    code = 0
    try:
        asyncio.run(ensure_topics(settings))
        mode, _ = asyncio.run(run_migrations(settings))
        logs.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "paris_live.cli"]
        supervisor.add("maintenance", [*command, "maintain"])
        for i in range(workers):
            supervisor.add(f"worker-{i + 1}", [*command, "worker"])
        if workers:
            supervisor.add("feedback", [*command, "feedback", "aggregate"])
            supervisor.add("open-data", [*command, "open-data", "run"])
            supervisor.add("forecast", [*command, "forecast", "run"])
        if api_workers:
            supervisor.add("api", [*command, "api", "serve", "--workers", str(api_workers)])
        if simulate:
            supervisor.add("simulator", [*command, "simulate", "--speed", str(speed)])
            if speed > 1:
                console.print(
                    f"[yellow]--speed {speed:g}: after {60 / (speed - 1):.0f} min the simulated "
                    "clock is more than 1 h ahead; the worker then dead-letters its events "
                    "(time_out_of_range) and the live state stops moving.[/yellow]"
                )
        base = settings.public_base_url
        console.print(f"[green]Paris Live is running[/green] (database: {mode})")
        for label, path in (
            ("API", "/docs"),
            ("Répertoire des équipements / directory", "/"),
            ("Temps réel / live WebSocket", "/v1/live"),
            ("Métriques / metrics", "/metrics"),
        ):
            console.print(f"  {label}: {base}{path}")
        console.print(f"  logs: {logs}  —  Ctrl-C to stop")
        stop = {"now": False}

        def _on_signal(signum: int, _frame: object) -> None:
            stop["now"] = True

        signal.signal(signal.SIGINT, _on_signal)
        signal.signal(signal.SIGTERM, _on_signal)
        supervisor.run(lambda: stop["now"])
    except Exception as exc:  # report, then clean up everything this command started
        console.print(f"[red]up failed: {exc}[/red]")
        code = 1
    finally:
        supervisor.stop(grace=20)
        if not keep_services:
            for service in reversed(manager.services):
                if service.name in started:
                    service.stop()
        console.print("stopped")
    raise typer.Exit(code)


def _mount_subcommands() -> None:
    """Each package adds its own commands (worker, api, producers, simulator)."""
    from importlib import import_module

    for module, attr, name in (
        ("streams.cli", "streams_app", None),
        ("api.cli", "api_app", "api"),
        ("producers.cli", "producers_app", None),
        ("api.agents_cli", "agents_app", None),
        ("streams.feedback_cli", "feedback_app", "feedback"),
        ("api.opendata.cli", "open_data_app", "open-data"),
        ("streams.forecast.cli", "forecast_app", "forecast"),
    ):
        try:
            sub = getattr(import_module(module), attr)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        if name is None:
            for command in sub.registered_commands:
                app.registered_commands.append(command)
            for group in sub.registered_groups:
                app.registered_groups.append(group)
        else:
            app.add_typer(sub, name=name)


_mount_subcommands()

if __name__ == "__main__":
    app()
