"""The I/O shell around the pure simulator: pace it against the wall clock, publish, show progress.

Two pacing modes:

* **speed** — simulated time runs ``speed`` times faster than the wall clock (``speed = 1440 / N``
  simulates a day in N minutes); each tick advances the simulation to "now × speed";
* **rate** — a fixed number of events per second (benchmarks, load tests), the simulation
  advancing as fast as needed to supply them.

Both stop on ``duration_s``, ``max_events``, or SIGINT/SIGTERM (stop generating, let the publisher
drain its spool within its close deadline, exit).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import signal
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from rich.console import Console
from rich.live import Live
from rich.table import Table

from producers.publisher import Publisher
from producers.simulator import Simulation
from schemas.clock import PARIS
from schemas.events import CloudEvent

CHUNK = 5000


@dataclass(slots=True)
class RunStats:
    """What a run did (returned at the end, shown live)."""

    events: int = 0
    sent: int = 0
    spooled: int = 0
    started: float = 0.0
    sim_time: dt.datetime | None = None

    @property
    def elapsed(self) -> float:
        return max(1e-9, time.monotonic() - self.started)


@dataclass(frozen=True, slots=True)
class Pacing:
    speed: float = 1.0
    rate: float | None = None
    duration_s: float | None = None
    max_events: int | None = None
    tick_s: float = 0.25


async def run_simulation(
    simulation: Simulation,
    publisher: Publisher,
    pacing: Pacing,
    *,
    progress: bool = True,
    console: Console | None = None,
) -> RunStats:
    """Publish the simulation's events paced as asked; returns the run's figures."""
    stats = RunStats(started=time.monotonic(), sim_time=simulation.clock)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    live = (
        Live(_table(stats, publisher, simulation), console=console, refresh_per_second=2)
        if progress
        else None
    )
    try:
        with live if live is not None else contextlib.nullcontext():
            if pacing.rate is not None:
                await _by_rate(simulation, publisher, pacing, stats, stop, live)
            else:
                await _by_speed(simulation, publisher, pacing, stats, stop, live)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.remove_signal_handler(sig)
    return stats


def _done(pacing: Pacing, stats: RunStats, stop: asyncio.Event) -> bool:
    if stop.is_set():
        return True
    if pacing.duration_s is not None and stats.elapsed >= pacing.duration_s:
        return True
    return pacing.max_events is not None and stats.events >= pacing.max_events


async def _publish(publisher: Publisher, events: list[CloudEvent], stats: RunStats) -> None:
    for start in range(0, len(events), CHUNK):
        result = await publisher.publish_many(events[start : start + CHUNK])
        stats.events += result.sent + result.spooled
        stats.sent += result.sent
        stats.spooled += result.spooled


def _cap(events: list[CloudEvent], pacing: Pacing, stats: RunStats) -> list[CloudEvent]:
    if pacing.max_events is None:
        return events
    return events[: max(0, pacing.max_events - stats.events)]


async def _by_speed(
    simulation: Simulation,
    publisher: Publisher,
    pacing: Pacing,
    stats: RunStats,
    stop: asyncio.Event,
    live: Live | None,
) -> None:
    sim_start = simulation.clock
    while not _done(pacing, stats, stop):
        target = sim_start + dt.timedelta(seconds=stats.elapsed * pacing.speed)
        events = _cap(simulation.advance(target), pacing, stats)
        stats.sim_time = simulation.clock
        await _publish(publisher, events, stats)
        _refresh(live, stats, publisher, simulation)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), pacing.tick_s)


async def _by_rate(
    simulation: Simulation,
    publisher: Publisher,
    pacing: Pacing,
    stats: RunStats,
    stop: asyncio.Event,
    live: Live | None,
) -> None:
    assert pacing.rate is not None
    buffer: deque[CloudEvent] = deque()
    while not _done(pacing, stats, stop):
        allowed = int(pacing.rate * stats.elapsed) - stats.events
        if pacing.max_events is not None:
            allowed = min(allowed, pacing.max_events - stats.events)
        while len(buffer) < allowed:
            buffer.extend(simulation.step())
        batch = [buffer.popleft() for _ in range(max(0, allowed))]
        stats.sim_time = simulation.clock
        await _publish(publisher, batch, stats)
        _refresh(live, stats, publisher, simulation)
        await asyncio.sleep(0.02 if allowed > 0 else 0.05)


def _refresh(live: Live | None, stats: RunStats, publisher: Publisher, sim: Simulation) -> None:
    if live is not None:
        live.update(_table(stats, publisher, sim))


def _table(stats: RunStats, publisher: Publisher, simulation: Simulation) -> Table:
    table = Table(title="Paris Live — simulateur / simulator", show_header=False)
    sim_time = (stats.sim_time or simulation.clock).astimezone(PARIS)
    kafka = "[green]up[/]" if publisher.kafka_up else "[yellow]spooling / file locale[/]"
    rows: list[tuple[str, str]] = [
        ("heure simulée / simulated time", f"{sim_time:%a %d %b %Y %H:%M} (Paris)"),
        ("événements / events", f"{stats.events:,}"),
        ("débit / rate", f"{stats.events / stats.elapsed:,.0f} ev/s"),
        ("envoyés / sent", f"{stats.sent:,}"),
        ("en file locale / spooled", f"{stats.spooled:,} (waiting: {publisher.spooled:,})"),
        ("Kafka", kafka),
    ]
    for name, value in rows:
        table.add_row(name, value)
    return table


async def replay_events(
    events: list[CloudEvent],
    publisher: Publisher,
    *,
    speed: float,
    on_progress: Callable[[int], None] | None = None,
) -> int:
    """Publish recorded events keeping their gaps divided by ``speed`` (0 = no waiting)."""
    if not events:
        return 0
    started = time.monotonic()
    first = events[0].time
    published = 0
    pending: list[CloudEvent] = []
    for event in events:
        if speed > 0:
            due = (event.time - first).total_seconds() / speed
            wait = due - (time.monotonic() - started)
            if wait > 0.005:
                if pending:
                    await publisher.publish_many(pending)
                    published += len(pending)
                    pending = []
                    if on_progress:
                        on_progress(published)
                await asyncio.sleep(wait)
        pending.append(event)
        if len(pending) >= CHUNK:
            await publisher.publish_many(pending)
            published += len(pending)
            pending = []
            if on_progress:
                on_progress(published)
    if pending:
        await publisher.publish_many(pending)
        published += len(pending)
    return published
