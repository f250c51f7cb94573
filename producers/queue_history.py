"""Weeks of back-dated queue waits in seconds: the simulator's ticket queues on a 15-minute grid.

The companion of :mod:`producers.history` for the services with a ticket queue (town halls,
social-aid desks, pools, …), so the crowding forecast has each service's wait to learn from
(``simulate --history 8w`` writes both). Like the minute simulator
(:mod:`producers.simulation.queues`), per service and vectorised over all of them:

* tickets arrive at :func:`producers.patterns.queue_arrivals_per_hour` — the type's peak shaped
  by its day curve (public holidays as Sundays, school holidays as Wednesdays) — times the same
  day factor as the occupancy (:func:`producers.patterns.day_factor`: season, weather spells,
  the facility's own day), Poisson per slot; none in the last 15 minutes before closing;
* the desks (:data:`producers.simulation.queues.DESKS`) each serve a ticket in
  :data:`~producers.patterns.SERVICE_MINUTES` on average (Poisson count per slot); a ticket waiting
  more than 20 minutes may be abandoned; whoever still waits at closing goes home;
* the wait the platform shows is the queue's length × service time ÷ desks (the estimate the
  worker falls back on), with its ±10 % of noise; exceptional closures of the whole facility (as in
  :mod:`producers.history`) and ticket-machine outages leave gaps (``NaN``), never zeros.

Deterministic: same facilities, days and seed, same arrays.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from producers.history import (
    CLOSURES_PER_OPEN_HOUR,
    NORMAL,
    SLOT_MINUTES,
    SLOTS_PER_DAY,
    BoolArray,
    FloatArray,
    _hours_grid,
)
from producers.patterns import (
    OCCUPANCY,
    QUEUE_PEAK_PER_HOUR,
    SERVICE_MINUTES,
    Scenario,
    day_factor,
    day_kind,
    scenario_factor,
)
from producers.simulation.queues import DESKS
from schemas.catalogue import Facility

__all__ = ["QueueHistory", "Series", "queue_history", "queue_series"]

OUTAGES_PER_HOUR = 0.005
"""Ticket machines down (no status, no wait): a gap of 30 minutes to 2 hours."""
ABANDON_AFTER_MINUTES = 20.0
ABANDON_PER_SLOT = 0.15


@dataclass(frozen=True, slots=True)
class Series:
    """One queue service of one facility."""

    facility: Facility
    service_id: str


@dataclass(frozen=True, slots=True)
class QueueHistory:
    """The wait (minutes) of ``len(series)`` services over ``days`` days of 96 wall-clock slots."""

    series: tuple[Series, ...]
    first_day: dt.date
    days: int
    observed: FloatArray
    """The wait the platform showed at the start of each slot, ``(S, T)``: 0 outside the regular
    hours, NaN without a reading (machine down, exceptional closure)."""
    waiting: FloatArray
    """Tickets waiting at the start of each slot (the truth), ``(S, T)``."""
    scheduled: BoolArray
    """Open by the facility's regular hours, ``(S, T)``."""

    @property
    def slots(self) -> int:
        return self.days * SLOTS_PER_DAY


def queue_series(facilities: Sequence[Facility]) -> list[Series]:
    """Every service with a ticket queue, in catalogue order."""
    return [Series(f, s.service_id) for f in facilities for s in f.services if s.queue]


def _arrival_rates(
    series: Sequence[Series], first_day: dt.date, days: int, seed: int, scenario: Scenario
) -> FloatArray:
    """Tickets per hour at each slot: the type's peak × its day curve × the day factor."""
    hours = np.arange(SLOTS_PER_DAY) * SLOT_MINUTES / 60
    shapes: dict[tuple[str, str], FloatArray] = {}
    rates = np.zeros((len(series), days * SLOTS_PER_DAY))
    for d in range(days):
        day = first_day + dt.timedelta(days=d)
        kind = day_kind(day, scenario)
        for i, one in enumerate(series):
            kind_of = one.facility.type
            key = (kind_of, kind)
            if key not in shapes:
                curve = OCCUPANCY.get(kind_of, {}).get(kind, ())
                shape = np.zeros(SLOTS_PER_DAY)
                if curve:
                    xs = np.array([p[0] for p in curve])
                    ys = np.array([p[1] for p in curve])
                    shape = np.interp(hours, xs, ys, left=0.0, right=0.0)
                shapes[key] = np.minimum(0.98, shape * scenario_factor(kind_of, scenario))
            factor = day_factor(one.facility.id, kind_of, day, seed, scenario)
            peak = QUEUE_PEAK_PER_HOUR.get(kind_of, 5.0)
            rates[i, d * SLOTS_PER_DAY : (d + 1) * SLOTS_PER_DAY] = peak * shapes[key] * factor
    return rates


def queue_history(
    facilities: Sequence[Facility],
    first_day: dt.date,
    days: int,
    seed: int = 0,
    scenario: Scenario = NORMAL,
) -> QueueHistory:
    """``days`` days of the queue services of ``facilities`` from ``first_day``, seeded."""
    series = queue_series(facilities)
    rng = np.random.default_rng(seed + 1)
    n, slots = len(series), days * SLOTS_PER_DAY
    grids = {
        f.id: _hours_grid(f, first_day, days)
        for f in {s.facility.id: s.facility for s in series}.values()
    }
    scheduled = np.array([grids[s.facility.id][0] for s in series], dtype=np.bool_)
    left = np.array([grids[s.facility.id][1] for s in series])
    scheduled = scheduled.reshape(n, slots)
    left = left.reshape(n, slots)
    rates = _arrival_rates(series, first_day, days, seed, scenario)
    desks = np.array([float(DESKS.get(s.facility.type, 1)) for s in series])
    service = np.array([SERVICE_MINUTES.get(s.facility.type, 5.0) for s in series])
    # Exceptional closures of the whole facility (the occupancy history's rate) and outages.
    per_slot = (CLOSURES_PER_OPEN_HOUR + OUTAGES_PER_HOUR) * SLOT_MINUTES / 60
    gap_until = np.zeros(n, dtype=np.int64)
    waiting = np.zeros((n, slots))
    observed = np.full((n, slots), np.nan)
    length = np.zeros(n)
    for t in range(slots):
        is_open = scheduled[:, t]
        length = np.where(is_open, length, 0.0)
        starts_gap = is_open & (gap_until <= t) & (rng.random(n) < per_slot)
        gap_until = np.where(starts_gap, t + rng.integers(2, 9, n), gap_until)
        in_gap = gap_until > t
        length = np.where(in_gap, 0.0, length)  # closed or unseen: the queue is sent home
        waiting[:, t] = length
        wait = length * service / desks * (1 + rng.normal(0.0, 0.1, n))
        observed[:, t] = np.where(in_gap, np.nan, np.maximum(0.0, np.round(wait, 1)))
        arriving = np.clip(left[:, t] - 15, 0, SLOT_MINUTES)
        arrivals = rng.poisson(np.where(is_open & ~in_gap, rates[:, t] * arriving / 60, 0.0))
        served = rng.poisson(desks * SLOT_MINUTES / service)
        waited = length * service / desks
        gone = rng.binomial(
            length.astype(np.int64), np.where(waited > ABANDON_AFTER_MINUTES, ABANDON_PER_SLOT, 0.0)
        )
        length = np.maximum(0.0, length + arrivals - served - gone)
        length = np.where(left[:, t] <= SLOT_MINUTES, 0.0, length)  # closing: everyone home
    return QueueHistory(
        series=tuple(series),
        first_day=first_day,
        days=days,
        observed=np.where(scheduled, observed, 0.0),
        waiting=waiting,
        scheduled=scheduled,
    )
