"""The knobs of a simulation (seed, scenario, rates)."""

from __future__ import annotations

from dataclasses import dataclass, field

from producers.patterns import Scenario


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
    day_effects: bool = False
    """Scale each facility's curve by its day factor (:func:`producers.patterns.day_factor`:
    season, weather spells, the facility's own day), so no two weeks are alike and forecasting is a
    real problem (what :mod:`producers.history` always does); off, every Tuesday of a scenario
    follows the same curve, which the scenario tests compare (a fine day already fills the pools a
    heat wave would)."""
    record_ticket_waits: bool = False
    """Keep every ticket's true wait (issued → called) for :meth:`Simulation.drain_ticket_waits`
    (off by default: a long-running simulator would keep them all)."""
