"""Weeks of back-dated occupancy history in seconds: the simulator's occupancy model on a 15-minute
grid, vectorised over the facilities (numpy), for the forecast's training and its benchmark.

:class:`producers.simulator.Simulation` plays every device minute by minute and emits events — right
for the live city, far too slow for eight weeks of 600 facilities (hours of CPU). This module plays
the *same occupancy model* one 15-minute slot at a time for all facilities at once:

* the same curves and day factors (:func:`producers.patterns.target_ratio` ×
  :func:`producers.patterns.day_factor`: season, the city's weather spells, the facility's own day),
  the same capacities (:data:`~producers.patterns.DEFAULT_CAPACITY` when the catalogue has none)
  and mean stays (Little's law: arrivals = target ÷ stay, Poisson; departures binomial);
* the same hours engine (:func:`schemas.hours.day_schedule`; public holidays included): no one
  arrives in the last 20 minutes, everyone is out at closing, nobody inside while closed;
* exceptional closures of the whole facility at the simulator's rate (0.002 per open hour),
  declared 10 minutes ahead, 30 minutes to 4 hours long (sometimes an hour late);
* what the platform *observes*: the counting sensor's head count (±3 %) with outages of 30 minutes
  to 3 hours (``NaN``: a gap is not an empty facility) for facilities with a capacity, the gates'
  counted occupancy (drifting up: 3 % of exits missed against 1 % of entries) for the others.

The grid is Paris wall-clock time: day ``d`` slot ``s`` is ``first_day + d`` at ``s × 15`` minutes
(96 slots a day, also on the two DST days — the missing or doubled night hour is a closed hour
everywhere). Values are the state at the *start* of each slot. Deterministic: same facilities,
days and seed, same arrays. Approximation against the minute simulator: arrivals and departures are
drawn per slot rather than per minute (same means).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from producers.patterns import (
    DEFAULT_CAPACITY,
    MEAN_STAY_MINUTES,
    OCCUPANCY,
    Scenario,
    day_factor,
    day_kind,
    scenario_factor,
)
from producers.simulation.state import opening_hours
from schemas.catalogue import Facility
from schemas.hours import day_schedule

SLOT_MINUTES = 15
SLOTS_PER_DAY = 24 * 60 // SLOT_MINUTES
CLOSURES_PER_OPEN_HOUR = 0.002
SENSOR_OUTAGES_PER_HOUR = 0.01
NORMAL = Scenario()

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def has_occupancy(facility: Facility) -> bool:
    """Whether the simulator gives the facility visitors (parks and cemeteries have no curve)."""
    return any(OCCUPANCY.get(facility.type, {}).values())


@dataclass(frozen=True, slots=True)
class Closure:
    """An exceptional closure of a whole facility, as slots of the grid."""

    facility: int
    declared: int
    """Slot in which the agent declared it (it starts at most one slot later)."""
    starts: int
    ends: int
    """First slot open again (exclusive end)."""


@dataclass(frozen=True, slots=True)
class History:
    """Occupancy of ``len(facilities)`` facilities over ``days`` days of 96 wall-clock slots."""

    facilities: tuple[Facility, ...]
    first_day: dt.date
    days: int
    capacity: FloatArray
    """People a facility holds, shape ``(F,)``."""
    observed: FloatArray
    """What the platform saw at the start of each slot, shape ``(F, T)``: 0 outside the regular
    hours, NaN without a reading (sensor down) or during an exceptional closure (not a usual day)."""
    inside: FloatArray
    """The truth (people inside), shape ``(F, T)``."""
    scheduled: BoolArray
    """Open by the regular hours (hours engine), shape ``(F, T)``."""
    closures: tuple[Closure, ...]

    @property
    def slots(self) -> int:
        return self.days * SLOTS_PER_DAY

    def day_of(self, slot: int) -> dt.date:
        return self.first_day + dt.timedelta(days=slot // SLOTS_PER_DAY)

    def closed_by(self, known_at: int) -> BoolArray:
        """Slots closed by a closure already declared at slot ``known_at``, shape ``(F, T)``."""
        mask = np.zeros((len(self.facilities), self.slots), dtype=np.bool_)
        for closure in self.closures:
            if closure.declared <= known_at:
                mask[closure.facility, closure.starts : closure.ends] = True
        return mask

    def open_at(self, known_at: int) -> BoolArray:
        """Open as known at slot ``known_at``: regular hours minus the closures declared by then."""
        return self.scheduled & ~self.closed_by(known_at)


def _hours_grid(facility: Facility, first_day: dt.date, days: int) -> tuple[BoolArray, FloatArray]:
    """Per slot: open by the regular hours, and minutes left in the period (0 when closed)."""
    hours = opening_hours(facility)
    start = np.arange(SLOTS_PER_DAY) * SLOT_MINUTES
    scheduled = np.zeros(days * SLOTS_PER_DAY, dtype=np.bool_)
    left = np.zeros(days * SLOTS_PER_DAY)
    for d in range(days):
        row = slice(d * SLOTS_PER_DAY, (d + 1) * SLOTS_PER_DAY)
        for period in day_schedule(hours, first_day + dt.timedelta(days=d)).periods:
            inside = (start >= period.opens_minutes) & (start < period.closes_minutes)
            scheduled[row] |= inside
            left[row] = np.where(inside, period.closes_minutes - start, left[row])
    return scheduled, left


def _targets(
    facilities: Sequence[Facility],
    capacity: FloatArray,
    first_day: dt.date,
    days: int,
    seed: int,
    scenario: Scenario,
) -> FloatArray:
    """Target people inside per slot: capacity × curve of the day's kind × day factor."""
    hours = np.arange(SLOTS_PER_DAY) * SLOT_MINUTES / 60
    shapes: dict[tuple[str, str], FloatArray] = {}
    target = np.zeros((len(facilities), days * SLOTS_PER_DAY))
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        kind = day_kind(day, scenario)
        for f, facility in enumerate(facilities):
            key = (facility.type, kind)
            if key not in shapes:
                curve = OCCUPANCY.get(facility.type, {}).get(kind, ())
                if curve:
                    xs = np.array([p[0] for p in curve])
                    ys = np.array([p[1] for p in curve])
                    shape = np.interp(hours, xs, ys, left=0.0, right=0.0)
                else:
                    shape = np.zeros(SLOTS_PER_DAY)
                shapes[key] = np.minimum(0.98, shape * scenario_factor(facility.type, scenario))
            factor = day_factor(facility.id, facility.type, day, seed, scenario)
            target[f, d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY] = (
                capacity[f] * shapes[key] * factor
            )
    return target


def _closures(
    rng: np.random.Generator, scheduled: BoolArray, days: int
) -> tuple[tuple[Closure, ...], BoolArray]:
    """Whole-facility closures drawn per facility and day, and the slots they close."""
    closed = np.zeros_like(scheduled)
    found: list[Closure] = []
    per_open_slot = CLOSURES_PER_OPEN_HOUR * SLOT_MINUTES / 60
    for f in range(scheduled.shape[0]):
        for d in range(days):
            row = scheduled[f, d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY]
            open_slots = np.flatnonzero(row)
            chance = 1 - (1 - per_open_slot) ** len(open_slots)
            if not len(open_slots) or rng.random() >= chance:
                continue
            declared = d * SLOTS_PER_DAY + int(rng.choice(open_slots))
            minutes = int(rng.choice((30, 45, 60, 90, 120, 180, 240)))
            if rng.random() < 0.3:
                minutes += 60  # ran late
            starts = declared + 1
            ends = min(scheduled.shape[1], starts + math.ceil(minutes / SLOT_MINUTES))
            found.append(Closure(f, declared, starts, ends))
            closed[f, starts:ends] = True
    return tuple(found), closed


def occupancy_history(
    facilities: Sequence[Facility],
    first_day: dt.date,
    days: int,
    seed: int = 0,
    scenario: Scenario = NORMAL,
) -> History:
    """``days`` days of occupancy of ``facilities`` from ``first_day`` (Paris dates), seeded."""
    rng = np.random.default_rng(seed)
    n = len(facilities)
    capacity = np.array(
        [float(f.capacity or DEFAULT_CAPACITY.get(f.type, 100)) for f in facilities]
    )
    stay = np.array([float(MEAN_STAY_MINUTES.get(f.type, 60)) for f in facilities])
    has_sensor = np.array([f.capacity is not None for f in facilities])
    grids = [_hours_grid(f, first_day, days) for f in facilities]
    scheduled = np.array([g[0] for g in grids]).reshape(n, days * SLOTS_PER_DAY)
    left = np.array([g[1] for g in grids]).reshape(n, days * SLOTS_PER_DAY)
    target = _targets(facilities, capacity, first_day, days, seed, scenario)
    closures, closed = _closures(rng, scheduled, days)
    open_now = scheduled & ~closed
    # A closure is announced one slot ahead: the facility is evacuated during that slot.
    evacuating = np.zeros_like(closed)
    evacuating[:, :-1] = closed[:, 1:] & ~closed[:, :-1]

    slots = days * SLOTS_PER_DAY
    inside = np.zeros((n, slots))
    observed = np.full((n, slots), np.nan)
    people = np.zeros(n)
    missed_exits = np.zeros(n)
    sensor_down = np.zeros(n, dtype=np.int64)
    outage_chance = SENSOR_OUTAGES_PER_HOUR * SLOT_MINUTES / 60
    for t in range(slots):
        is_open = open_now[:, t]
        if t % SLOTS_PER_DAY == 0:
            missed_exits[:] = 0
        people = np.where(is_open, people, 0.0)
        inside[:, t] = people
        # What the platform sees: the sensor (noisy, sometimes down) or the drifting gates.
        starts_outage = is_open & has_sensor & (sensor_down <= t) & (rng.random(n) < outage_chance)
        sensor_down = np.where(starts_outage, t + rng.integers(2, 13, n), sensor_down)
        reading = np.maximum(0.0, np.round(people * (1 + rng.normal(0.0, 0.03, n))))
        counted = people + np.round(missed_exits)
        seen = np.where(has_sensor, reading, counted)
        observed[:, t] = np.where(has_sensor & (sensor_down > t), np.nan, seen)
        # The next 15 minutes: arrivals by Little's law until 20 minutes before closing, departures.
        minutes_left = np.where(evacuating[:, t], 0.0, left[:, t])
        arriving = np.clip(minutes_left - 20, 0, SLOT_MINUTES)
        arrivals = rng.poisson(np.where(is_open, target[:, t] * arriving / stay, 0.0))
        mean_stay = np.where(minutes_left > 20, stay, np.minimum(stay, np.maximum(minutes_left, 1)))
        leave = 1 - np.exp(-SLOT_MINUTES / mean_stay)
        departures = rng.binomial(people.astype(np.int64), np.where(is_open, leave, 1.0))
        departures = np.where(minutes_left <= SLOT_MINUTES, people, departures)
        missed_exits += 0.02 * departures
        people = np.minimum(capacity, people + arrivals - departures)
    return History(
        facilities=tuple(facilities),
        first_day=first_day,
        days=days,
        capacity=capacity,
        observed=np.where(open_now, observed, np.where(scheduled, np.nan, 0.0)),
        inside=inside,
        scheduled=scheduled,
        closures=closures,
    )
