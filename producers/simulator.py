"""The Paris simulator: every device of every facility of the catalogue, as a pure generator.

``Simulation(facilities, start, config).advance(until)`` returns the CloudEvents the turnstiles,
counting sensors, ticket machines, booking systems, agents and case-management systems of the
whole catalogue would emit between the simulation clock and ``until``, in time order. No I/O, no
wall clock: the same facilities, start and seed give the same events (ids included), which is what
the unit tests check; :mod:`producers.runner` paces it against real time and publishes.

What it simulates, one minute at a time (Paris wall-clock time, opening hours from the schedule
engine :mod:`schemas.hours`):

* **passages** per gate and minute: arrivals by Little's law from the type's affluence curve
  (:mod:`producers.patterns`), departures after a mean stay; arrivals stop 20 minutes before
  closing and everyone is out by the closing minute — never a passage while closed; counters
  miss a few passages (1 % in, 3 % out), so counted occupancy drifts;
* **head counts** every 5 minutes by the counting sensor (facilities with a capacity), ±3 % noise,
  with sensor outages of 30 minutes to 3 hours;
* **exceptional closures** with a reason and a bilingual message, announced 10 minutes ahead
  (the facility is evacuated meanwhile), sometimes extended (``.updated``), then ``.ended``;
  whole facility, one area (``Bassin 50 m``) or one service;
* **queues** at ticket services (town halls first): tickets issued, called to a free desk, served,
  or abandoned after a long wait or at closing;
* **appointments**: ``slots.published`` when a booking system's availability changes —
  multi-week delays for identity documents;
* **cases** of procedures opened and closed (a backlog of open cases is emitted at the start with
  their past ``time``, so processing délais exist from the first minutes).
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from producers.patterns import (
    DEFAULT_CAPACITY,
    MEAN_STAY_MINUTES,
    SERVICE_MINUTES,
    Scenario,
    queue_arrivals_per_hour,
    target_ratio,
)
from schemas import topics as contract
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, make_event
from schemas.hours import OpeningHours, day_schedule

CASE_BACKLOG_MAX_AGE = dt.timedelta(
    milliseconds=(contract.TOPICS[contract.CASES].retention_ms or 0)
) - dt.timedelta(days=10)
"""The oldest opening of a backlog case: within the cases topic's retention (with a margin for a
simulated start before now), since the worker refuses older events (``time_out_of_range``)."""

MINUTE = dt.timedelta(minutes=1)
LAST_SECOND = dt.timedelta(seconds=59)

CLOSURE_REASONS: dict[str, tuple[tuple[str, float], ...]] = {
    "pool": (
        ("water_quality", 0.35),
        ("technical_failure", 0.3),
        ("staff_shortage", 0.25),
        ("security", 0.1),
    ),
    "town_hall": (("staff_shortage", 0.4), ("strike", 0.2), ("technical_failure", 0.2), ("event", 0.2)),
    "sports_centre": (("technical_failure", 0.4), ("staff_shortage", 0.3), ("weather", 0.2), ("works", 0.1)),
    "_default": (("staff_shortage", 0.5), ("technical_failure", 0.3), ("strike", 0.1), ("other", 0.1)),
}  # fmt: skip
"""Which reasons close which type of facility, and how often (weights)."""

CLOSURE_MESSAGES: dict[str, tuple[str, str]] = {
    "water_quality": (
        "Fermeture exceptionnelle : la qualité de l'eau est en cours de rétablissement.",
        "Exceptionally closed: water quality is being restored.",
    ),
    "technical_failure": (
        "Fermeture exceptionnelle à la suite d'une panne technique.",
        "Exceptionally closed because of a technical failure.",
    ),
    "staff_shortage": (
        "Fermeture exceptionnelle faute de personnel en nombre suffisant.",
        "Exceptionally closed: not enough staff on duty.",
    ),
    "security": ("Fermeture exceptionnelle pour raison de sécurité.", "Exceptionally closed for safety reasons."),
    "strike": ("Fermeture en raison d'un mouvement social.", "Closed because of strike action."),
    "weather": ("Fermeture en raison des conditions météorologiques.", "Closed because of the weather."),
    "event": ("Fermeture pour un événement.", "Closed for an event."),
    "works": ("Fermeture pour travaux.", "Closed for works."),
    "other": ("Fermeture exceptionnelle.", "Exceptionally closed."),
}  # fmt: skip

DESKS: dict[str, int] = {"town_hall": 3, "social_services": 2, "pool": 2}
BASE_DELAY_DAYS: dict[str, tuple[float, float]] = {
    "identity-documents": (21, 56),  # passports and ID cards: weeks
    "civil-status": (3, 12),
    "housing": (7, 21),
}
"""Range of the next-appointment delay of a bookable service (default 0.5–6 days)."""


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """Knobs of a simulation; the defaults give a lively but plausible city."""

    seed: int = 0
    scenario: Scenario = field(default_factory=Scenario)
    closures_per_open_hour: float = 0.002
    """Chance per facility and open hour that an exceptional closure is declared."""
    sensor_outages_per_hour: float = 0.01
    headcount_every_minutes: int = 5
    case_backlog: int = 8
    """Open cases per procedure emitted at the start (with their past opening time)."""
    miss_in: float = 0.01
    miss_out: float = 0.03


@dataclass(slots=True)
class _Closure:
    closure_id: str
    scope: dict[str, str]
    reason: str
    message: dict[str, str]
    starts_at: dt.datetime
    expected_end: dt.datetime | None
    actual_end: dt.datetime
    updated: bool = False

    @property
    def whole_facility(self) -> bool:
        return self.scope["kind"] == "facility"


@dataclass(slots=True)
class _Queue:
    service_id: str
    letter: str
    desks: int
    counter: int = 0
    day: dt.date | None = None
    waiting: deque[tuple[str, dt.datetime]] = field(default_factory=deque)
    serving: list[tuple[str, dt.datetime]] = field(default_factory=list)


@dataclass(slots=True)
class _Slots:
    service_id: str
    delay_days: float
    low: float
    high: float
    free_7d: int
    published: tuple[str | None, int] | None = None


@dataclass(slots=True)
class _Case:
    procedure_id: str
    case_id: str
    due: dt.datetime


@dataclass(slots=True)
class _Facility:
    facility: Facility
    hours: OpeningHours
    capacity: int
    has_sensor: bool
    gates: tuple[str, ...]
    queues: list[_Queue]
    slots: list[_Slots]
    procedures: list[tuple[str, float]]  # (procedure_id, mean processing days)
    inside: int = 0
    sensor_down_until: dt.datetime | None = None
    closure: _Closure | None = None
    closures_declared: int = 0
    cases: list[_Case] = field(default_factory=list)
    cases_opened: int = 0
    periods: dict[dt.date, tuple[tuple[int, int], ...]] = field(default_factory=dict)


def opening_hours(facility: Facility) -> OpeningHours:
    """The schedule engine's model of a catalogue facility's hours."""
    return OpeningHours.model_validate(facility.hours.model_dump(by_alias=True))


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

    def occupancy(self) -> dict[str, int]:
        """True number of people inside each facility (what a perfect sensor would say)."""
        return {s.facility.id: s.inside for s in self._states}

    # -- set-up ------------------------------------------------------------------------------

    def _state(self, facility: Facility) -> _Facility:
        rng = self.rng
        capacity = facility.capacity or DEFAULT_CAPACITY.get(facility.type, 100)
        n_gates = max(1, min(4, capacity // 250 + 1))
        queues = [
            _Queue(s.service_id, chr(ord("A") + i), DESKS.get(facility.type, 1))
            for i, s in enumerate(sv for sv in facility.services if sv.queue)
        ]
        slots = []
        for service in facility.services:
            if not service.bookable:
                continue
            low, high = BASE_DELAY_DAYS.get(service.service_id, (0.5, 6.0))
            delay = rng.uniform(low, high)
            slots.append(_Slots(service.service_id, delay, low, high, self._free_slots(delay)))
        procedures = [
            (p.procedure_id, float(p.committed_days) * 0.8 if p.committed_days else 14.0)
            for p in facility.procedures
        ]
        return _Facility(
            facility=facility,
            hours=opening_hours(facility),
            capacity=capacity,
            has_sensor=facility.capacity is not None,
            gates=tuple(f"porte-{i + 1}" for i in range(n_gates)),
            queues=queues,
            slots=slots,
            procedures=procedures,
        )

    def _free_slots(self, delay_days: float) -> int:
        return 0 if delay_days > 7 else self.rng.randint(1, 40)

    def _warm_up(
        self, state: _Facility, now: dt.datetime, local: dt.datetime, out: list[CloudEvent]
    ) -> None:
        """Start mid-day without a cold start: people already inside (no events for them), the
        booking systems' current availability, and a backlog of open cases."""
        if self._minutes_left(state, local) is not None:
            ratio = target_ratio(state.facility.type, local, self.config.scenario)
            state.inside = round(state.capacity * ratio)
        for slots in state.slots:
            self._publish_slots(state, slots, now, local, out)
        for procedure_id, mean_days in state.procedures:
            for _ in range(self.config.case_backlog):
                duration = self._processing(mean_days)
                opened = max(now - duration * self.rng.random(), now - CASE_BACKLOG_MAX_AGE)
                self._open_case(state, procedure_id, opened, opened + duration, out)

    # -- one facility, one minute ------------------------------------------------------------

    def _facility_minute(
        self, state: _Facility, now: dt.datetime, local: dt.datetime, out: list[CloudEvent]
    ) -> None:
        minutes_left = self._minutes_left(state, local)
        self._closures(state, now, minutes_left, out)
        closure = state.closure
        closed_now = closure is not None and closure.whole_facility and closure.starts_at <= now
        if minutes_left is not None and not closed_now:
            if closure is not None and closure.whole_facility:  # announced: evacuate before it
                to_closure = int((closure.starts_at - now) / MINUTE)
                minutes_left = min(minutes_left, to_closure)
            self._passages(state, now, local, minutes_left, out)
            self._queues(state, now, local, minutes_left, out)
            self._cases(state, now, out)
        else:
            state.inside = 0
        self._headcount(state, now, local, minutes_left is not None and not closed_now, out)
        if local.minute % 15 == 0:
            for slots in state.slots:
                self._move_slots(state, slots, now, local, out)

    def _minutes_left(self, state: _Facility, local: dt.datetime) -> int | None:
        """Minutes until the current regular opening period ends, None when closed."""
        day = local.date()
        periods = state.periods.get(day)
        if periods is None:
            if len(state.periods) > 4:
                state.periods.clear()
            schedule = day_schedule(state.hours, day)
            periods = tuple((p.opens_minutes, p.closes_minutes) for p in schedule.periods)
            state.periods[day] = periods
        minute = local.hour * 60 + local.minute
        for opens, closes in periods:
            if opens <= minute < closes:
                return closes - minute
        return None

    def _event(
        self,
        event_type: EventType,
        state: _Facility,
        data: dict[str, Any],
        source: str,
        at: dt.datetime,
    ) -> CloudEvent:
        return make_event(
            event_type,
            state.facility.id,
            data,
            source=source,
            time=at,
            id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        )

    def _within(self, now: dt.datetime) -> dt.datetime:
        """An instant inside the current minute."""
        return now + dt.timedelta(seconds=self.rng.randrange(60))

    # -- passages and head counts ------------------------------------------------------------

    def _passages(
        self,
        state: _Facility,
        now: dt.datetime,
        local: dt.datetime,
        minutes_left: int,
        out: list[CloudEvent],
    ) -> None:
        rng = self.rng
        facility_type = state.facility.type
        stay = MEAN_STAY_MINUTES.get(facility_type, 60)
        closure = state.closure
        arrivals = 0
        if minutes_left > 20:
            target = state.capacity * target_ratio(facility_type, local, self.config.scenario)
            if closure is not None and not closure.whole_facility and closure.starts_at <= now:
                target *= 0.6  # part of the facility closed
            arrivals = min(_poisson(rng, target / stay), max(0, state.capacity - state.inside))
        if minutes_left <= 1:
            departures = state.inside
        else:
            leave = 1 / stay if minutes_left > 20 else max(1 / stay, 1 / minutes_left)
            departures = _binomial(rng, state.inside, leave)
        state.inside += arrivals - departures
        for direction, people, miss in (
            ("in", arrivals, self.config.miss_in),
            ("out", departures, self.config.miss_out),
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
                        self._event(
                            EventType.PASSAGE_COUNTED,
                            state,
                            {"gate_id": gate, "direction": direction, "count": count},
                            f"/turnstiles/{state.facility.id}/{gate}",
                            self._within(now),
                        )
                    )

    def _headcount(
        self,
        state: _Facility,
        now: dt.datetime,
        local: dt.datetime,
        open_now: bool,
        out: list[CloudEvent],
    ) -> None:
        if not state.has_sensor:
            return
        if state.sensor_down_until is not None:
            if now < state.sensor_down_until:
                return
            state.sensor_down_until = None
        if open_now and self.rng.random() < self.config.sensor_outages_per_hour / 60:
            state.sensor_down_until = now + dt.timedelta(minutes=self.rng.randint(30, 180))
            return
        if not open_now or local.minute % self.config.headcount_every_minutes:
            return
        noisy = round(state.inside * (1 + self.rng.gauss(0, 0.03)))
        out.append(
            self._event(
                EventType.HEADCOUNT_MEASURED,
                state,
                {"sensor_id": "capteur-1", "headcount": max(0, noisy)},
                f"/sensors/{state.facility.id}/capteur-1",
                now,
            )
        )

    # -- closures ----------------------------------------------------------------------------

    def _closures(
        self, state: _Facility, now: dt.datetime, minutes_left: int | None, out: list[CloudEvent]
    ) -> None:
        rng = self.rng
        closure = state.closure
        if closure is not None:
            if now >= closure.actual_end:
                data = {"closure_id": closure.closure_id, "ended_by": "agent-simulateur"}
                out.append(self._closure_event(EventType.CLOSURE_ENDED, state, data, now))
                state.closure = None
            elif (
                not closure.updated
                and closure.expected_end is not None
                and now >= closure.expected_end - 10 * MINUTE
                and closure.actual_end > closure.expected_end
            ):
                closure.updated = True
                closure.expected_end = closure.actual_end
                out.append(
                    self._closure_event(
                        EventType.CLOSURE_UPDATED, state, self._closure_data(closure), now
                    )
                )
            return
        if minutes_left is None or minutes_left < 40:
            return
        rate = self.config.closures_per_open_hour
        if self.config.scenario.heat_wave and state.facility.type == "pool":
            rate *= 2.5
        if rng.random() >= rate / 60:
            return
        state.closures_declared += 1
        reason = self._reason(state)
        starts = now + 10 * MINUTE
        if rng.random() < 0.15:  # "jusqu'à nouvel ordre"
            expected: dt.datetime | None = None
            actual = starts + dt.timedelta(minutes=rng.randint(240, 1200))
        else:
            expected = starts + dt.timedelta(minutes=rng.choice((30, 45, 60, 90, 120, 180, 240)))
            late = rng.random() < 0.3
            actual = expected + (dt.timedelta(minutes=rng.choice((30, 60))) if late else MINUTE * 0)
        scope = self._scope(state)
        fr, en = CLOSURE_MESSAGES[reason]
        if scope["kind"] == "area":
            fr, en = f"{scope['name']} fermé. {fr}", f"{scope['name']} closed. {en}"
        elif scope["kind"] == "service":
            service = state.facility.service(scope["service_id"])
            fr, en = f"{service.name.fr} : {fr}", f"{service.name.en}: {en}"
        state.closure = _Closure(
            closure_id=f"sim-{state.facility.id}-{state.closures_declared}-{self.config.seed}",
            scope=scope,
            reason=reason,
            message={"fr": fr, "en": en},
            starts_at=starts,
            expected_end=expected,
            actual_end=actual,
        )
        out.append(
            self._closure_event(
                EventType.CLOSURE_DECLARED, state, self._closure_data(state.closure), now
            )
        )

    def _reason(self, state: _Facility) -> str:
        choices = CLOSURE_REASONS.get(state.facility.type, CLOSURE_REASONS["_default"])
        scenario = self.config.scenario
        weighted = [
            (
                reason,
                weight
                * (3 if reason == "water_quality" and scenario.heat_wave else 1)
                * (4 if reason == "weather" and scenario.rain else 1),
            )
            for reason, weight in choices
        ]
        return self.rng.choices([r for r, _ in weighted], [w for _, w in weighted])[0]

    def _scope(self, state: _Facility) -> dict[str, str]:
        draw = self.rng.random()
        if state.facility.areas and draw < 0.25:
            return {"kind": "area", "name": self.rng.choice(state.facility.areas)}
        services = [s.service_id for s in state.facility.services if s.queue or s.bookable]
        if services and draw > 0.9:
            return {"kind": "service", "service_id": self.rng.choice(services)}
        return {"kind": "facility"}

    @staticmethod
    def _closure_data(closure: _Closure) -> dict[str, Any]:
        return {
            "closure_id": closure.closure_id,
            "scope": closure.scope,
            "reason": closure.reason,
            "message": closure.message,
            "starts_at": closure.starts_at,
            "expected_reopening_at": closure.expected_end,
            "declared_by": "agent-simulateur",
        }

    def _closure_event(
        self, event_type: EventType, state: _Facility, data: dict[str, Any], at: dt.datetime
    ) -> CloudEvent:
        return self._event(event_type, state, data, f"/agents/{state.facility.id}/simulateur", at)

    # -- queues ------------------------------------------------------------------------------

    def _queues(
        self,
        state: _Facility,
        now: dt.datetime,
        local: dt.datetime,
        minutes_left: int,
        out: list[CloudEvent],
    ) -> None:
        rng = self.rng
        closure = state.closure
        facility_type = state.facility.type
        for queue in state.queues:
            if queue.day != local.date():
                queue.day, queue.counter = local.date(), 0
            closed = (
                closure is not None
                and closure.starts_at <= now
                and closure.scope.get("service_id") == queue.service_id
            )
            for ticket, done_at in list(queue.serving):
                if done_at < now + MINUTE or minutes_left <= 1:
                    queue.serving.remove((ticket, done_at))
                    served = max(now, min(done_at, now + LAST_SECOND))
                    self._ticket(EventType.TICKET_SERVED, state, queue, ticket, served, out)
            if minutes_left <= 1 or closed:  # closing: whoever still waits goes home
                while queue.waiting:
                    ticket, issued = queue.waiting.popleft()
                    gone = max(issued, self._within(now))
                    self._ticket(EventType.TICKET_ABANDONED, state, queue, ticket, gone, out)
                continue
            if minutes_left > 15:
                rate = queue_arrivals_per_hour(facility_type, local, self.config.scenario) / 60
                for _ in range(_poisson(rng, rate)):
                    queue.counter += 1
                    ticket = f"{local:%m%d}-{queue.letter}{queue.counter:03d}"
                    issued = self._within(now)
                    queue.waiting.append((ticket, issued))
                    self._ticket(EventType.TICKET_ISSUED, state, queue, ticket, issued, out)
            for ticket, issued in list(queue.waiting):
                if now - issued > 20 * MINUTE and rng.random() < 0.03:
                    queue.waiting.remove((ticket, issued))
                    gone = self._within(now)
                    self._ticket(EventType.TICKET_ABANDONED, state, queue, ticket, gone, out)
            while queue.waiting and len(queue.serving) < queue.desks:
                ticket, issued = queue.waiting.popleft()
                called = min(max(issued, now) + dt.timedelta(seconds=30), now + LAST_SECOND)
                self._ticket(EventType.TICKET_CALLED, state, queue, ticket, called, out)
                service = rng.expovariate(1 / SERVICE_MINUTES.get(facility_type, 5.0))
                queue.serving.append((ticket, called + dt.timedelta(minutes=service)))

    def _ticket(
        self,
        event_type: EventType,
        state: _Facility,
        queue: _Queue,
        ticket: str,
        at: dt.datetime,
        out: list[CloudEvent],
    ) -> None:
        data = {"service_id": queue.service_id, "ticket_id": ticket}
        source = f"/tickets/{state.facility.id}/{queue.service_id}"
        out.append(self._event(event_type, state, data, source, at))

    # -- appointments ------------------------------------------------------------------------

    def _move_slots(
        self,
        state: _Facility,
        slots: _Slots,
        now: dt.datetime,
        local: dt.datetime,
        out: list[CloudEvent],
    ) -> None:
        rng = self.rng
        if rng.random() > 0.3:
            return
        span = slots.high - slots.low
        slots.delay_days = min(
            slots.high, max(slots.low, slots.delay_days + rng.gauss(0, span * 0.05))
        )
        if slots.delay_days <= 7:
            slots.free_7d = max(0, slots.free_7d + rng.randint(-3, 3))
        else:
            slots.free_7d = 0
        self._publish_slots(state, slots, now, local, out)

    def _publish_slots(
        self,
        state: _Facility,
        slots: _Slots,
        now: dt.datetime,
        local: dt.datetime,
        out: list[CloudEvent],
    ) -> None:
        day = local.date() + dt.timedelta(days=max(1, round(slots.delay_days)))
        quarter = 36 + int(slots.delay_days * 97) % 30  # 09:00 .. 16:15, stable for a delay
        next_at = dt.datetime.combine(day, dt.time(quarter // 4, 15 * (quarter % 4)), tzinfo=PARIS)
        published = (next_at.isoformat(), slots.free_7d)
        if published == slots.published:
            return  # a booking system publishes changes only
        slots.published = published
        data = {
            "service_id": slots.service_id,
            "next_available_at": next_at,
            "free_slots_7d": slots.free_7d,
        }
        source = f"/booking/{state.facility.id}/{slots.service_id}"
        out.append(self._event(EventType.SLOTS_PUBLISHED, state, data, source, now))

    # -- cases -------------------------------------------------------------------------------

    def _processing(self, mean_days: float) -> dt.timedelta:
        days = max(0.02, mean_days) * math.exp(self.rng.gauss(0, 0.4))
        return dt.timedelta(days=days)

    def _open_case(
        self,
        state: _Facility,
        procedure_id: str,
        at: dt.datetime,
        due: dt.datetime,
        out: list[CloudEvent],
    ) -> None:
        state.cases_opened += 1
        case_id = f"{state.facility.id}-{procedure_id}-{self.config.seed}-{state.cases_opened}"
        state.cases.append(_Case(procedure_id, case_id, due))
        data = {"procedure_id": procedure_id, "case_id": case_id}
        source = f"/cases/{state.facility.id}/{procedure_id}"
        out.append(self._event(EventType.CASE_OPENED, state, data, source, at))

    def _cases(self, state: _Facility, now: dt.datetime, out: list[CloudEvent]) -> None:
        for procedure_id, mean_days in state.procedures:
            for _ in range(_poisson(self.rng, 1.5 / 60)):
                opened = self._within(now)
                self._open_case(
                    state, procedure_id, opened, opened + self._processing(mean_days), out
                )
        for case in [c for c in state.cases if c.due <= now]:
            state.cases.remove(case)
            data = {"procedure_id": case.procedure_id, "case_id": case.case_id}
            source = f"/cases/{state.facility.id}/{case.procedure_id}"
            out.append(self._event(EventType.CASE_CLOSED, state, data, source, self._within(now)))


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


def _poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw (Knuth for small means, normal approximation above 30)."""
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, product = math.exp(-mean), 0, rng.random()
    while product > limit:
        k += 1
        product *= rng.random()
    return k


def _binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw (exact for small n, normal approximation above)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n < 40:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return min(n, max(0, round(rng.gauss(mean, sd))))
