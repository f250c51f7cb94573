"""Producer commands, mounted by ``paris-live`` (or ``python -m producers.cli``):
``simulate``, ``record``, ``replay``, ``gate``, ``sensor``, ``tickets``, ``booking``, ``button``,
``equipment``.

Every command but ``button`` and ``equipment`` publishes through one
:class:`~producers.publisher.Publisher` (spool under ``<state_dir>/spool/<command>.sqlite3`` unless
``--spool``); ``button`` forwards each press to the API's closure route, ``equipment`` each lift
controller's report to the equipment outage routes (auth, audit, outbox). All log on stderr, serves ``/metrics``
when it has an HTTP port, and stops cleanly on Ctrl-C / SIGTERM (what is not in Kafka by then stays
in the spool for the next start).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from paris_live.logs import configure_logging
from paris_live.settings import Settings, get_settings
from producers.errors import ProducerError
from producers.patterns import Scenario
from producers.publisher import Publisher, PublisherOptions
from producers.simulation.config import SimulatorConfig
from producers.simulator import Simulation
from schemas.catalogue import Catalogue, load_catalogue
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent

producers_app = typer.Typer(
    help="Producteurs d'événements / event producers.", no_args_is_help=True
)
console = Console(stderr=True)

SpoolOption = Annotated[
    Path | None, typer.Option(help="spool file (default: <state_dir>/spool/<command>.sqlite3)")
]
HostOption = Annotated[str, typer.Option(help="address to listen on")]
SpoolMaxOption = Annotated[int, typer.Option(help="spool bound in MiB")]


def _settings() -> Settings:
    settings = get_settings()
    configure_logging(settings)
    return settings


def _options(name: str, spool: Path | None, spool_max_mib: int = 1024) -> PublisherOptions:
    return PublisherOptions(name=name, spool_path=spool, spool_max_bytes=spool_max_mib << 20)


def _run(main: Awaitable[Any]) -> Any:
    try:
        return asyncio.run(main)  # type: ignore[arg-type]
    except ProducerError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None


def _stop_on_signals(stop: asyncio.Event) -> None:
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)


def _facilities(catalogue: Catalogue, types: list[str] | None, limit: int | None) -> list[Any]:
    chosen = [f for f in catalogue if not types or f.type in types]
    return chosen[:limit] if limit else chosen


def _start_time(start: str | None) -> dt.datetime:
    if start is None:
        return dt.datetime.now(PARIS)
    value = dt.datetime.fromisoformat(start)
    return value if value.tzinfo else value.replace(tzinfo=PARIS)


# ── simulate / record / replay ─────────────────────────────────────────────────────────────────


@producers_app.command()
def simulate(
    seed: Annotated[int, typer.Option(help="same seed, same events")] = 0,
    scenario: Annotated[
        list[str] | None,
        typer.Option(help="normal, heat_wave, rain, school_holidays (repeatable)"),
    ] = None,
    speed: Annotated[float, typer.Option(help="simulated seconds per real second")] = 1.0,
    day_minutes: Annotated[
        float | None, typer.Option(help="simulate one day in N minutes (overrides --speed)")
    ] = None,
    rate: Annotated[
        float | None, typer.Option(help="publish N events/s whatever the simulated clock")
    ] = None,
    start: Annotated[
        str | None, typer.Option(help="simulated start, ISO 8601 (default: now, Paris)")
    ] = None,
    duration: Annotated[float | None, typer.Option(help="stop after N real seconds")] = None,
    max_events: Annotated[int | None, typer.Option(help="stop after N events")] = None,
    types: Annotated[list[str] | None, typer.Option("--type", help="facility types only")] = None,
    limit: Annotated[int | None, typer.Option(help="first N facilities only")] = None,
    progress: Annotated[bool | None, typer.Option(help="live display (default: on a TTY)")] = None,
    spool: SpoolOption = None,
    day_effects: Annotated[
        bool, typer.Option(help="season, weather spells and each facility's own day")
    ] = False,
    history: Annotated[
        str | None,
        typer.Option(
            help="write this much back-dated occupancy and queue-wait history (8w, 14d) to PostgreSQL and stop"
        ),
    ] = None,
) -> None:
    """Simulate every facility of the catalogue and publish to Kafka (« paris-live simulate »)."""
    from producers.runner import Pacing, run_simulation

    settings = _settings()
    facilities = _facilities(load_catalogue(), types, limit)
    if history is not None:
        _write_history(settings, facilities, history, seed, Scenario.named(scenario or []))
        return
    config = SimulatorConfig(
        seed=seed, scenario=Scenario.named(scenario or []), day_effects=day_effects
    )
    if day_minutes is not None:
        speed = 1440.0 / day_minutes
    pacing = Pacing(speed=speed, rate=rate, duration_s=duration, max_events=max_events)
    show = sys.stderr.isatty() if progress is None else progress

    async def main() -> None:
        simulation = Simulation(facilities, _start_time(start), config)
        async with Publisher(settings, _options("simulator", spool)) as publisher:
            stats = await run_simulation(
                simulation, publisher, pacing, progress=show, console=console
            )
        if show:
            console.print()
        console.print(
            f"{stats.events:,} events in {stats.elapsed:.1f} s "
            f"({stats.events / stats.elapsed:,.0f} ev/s; sent {stats.sent:,}, "
            f"spooled {stats.spooled:,}) — {len(facilities)} facilities, "
            f"scenario {config.scenario.label}, seed {seed}"
        )

    _run(main())


def _write_history(
    settings: Settings, facilities: list[Any], span: str, seed: int, scenario: Scenario
) -> None:
    """``simulate --history 8w``: the weeks before now, straight into the history store."""
    from producers.history import has_occupancy, occupancy_history
    from producers.history_store import parse_span, write_history, write_queue_history
    from producers.queue_history import queue_history

    try:
        days = parse_span(span)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--history") from exc
    now = dt.datetime.now(dt.UTC)
    first = now.astimezone(PARIS).date() - dt.timedelta(days=days)
    chosen = [f for f in facilities if has_occupancy(f)]
    history = occupancy_history(chosen, first, days + 1, seed=seed, scenario=scenario)
    written = _run(write_history(settings, history, now))
    console.print(
        f"{written:,} rows of history (15-minute slots, {days} days up to now) for "
        f"{len(chosen)} facilities with occupancy, scenario {scenario.label}, seed {seed}"
    )
    waits = queue_history(facilities, first, days + 1, seed=seed, scenario=scenario)
    written = _run(write_queue_history(settings, waits, now))
    console.print(
        f"{written:,} rows of queue waits (15-minute slots) for {len(waits.series)} queue services"
    )


@producers_app.command()
def record(
    output: Annotated[Path, typer.Argument(help="JSON lines file, one CloudEvent per line")],
    source: Annotated[str, typer.Option(help="simulator (offline) or kafka (live topics)")] = (
        "simulator"
    ),
    hours: Annotated[float, typer.Option(help="simulated hours to record (simulator)")] = 1.0,
    seed: Annotated[int, typer.Option()] = 0,
    scenario: Annotated[list[str] | None, typer.Option()] = None,
    start: Annotated[str | None, typer.Option(help="simulated start (default: now)")] = None,
    types: Annotated[list[str] | None, typer.Option("--type")] = None,
    limit: Annotated[int | None, typer.Option()] = None,
    duration: Annotated[float, typer.Option(help="seconds to listen (kafka)")] = 60.0,
) -> None:
    """Record events to JSON lines: simulate a window offline, or listen to the input topics."""
    settings = _settings()
    if source == "simulator":
        from producers.simulator import simulate as generate

        first = _start_time(start)
        config = SimulatorConfig(seed=seed, scenario=Scenario.named(scenario or []))
        facilities = _facilities(load_catalogue(), types, limit)
        count = 0
        with output.open("wb") as sink:
            for event in generate(facilities, first, first + dt.timedelta(hours=hours), config):
                sink.write(event.to_json() + b"\n")
                count += 1
        console.print(f"{count:,} events recorded to {output}")
    elif source == "kafka":
        count = _run(_record_kafka(settings, output, duration))
        console.print(f"{count:,} events recorded from Kafka to {output}")
    else:
        raise typer.BadParameter("source must be simulator or kafka")


async def _record_kafka(settings: Settings, output: Path, duration: float) -> int:
    from aiokafka import AIOKafkaConsumer

    from schemas.topics import INPUT_TOPICS

    consumer = AIOKafkaConsumer(
        *(settings.topic(t) for t in INPUT_TOPICS),
        bootstrap_servers=settings.kafka,
        auto_offset_reset="latest",
        enable_auto_commit=False,
    )
    await consumer.start()
    count = 0
    try:
        loop = asyncio.get_running_loop()
        end = loop.time() + duration
        with output.open("wb") as sink:
            while loop.time() < end:
                batches = await consumer.getmany(timeout_ms=500)
                for records in batches.values():
                    for r in records:
                        sink.write(r.value.rstrip(b"\n") + b"\n")
                        count += 1
    finally:
        await consumer.stop()
    return count


@producers_app.command()
def replay(
    input_file: Annotated[Path, typer.Argument(help="JSON lines written by `record`")],
    speed: Annotated[
        float, typer.Option(help="1 = original timing, 10 = ten times faster, 0 = no waiting")
    ] = 1.0,
    retime: Annotated[bool, typer.Option(help="shift times so the first event is now")] = False,
    new_ids: Annotated[bool, typer.Option(help="fresh event ids (replay twice)")] = False,
    spool: SpoolOption = None,
) -> None:
    """Publish a recording with its original or scaled timing."""
    from producers.runner import replay_events

    settings = _settings()
    events = list(_read_recording(input_file, retime=retime, new_ids=new_ids))

    async def main() -> int:
        async with Publisher(settings, _options("replay", spool)) as publisher:
            return await replay_events(events, publisher, speed=speed)

    count = _run(main())
    console.print(f"{count:,} events replayed from {input_file}")


def _read_recording(path: Path, *, retime: bool, new_ids: bool) -> list[Any]:
    import uuid

    events = []
    with path.open("rb") as source:
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                events.append(decode_event(line))
            except InvalidEvent as exc:
                console.print(f"[yellow]{path}:{number}: skipped ({exc.reason}: {exc.message})[/]")
    if events and (retime or new_ids):
        shift = dt.datetime.now(dt.UTC) - events[0].time if retime else dt.timedelta(0)
        events = [
            e.model_copy(
                update={
                    "time": e.time + shift,
                    "id": str(uuid.uuid4()) if new_ids else e.id,
                }
            )
            for e in events
        ]
    return events


# ── device adapters ────────────────────────────────────────────────────────────────────────────


async def _serve_http(
    app: Any, host: str, port: int | None, stop: asyncio.Event, label: str
) -> None:
    from producers.adapters.http import bound_port, serve

    if port is None:
        await stop.wait()
        return
    runner = await serve(app, host, port)
    console.print(f"{label}: http://{host}:{bound_port(runner)}")
    try:
        await stop.wait()
    finally:
        await runner.cleanup()


def _adapter_main(
    name: str, spool: Path | None, body: Callable[[Publisher, asyncio.Event], Awaitable[None]]
) -> None:
    settings = _settings()

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        async with Publisher(settings, _options(name, spool)) as publisher:
            await body(publisher, stop)

    _run(main())


@producers_app.command()
def gate(
    tcp_port: Annotated[int | None, typer.Option(help="line protocol over TCP")] = None,
    http_port: Annotated[int | None, typer.Option(help="POST /passages")] = None,
    stdin: Annotated[bool, typer.Option(help="read lines from standard input")] = False,
    host: HostOption = "127.0.0.1",
    check_catalogue: Annotated[bool, typer.Option(help="refuse unknown facilities")] = True,
    spool: SpoolOption = None,
) -> None:
    """Turnstiles / gate controllers → passage.counted (batched per gate and second)."""
    from producers.adapters.gate import GateAdapter

    async def body(publisher: Publisher, stop: asyncio.Event) -> None:
        facilities = load_catalogue().ids if check_catalogue else None
        adapter = GateAdapter(publisher, facilities)
        await _line_adapter(adapter, host, tcp_port, http_port, stdin, stop)

    _adapter_main("gate", spool, body)


@producers_app.command()
def tickets(
    tcp_port: Annotated[int | None, typer.Option(help="ticket lines over TCP")] = None,
    http_port: Annotated[int | None, typer.Option(help="POST /tickets")] = None,
    stdin: Annotated[bool, typer.Option(help="read lines from standard input")] = False,
    host: HostOption = "127.0.0.1",
    spool: SpoolOption = None,
) -> None:
    """Queue-ticket machines → ticket.issued / called / served / abandoned."""
    from producers.adapters.tickets import TicketAdapter

    async def body(publisher: Publisher, stop: asyncio.Event) -> None:
        adapter = TicketAdapter(publisher, load_catalogue())
        await _line_adapter(adapter, host, tcp_port, http_port, stdin, stop)

    _adapter_main("tickets", spool, body)


async def _line_adapter(
    adapter: Any,
    host: str,
    tcp_port: int | None,
    http_port: int | None,
    stdin: bool,
    stop: asyncio.Event,
) -> None:
    if tcp_port is None and http_port is None and not stdin:
        raise ProducerError("give at least one input: --tcp-port, --http-port or --stdin")
    tasks = [asyncio.create_task(adapter.run_flusher(stop))]
    if tcp_port is not None:
        server = await adapter.serve_tcp(host, tcp_port)
        console.print(f"{adapter.name}: tcp://{host}:{server.sockets[0].getsockname()[1]}")
    if stdin:

        async def read_then_stop() -> None:
            await adapter.read_stdin()
            if tcp_port is None and http_port is None:
                stop.set()  # stdin alone: end of input ends the command

        tasks.append(asyncio.create_task(read_then_stop()))
    tasks.append(
        asyncio.create_task(_serve_http(adapter.app(), host, http_port, stop, adapter.name))
    )
    await stop.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    console.print(
        f"{adapter.name}: {adapter.accepted:,} lines accepted, {adapter.rejected:,} rejected"
    )


@producers_app.command()
def sensor(
    http_port: Annotated[int, typer.Option(help="POST /headcounts")] = 8101,
    host: HostOption = "127.0.0.1",
    spool: SpoolOption = None,
) -> None:
    """Counting sensors (HTTP push) → headcount.measured."""
    from producers.adapters.sensor import SensorAdapter

    async def body(publisher: Publisher, stop: asyncio.Event) -> None:
        adapter = SensorAdapter(publisher, load_catalogue().ids)
        await _serve_http(adapter.app(), host, http_port, stop, "sensor")

    _adapter_main("sensor", spool, body)


@producers_app.command()
def booking(
    poll: Annotated[str | None, typer.Option(help="availability URL (JSON) to poll")] = None,
    ical: Annotated[str | None, typer.Option(help="iCal feed of free slots to poll")] = None,
    facility: Annotated[str | None, typer.Option(help="facility of the iCal feed")] = None,
    service: Annotated[str | None, typer.Option(help="service of the iCal feed")] = None,
    interval: Annotated[float, typer.Option(help="seconds between polls")] = 60.0,
    http_port: Annotated[int | None, typer.Option(help="POST /slots (webhooks)")] = None,
    host: HostOption = "127.0.0.1",
    spool: SpoolOption = None,
) -> None:
    """Booking systems → slots.published when availability changes (poll or webhook)."""
    from producers.adapters.booking import BookingAdapter

    if ical is not None and (facility is None or service is None):
        raise typer.BadParameter("--ical needs --facility and --service")

    async def body(publisher: Publisher, stop: asyncio.Event) -> None:
        adapter = BookingAdapter(publisher, load_catalogue().ids)
        tasks = [asyncio.create_task(_serve_http(adapter.app(), host, http_port, stop, "booking"))]
        if poll is not None:
            tasks.append(asyncio.create_task(adapter.poll(poll, interval, stop)))
        if ical is not None:
            feed = (str(facility), str(service))
            tasks.append(asyncio.create_task(adapter.poll(ical, interval, stop, ical=feed)))
        await asyncio.gather(*tasks)

    _adapter_main("booking", spool, body)


@producers_app.command()
def button(
    http_port: Annotated[int, typer.Option(help="POST /button, POST /button/end")] = 8104,
    host: HostOption = "127.0.0.1",
    api_url: Annotated[
        str | None, typer.Option(help="the API the presses go to (default: public_base_url)")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="PARIS_LIVE_BUTTON_TOKEN",
            help="the button's agent JWT (paris-live token --agent … --facility …)",
        ),
    ] = None,
    dedup_seconds: Annotated[
        float, typer.Option(help="the same press without press_id within N s is one closure")
    ] = 10.0,
) -> None:
    """Agent status button → the API's closure routes (audited, idempotent)."""
    from producers.adapters.button import ButtonAdapter
    from producers.adapters.http import bound_port, serve

    settings = _settings()
    target = api_url or settings.public_base_url
    if token is None:
        console.print("[yellow]no --token: each press must carry its own agent token[/yellow]")

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        adapter = ButtonAdapter(target, token, dedup_s=dedup_seconds)
        runner = await serve(adapter.app(), host, http_port)
        console.print(f"button: http://{host}:{bound_port(runner)} → {target}")
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    _run(main())


@producers_app.command()
def equipment(
    http_port: Annotated[int, typer.Option(help="POST /equipment")] = 8105,
    host: HostOption = "127.0.0.1",
    api_url: Annotated[
        str | None, typer.Option(help="the API the reports go to (default: public_base_url)")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option(
            envvar="PARIS_LIVE_EQUIPMENT_TOKEN",
            help="the controller's device JWT (paris-live token --role device --facility …)",
        ),
    ] = None,
) -> None:
    """Lift controllers → the API's equipment outage routes (audited, idempotent, changes only)."""
    from producers.adapters.equipment import EquipmentAdapter
    from producers.adapters.http import bound_port, serve

    settings = _settings()
    target = api_url or settings.public_base_url
    if token is None:
        console.print("[yellow]no --token: each report must carry its own device token[/yellow]")

    async def main() -> None:
        stop = asyncio.Event()
        _stop_on_signals(stop)
        runner = await serve(EquipmentAdapter(target, token).app(), host, http_port)
        console.print(f"equipment: http://{host}:{bound_port(runner)} → {target}")
        try:
            await stop.wait()
        finally:
            await runner.cleanup()

    _run(main())


if __name__ == "__main__":
    producers_app()
