"""The Paris simulator: every device of every facility of the catalogue, as a pure generator.

``Simulation(facilities, start, config).advance(until)`` returns the CloudEvents the turnstiles,
counting sensors, ticket machines, booking systems, agents and case-management systems of the
whole catalogue would emit between the simulation clock and ``until``, in time order. No I/O, no
wall clock: the same facilities, start and seed give the same events (ids included), which is what
the unit tests check; :mod:`producers.runner` paces it against real time and publishes. This
module is the minute loop over the facilities; each device is a module of
:mod:`producers.simulation`.

What it simulates, one minute at a time (Paris wall-clock time, opening hours from the schedule
engine :mod:`schemas.hours`):

* **passages** per gate and minute (:mod:`~producers.simulation.passages`): arrivals by Little's law from the type's affluence curve
  (:mod:`producers.patterns`), departures after a mean stay; arrivals stop 20 minutes before
  closing and everyone is out by the closing minute — never a passage while closed; counters
  miss a few passages (1 % in, 3 % out), so counted occupancy drifts;
* **head counts** every 5 minutes (same module) by the counting sensor (facilities with a capacity), ±3 % noise,
  with sensor outages of 30 minutes to 3 hours;
* **exceptional closures** (:mod:`~producers.simulation.closures`) with a reason and a bilingual message, announced 10 minutes ahead
  (the facility is evacuated meanwhile), sometimes extended (``.updated``), then ``.ended``;
  whole facility, one area (``Bassin 50 m``) or one service;
* **queues** at ticket services (:mod:`~producers.simulation.queues`; town halls first): tickets issued, called to a free desk, served,
  or abandoned after a long wait or at closing; each ticket's true wait is kept on request
  (:meth:`Simulation.drain_ticket_waits`);
* **appointments** (:mod:`~producers.simulation.booking`): ``slots.published`` when a booking system's availability changes —
  multi-week delays for identity documents; a slot is always inside the facility's opening hours;
* **cases** (:mod:`~producers.simulation.cases`) of procedures opened and closed (a backlog of open cases is emitted at the start with
  their past ``time``, so processing délais exist from the first minutes).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator, Sequence

from producers.patterns import DEFAULT_CAPACITY, day_factor, target_ratio
from producers.simulation import booking, cases, closures, passages, queues
from producers.simulation.config import SimulatorConfig
from producers.simulation.context import MINUTE, Context
from producers.simulation.state import FacilityState, TicketWait, opening_hours
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent


class Simulation:
    """Simulated devices of a set of facilities; ``advance`` moves the clock and returns events."""

    def __init__(
        self,
        facilities: Sequence[Facility],
        start: dt.datetime,
        config: SimulatorConfig | None = None,
    ) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self.config = config or SimulatorConfig()
        self.rng = random.Random(self.config.seed)
        self._ctx = Context(self.rng, self.config)
        self.clock = start.astimezone(dt.UTC).replace(second=0, microsecond=0)
        self._states = [self._state(f) for f in facilities]
        self._started = False

    # -- public ------------------------------------------------------------------------------

    def advance(self, until: dt.datetime) -> list[CloudEvent]:
        """Events from the clock up to ``until`` (exclusive, whole minutes), in time order."""
        events: list[CloudEvent] = []
        while self.clock < until:
            events.extend(self.step())
        return events

    def step(self) -> list[CloudEvent]:
        """One simulated minute of every facility, in time order."""
        out: list[CloudEvent] = []
        now = self.clock
        local = now.astimezone(PARIS)
        if not self._started:
            self._started = True
            for state in self._states:
                self._warm_up(state, now, local, out)
        for state in self._states:
            self._facility_minute(state, now, local, out)
        self.clock = now + MINUTE
        out.sort(key=lambda event: event.time)
        return out

    def drain_ticket_waits(self) -> list[TicketWait]:
        """Every ticket's true wait recorded since the last call, by issue time (needs
        ``SimulatorConfig(record_ticket_waits=True)``; empty otherwise)."""
        waits = [wait for state in self._states for wait in state.ticket_waits]
        for state in self._states:
            state.ticket_waits.clear()
        return sorted(waits, key=lambda wait: wait.issued_at)

    def occupancy(self) -> dict[str, int]:
        """True number of people inside each facility (what a perfect sensor would say)."""
        return {s.facility.id: s.inside for s in self._states}

    # -- set-up ------------------------------------------------------------------------------

    def _state(self, facility: Facility) -> FacilityState:
        capacity = facility.capacity or DEFAULT_CAPACITY.get(facility.type, 100)
        n_gates = max(1, min(4, capacity // 250 + 1))
        procedures = [
            (p.procedure_id, float(p.committed_days) * 0.8 if p.committed_days else 14.0)
            for p in facility.procedures
        ]
        return FacilityState(
            facility=facility,
            hours=opening_hours(facility),
            capacity=capacity,
            has_sensor=facility.capacity is not None,
            gates=tuple(f"porte-{i + 1}" for i in range(n_gates)),
            queues=queues.new_queues(facility),
            slots=booking.new_slots(self.rng, facility),
            procedures=procedures,
        )

    def _warm_up(
        self, state: FacilityState, now: dt.datetime, local: dt.datetime, out: list[CloudEvent]
    ) -> None:
        """Start mid-day without a cold start: people already inside (no events for them), the
        booking systems' current availability, and a backlog of open cases."""
        if state.minutes_left(local) is not None:
            ratio = target_ratio(state.facility.type, local, self.config.scenario)
            if self.config.day_effects:
                facility = state.facility
                ratio *= day_factor(
                    facility.id, facility.type, local.date(), self.config.seed, self.config.scenario
                )
            state.inside = round(state.capacity * ratio)
        for slots in state.slots:
            booking.publish_slots(self._ctx, state, slots, now, local, out)
        cases.open_backlog(self._ctx, state, now, out)

    # -- one facility, one minute ------------------------------------------------------------

    def _facility_minute(
        self, state: FacilityState, now: dt.datetime, local: dt.datetime, out: list[CloudEvent]
    ) -> None:
        ctx = self._ctx
        minutes_left = state.minutes_left(local)
        closures.closures(ctx, state, now, minutes_left, out)
        closure = state.closure
        closed_now = closure is not None and closure.whole_facility and closure.starts_at <= now
        if minutes_left is not None and not closed_now:
            if closure is not None and closure.whole_facility:  # announced: evacuate before it
                to_closure = int((closure.starts_at - now) / MINUTE)
                minutes_left = min(minutes_left, to_closure)
            passages.passages(ctx, state, now, local, minutes_left, out)
            queues.queues(ctx, state, now, local, minutes_left, out)
            cases.cases(ctx, state, now, out)
        else:
            state.inside = 0
        passages.headcount(ctx, state, now, local, minutes_left is not None and not closed_now, out)
        if local.minute % 15 == 0:
            for slots in state.slots:
                booking.move_slots(ctx, state, slots, now, local, out)


def simulate(
    facilities: Sequence[Facility],
    start: dt.datetime,
    end: dt.datetime,
    config: SimulatorConfig | None = None,
) -> Iterator[CloudEvent]:
    """Events of the simulated window ``[start, end)``, minute by minute, in time order."""
    simulation = Simulation(facilities, start, config)
    while simulation.clock < end:
        yield from simulation.step()
