"""Decode + validate throughput of ``schemas.codec.decode_event`` — ``python -m bench.decode``.

Builds N encoded events in memory with a realistic mix (turnstile passages dominate, then head
counts, queue tickets, slots, closures), pins the process to one CPU, then measures in the same run
and on the same bytes:

* baseline — bare ``orjson.loads`` (JSON parsing only, no validation);
* value — ``decode_event(raw, facilities=catalogue)``, what a stream worker does per record.

Each figure is the best of ``--rounds`` interleaved passes (the machine is shared). Target:
≥ 100,000 events/s on one core.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import orjson

from bench.common import write_result
from schemas.codec import decode_event
from schemas.errors import InvalidEvent
from schemas.events import EventType, make_event

TARGET = 100_000.0
MIX: tuple[tuple[EventType, float], ...] = (
    (EventType.PASSAGE_COUNTED, 0.80),
    (EventType.HEADCOUNT_MEASURED, 0.06),
    (EventType.TICKET_ISSUED, 0.04),
    (EventType.TICKET_CALLED, 0.03),
    (EventType.TICKET_SERVED, 0.03),
    (EventType.SLOTS_PUBLISHED, 0.02),
    (EventType.CLOSURE_DECLARED, 0.01),
    (EventType.CLOSURE_ENDED, 0.01),
)


def _data(event_type: EventType, rng: random.Random, now: dt.datetime) -> dict[str, Any]:
    if event_type is EventType.PASSAGE_COUNTED:
        count = 1 if rng.random() < 0.9 else rng.randint(2, 6)
        return {
            "gate_id": f"tripode-{rng.randint(1, 6)}",
            "direction": rng.choice(("in", "out")),
            "count": count,
        }
    if event_type is EventType.HEADCOUNT_MEASURED:
        return {"sensor_id": "camera-hall", "headcount": rng.randint(0, 400)}
    if event_type in {EventType.TICKET_ISSUED, EventType.TICKET_CALLED, EventType.TICKET_SERVED}:
        return {"ticket_id": f"A{rng.randint(1, 999):03d}", "service_id": "etat-civil"}
    if event_type is EventType.SLOTS_PUBLISHED:
        return {
            "service_id": "titres-identite",
            "next_available_at": now + dt.timedelta(days=rng.randint(1, 30)),
            "free_slots_7d": rng.randint(0, 40),
        }
    if event_type is EventType.CLOSURE_DECLARED:
        return {
            "closure_id": f"clo-{rng.getrandbits(32):08x}",
            "scope": {"kind": "area", "name": "Bassin 50 m"},
            "reason": rng.choice(["staff_shortage", "technical_failure", "water_quality"]),
            "message": {"fr": "Bassin fermé temporairement.", "en": "Pool temporarily closed."},
            "starts_at": now,
            "expected_reopening_at": now + dt.timedelta(hours=3),
            "declared_by": "agent-4821",
        }
    return {"closure_id": f"clo-{rng.getrandbits(32):08x}", "ended_by": "agent-4821"}


def build_events(n: int, facilities: list[str], seed: int = 7) -> list[bytes]:
    """``n`` encoded events of the realistic mix, over ``facilities``."""
    rng = random.Random(seed)
    types = [t for t, _ in MIX]
    weights = [w for _, w in MIX]
    start = dt.datetime(2025, 6, 14, 8, 0, tzinfo=dt.UTC)
    events = []
    for i in range(n):
        event_type = rng.choices(types, weights)[0]
        facility = rng.choice(facilities)
        when = start + dt.timedelta(milliseconds=i * 17)
        event = make_event(
            event_type,
            facility,
            _data(event_type, rng, when),
            source=f"/producers/{facility}",
            time=when,
        )
        events.append(event.to_json())
    return events


def corrupt(raw: bytes, rng: random.Random) -> bytes:
    """A refused variant of an event (the dead-letter path)."""
    document = orjson.loads(raw)
    choice = rng.randrange(3)
    if choice == 0:
        document["time"] = document["time"].replace("Z", "")
    elif choice == 1:
        document.pop("subject")
    else:
        document["type"] = "fr.paris.facilities.door.opened"
    return orjson.dumps(document)


def rate(function: Callable[[bytes], object], events: list[bytes]) -> float:
    """Events per second of one pass of ``function`` over ``events``."""
    start = time.perf_counter()
    for raw in events:
        function(raw)
    return len(events) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> None:
    """Run the benchmark and write ``bench/results/decode.json``."""
    parser = argparse.ArgumentParser(prog="python -m bench.decode", description=__doc__)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    facilities = [f"equipement-{i:04d}" for i in range(1200)]
    catalogue = frozenset(facilities)
    print(f"building {args.events:,} events (pinned to CPU {cpu}) …")
    events = build_events(args.events, facilities)
    rng = random.Random(11)
    refused = [corrupt(raw, rng) for raw in events[:20_000]]

    def decode(raw: bytes) -> object:
        return decode_event(raw, facilities=catalogue)

    def refuse(raw: bytes) -> object:
        try:
            return decode_event(raw, facilities=catalogue)
        except InvalidEvent as error:
            return error

    baseline_runs, value_runs, refusal_runs = [], [], []
    for _ in range(args.rounds):
        baseline_runs.append(rate(orjson.loads, events))
        value_runs.append(rate(decode, events))
        refusal_runs.append(rate(refuse, refused))
    baseline, value = max(baseline_runs), max(value_runs)
    mean_bytes = sum(map(len, events)) / len(events)
    print(
        f"orjson.loads {baseline:,.0f} events/s, decode_event {value:,.0f} events/s "
        f"(ratio {value / baseline:.2f}); refusals {max(refusal_runs):,.0f} events/s"
    )
    write_result(
        "decode",
        value,
        "events/s",
        "orjson.loads",
        baseline,
        ">= 100000 events/s",
        events=len(events),
        mean_event_bytes=round(mean_bytes, 1),
        rounds=args.rounds,
        median_events_per_s=round(statistics.median(value_runs), 1),
        median_baseline_events_per_s=round(statistics.median(baseline_runs), 1),
        refusals_events_per_s=round(max(refusal_runs), 1),
        target_met="yes" if value >= TARGET else "no",
        mix=", ".join(
            f"{t.value.rsplit('.', 2)[-2]}.{t.value.rsplit('.', 1)[-1]} {w:.0%}" for t, w in MIX
        ),
    )


if __name__ == "__main__":
    main()
