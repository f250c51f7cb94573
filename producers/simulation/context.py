"""What every simulated device shares: one seeded generator, the config and the event factory.

Every draw — arrivals, noise, closures, event ids — comes from the one :class:`random.Random` of
the simulation, in a fixed order, which is why the same facilities, start and seed give the same
events, ids included.
"""

from __future__ import annotations

import datetime as dt
import math
import random
import uuid
from dataclasses import dataclass
from typing import Any

from producers.simulation.config import SimulatorConfig
from producers.simulation.state import FacilityState
from schemas.events import CloudEvent, EventType, make_event

MINUTE = dt.timedelta(minutes=1)
LAST_SECOND = dt.timedelta(seconds=59)


@dataclass(frozen=True, slots=True)
class Context:
    """The simulation's generator and config, handed to every device function."""

    rng: random.Random
    config: SimulatorConfig

    def event(
        self,
        event_type: EventType,
        state: FacilityState,
        data: dict[str, Any],
        source: str,
        at: dt.datetime,
    ) -> CloudEvent:
        """An event of the facility with a seeded id (uuid4 from the generator)."""
        return make_event(
            event_type,
            state.facility.id,
            data,
            source=source,
            time=at,
            id=str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
        )

    def within(self, now: dt.datetime) -> dt.datetime:
        """An instant inside the current minute."""
        return now + dt.timedelta(seconds=self.rng.randrange(60))


def poisson(rng: random.Random, mean: float) -> int:
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


def binomial(rng: random.Random, n: int, p: float) -> int:
    """A binomial draw (exact for small n, normal approximation above)."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n < 40:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean, sd = n * p, math.sqrt(n * p * (1 - p))
    return min(n, max(0, round(rng.gauss(mean, sd))))
