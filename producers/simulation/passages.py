"""Turnstiles and counting sensors: passages per gate and minute, head counts every few minutes.

Arrivals follow Little's law from the type's affluence curve (:mod:`producers.patterns`) times
the facility's day factor (season, the city's weather, its own day — unless the config turns day
effects off), departures come after a mean stay; arrivals stop 20 minutes before closing and everyone is out by
the closing minute — never a passage while closed. Counters miss a few passages (1 % in, 3 % out),
so counted occupancy drifts; the sensor's head count (±3 % noise) is what corrects it, except
during its outages of 30 minutes to 3 hours.
"""

from __future__ import annotations

import datetime as dt

from producers.patterns import MEAN_STAY_MINUTES, day_factor, target_ratio
from producers.simulation.context import Context, binomial, poisson
from producers.simulation.state import FacilityState
from schemas.events import CloudEvent, EventType


def passages(
    ctx: Context,
    state: FacilityState,
    now: dt.datetime,
    local: dt.datetime,
    minutes_left: int,
    out: list[CloudEvent],
) -> None:
    """People arriving and leaving this minute, counted (or missed) by the gates."""
    rng = ctx.rng
    config = ctx.config
    facility_type = state.facility.type
    stay = MEAN_STAY_MINUTES.get(facility_type, 60)
    closure = state.closure
    arrivals = 0
    if minutes_left > 20:
        target = state.capacity * target_ratio(facility_type, local, config.scenario)
        if config.day_effects:
            target *= day_factor(
                state.facility.id, facility_type, local.date(), config.seed, config.scenario
            )
        if closure is not None and not closure.whole_facility and closure.starts_at <= now:
            target *= 0.6  # part of the facility closed
        arrivals = min(poisson(rng, target / stay), max(0, state.capacity - state.inside))
    if minutes_left <= 1:
        departures = state.inside
    else:
        leave = 1 / stay if minutes_left > 20 else max(1 / stay, 1 / minutes_left)
        departures = binomial(rng, state.inside, leave)
    state.inside += arrivals - departures
    for direction, people, miss in (
        ("in", arrivals, config.miss_in),
        ("out", departures, config.miss_out),
    ):
        if not people:
            continue
        per_gate = [0] * len(state.gates)
        for _ in range(people):
            if rng.random() >= miss:  # the counter missed this one: drift
                per_gate[rng.randrange(len(state.gates))] += 1
        for gate, count in zip(state.gates, per_gate, strict=True):
            if count:
                out.append(
                    ctx.event(
                        EventType.PASSAGE_COUNTED,
                        state,
                        {"gate_id": gate, "direction": direction, "count": count},
                        f"/turnstiles/{state.facility.id}/{gate}",
                        ctx.within(now),
                    )
                )


def headcount(
    ctx: Context,
    state: FacilityState,
    now: dt.datetime,
    local: dt.datetime,
    open_now: bool,
    out: list[CloudEvent],
) -> None:
    """The counting sensor's reading (facilities with a capacity), unless it is down."""
    if not state.has_sensor:
        return
    if state.sensor_down_until is not None:
        if now < state.sensor_down_until:
            return
        state.sensor_down_until = None
    if open_now and ctx.rng.random() < ctx.config.sensor_outages_per_hour / 60:
        state.sensor_down_until = now + dt.timedelta(minutes=ctx.rng.randint(30, 180))
        return
    if not open_now or local.minute % ctx.config.headcount_every_minutes:
        return
    noisy = round(state.inside * (1 + ctx.rng.gauss(0, 0.03)))
    out.append(
        ctx.event(
            EventType.HEADCOUNT_MEASURED,
            state,
            {"sensor_id": "capteur-1", "headcount": max(0, noisy)},
            f"/sensors/{state.facility.id}/capteur-1",
            now,
        )
    )
