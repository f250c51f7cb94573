"""Affluence patterns per facility type, in Paris wall-clock time — pure functions, no randomness.

A curve gives the *target occupancy ratio* (people inside ÷ capacity) at a time of day for a kind of
day; the simulator turns it into arrivals with Little's law (arrivals/min = target ÷ mean stay).
Queue curves give ticket arrivals per hour for services with a ticket queue.

The shapes follow what Paris facilities see: pools busy at lunch, after school (16:30–19:00),
Wednesday afternoons (no school) and weekends; town halls on weekday mornings and Saturday morning;
libraries in the afternoon and on Saturday (students); sports centres in the evening.
:class:`Scenario` modulates them: heat wave (pools packed, more water-quality closures), rain
(indoor facilities busier), school holidays (children all day). :func:`day_factor` makes each day
of each facility its own: the season, the city's weather (spells lasting days, each type answering
it its own way) and the facility's own day, all seeded and pure.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from schemas.holidays import is_public_holiday, is_school_holiday

DayKind = Literal["weekday", "wednesday", "saturday", "sunday"]
"""Wednesday is its own kind: French primary schools are off on Wednesday afternoon."""

Curve = tuple[tuple[float, float], ...]
"""``(hour of day, value)`` points, linearly interpolated, 0 outside the first/last point."""


@dataclass(frozen=True, slots=True)
class Scenario:
    """Conditions that change how busy facilities are (several can hold at once)."""

    heat_wave: bool = False
    rain: bool = False
    school_holidays: bool = False

    @classmethod
    def named(cls, names: list[str] | tuple[str, ...]) -> Scenario:
        """From CLI names: ``normal``, ``heat_wave``, ``rain``, ``school_holidays``."""
        known = {"heat_wave", "rain", "school_holidays"}
        flags = {n.replace("-", "_") for n in names} - {"normal"}
        unknown = flags - known
        if unknown:
            raise ValueError(
                f"unknown scenario {sorted(unknown)}; choose from normal, {', '.join(sorted(known))}"
            )
        return cls(**{flag: True for flag in flags})

    @property
    def label(self) -> str:
        flags = [name for name in ("heat_wave", "rain", "school_holidays") if getattr(self, name)]
        return "+".join(flags) or "normal"


def day_kind(day: dt.date, scenario: Scenario = Scenario()) -> DayKind:
    """The kind of a Paris date; public holidays are Sundays, school holidays make weekdays
    behave like Wednesdays (children are free all day)."""
    weekday = day.weekday()
    if weekday == 6 or is_public_holiday(day):
        return "sunday"
    if weekday == 5:
        return "saturday"
    if weekday == 2 or scenario.school_holidays or is_school_holiday(day):
        return "wednesday"
    return "weekday"


# ── occupancy curves (target ratio of capacity) ────────────────────────────────────────────────

_POOL_WEEKDAY: Curve = (
    (7, 0.25), (8.5, 0.2), (10, 0.12), (11.5, 0.3), (12.25, 0.62), (13.5, 0.55), (14.5, 0.18),
    (16.5, 0.3), (17.5, 0.6), (19, 0.55), (21, 0.3), (23, 0.1),
)  # fmt: skip
_POOL_WEDNESDAY: Curve = (
    (7, 0.25), (10, 0.15), (12.25, 0.55), (14, 0.7), (16, 0.8), (18, 0.65), (21, 0.3), (23, 0.1),
)  # fmt: skip
_POOL_WEEKEND: Curve = (
    (7, 0.2), (9, 0.35), (11, 0.6), (13, 0.55), (15, 0.82), (17, 0.75), (19, 0.4), (21, 0.2),
)  # fmt: skip

_TOWN_HALL_WEEKDAY: Curve = (
    (8.5, 0.45), (9.5, 0.85), (11, 0.9), (12.5, 0.55), (14, 0.45), (16, 0.35), (17.5, 0.15),
    (19.5, 0.1),
)  # fmt: skip
_TOWN_HALL_SATURDAY: Curve = ((9, 0.5), (10.5, 0.7), (12.5, 0.3))

_LIBRARY_WEEKDAY: Curve = (
    (10, 0.15), (12, 0.3), (14, 0.45), (17, 0.7), (19, 0.45), (22, 0.15),
)  # fmt: skip
_LIBRARY_WEDNESDAY: Curve = ((10, 0.25), (12, 0.35), (14, 0.65), (17, 0.75), (19, 0.45))
_LIBRARY_WEEKEND: Curve = ((10, 0.4), (12, 0.6), (15, 0.85), (18, 0.55))

_SPORTS_WEEKDAY: Curve = (
    (8, 0.2), (10, 0.15), (12.5, 0.45), (14, 0.2), (17, 0.4), (19, 0.85), (21, 0.7), (22.5, 0.3),
)  # fmt: skip
_SPORTS_WEDNESDAY: Curve = ((8, 0.2), (12.5, 0.45), (14, 0.6), (17, 0.7), (19, 0.85), (22.5, 0.3))
_SPORTS_WEEKEND: Curve = ((8, 0.3), (10, 0.65), (13, 0.5), (16, 0.7), (19, 0.4))

_LEISURE_WEEKDAY: Curve = ((10, 0.1), (14, 0.15), (16.5, 0.55), (18, 0.75), (20, 0.45), (22, 0.2))
_LEISURE_WEDNESDAY: Curve = ((10, 0.35), (13.5, 0.8), (16, 0.9), (18, 0.7), (21, 0.3))
_LEISURE_SATURDAY: Curve = ((10, 0.45), (12, 0.55), (15, 0.7), (18, 0.4))

_CONSERVATORY_WEEKDAY: Curve = ((9, 0.15), (12, 0.2), (16.5, 0.6), (18.5, 0.8), (21, 0.3))
_CONSERVATORY_WEDNESDAY: Curve = ((9, 0.3), (13.5, 0.75), (16, 0.9), (19, 0.7), (21, 0.3))
_CONSERVATORY_SATURDAY: Curve = ((9, 0.6), (11, 0.85), (14, 0.6), (18, 0.3))

_DESK_WEEKDAY: Curve = ((8.5, 0.5), (9.5, 0.8), (11.5, 0.75), (13, 0.35), (14, 0.5), (17, 0.2))

OCCUPANCY: dict[str, dict[DayKind, Curve]] = {
    "pool": {
        "weekday": _POOL_WEEKDAY,
        "wednesday": _POOL_WEDNESDAY,
        "saturday": _POOL_WEEKEND,
        "sunday": _POOL_WEEKEND,
    },
    "town_hall": {
        "weekday": _TOWN_HALL_WEEKDAY,
        "wednesday": _TOWN_HALL_WEEKDAY,
        "saturday": _TOWN_HALL_SATURDAY,
        "sunday": (),
    },
    "library": {
        "weekday": _LIBRARY_WEEKDAY,
        "wednesday": _LIBRARY_WEDNESDAY,
        "saturday": _LIBRARY_WEEKEND,
        "sunday": _LIBRARY_WEEKEND,
    },
    "sports_centre": {
        "weekday": _SPORTS_WEEKDAY,
        "wednesday": _SPORTS_WEDNESDAY,
        "saturday": _SPORTS_WEEKEND,
        "sunday": _SPORTS_WEEKEND,
    },
    "leisure_centre": {
        "weekday": _LEISURE_WEEKDAY,
        "wednesday": _LEISURE_WEDNESDAY,
        "saturday": _LEISURE_SATURDAY,
        "sunday": _LEISURE_SATURDAY,
    },
    "conservatory": {
        "weekday": _CONSERVATORY_WEEKDAY,
        "wednesday": _CONSERVATORY_WEDNESDAY,
        "saturday": _CONSERVATORY_SATURDAY,
        "sunday": (),
    },
    "social_services": {
        "weekday": _DESK_WEEKDAY,
        "wednesday": _DESK_WEEKDAY,
        "saturday": _DESK_WEEKDAY,
        "sunday": (),
    },
    "legal_advice": {
        "weekday": _DESK_WEEKDAY,
        "wednesday": _DESK_WEEKDAY,
        "saturday": _DESK_WEEKDAY,
        "sunday": (),
    },
    # Types the open-data catalogue added: shapes borrowed from the closest kind (estimated).
    "museum": {
        "weekday": _LIBRARY_WEEKDAY,
        "wednesday": _LIBRARY_WEDNESDAY,
        "saturday": _LIBRARY_WEEKEND,
        "sunday": _LIBRARY_WEEKEND,
    },
    "bath_house": {
        "weekday": _DESK_WEEKDAY,
        "wednesday": _DESK_WEEKDAY,
        "saturday": _DESK_WEEKDAY,
        "sunday": _DESK_WEEKDAY,
    },
    "gymnasium": {
        "weekday": _SPORTS_WEEKDAY,
        "wednesday": _SPORTS_WEDNESDAY,
        "saturday": _SPORTS_WEEKEND,
        "sunday": _SPORTS_WEEKEND,
    },
    "sports_ground": {
        "weekday": _SPORTS_WEEKDAY,
        "wednesday": _SPORTS_WEDNESDAY,
        "saturday": _SPORTS_WEEKEND,
        "sunday": _SPORTS_WEEKEND,
    },
    "community_centre": {
        "weekday": _LEISURE_WEEKDAY,
        "wednesday": _LEISURE_WEDNESDAY,
        "saturday": _LEISURE_SATURDAY,
        "sunday": (),
    },
}

MEAN_STAY_MINUTES: dict[str, float] = {
    "pool": 70,
    "town_hall": 25,
    "library": 110,
    "sports_centre": 85,
    "leisure_centre": 100,
    "conservatory": 75,
    "social_services": 40,
    "legal_advice": 45,
    "museum": 90,
    "bath_house": 30,
    "gymnasium": 90,
    "sports_ground": 60,
    "community_centre": 45,
}
"""How long a visitor stays on average (Little's law: arrivals = occupancy ÷ stay)."""

DEFAULT_CAPACITY: dict[str, int] = {
    "pool": 300,
    "town_hall": 120,
    "library": 150,
    "sports_centre": 200,
    "leisure_centre": 100,
    "conservatory": 150,
    "social_services": 40,
    "legal_advice": 25,
    "museum": 400,
    "bath_house": 30,
    "gymnasium": 120,
    "sports_ground": 60,
    "community_centre": 60,
}
"""People inside when the catalogue gives no capacity (the simulator still needs a scale)."""

# ── queues (ticket arrivals per hour at one queue service, before the scenario) ───────────────

QUEUE_PEAK_PER_HOUR: dict[str, float] = {
    "pool": 40,
    "town_hall": 32,
    "library": 14,
    "sports_centre": 10,
    "leisure_centre": 8,
    "conservatory": 6,
    "social_services": 9,
    "legal_advice": 5,
    "museum": 30,
    "bath_house": 12,
    "community_centre": 6,
}
SERVICE_MINUTES: dict[str, float] = {
    "pool": 1.0,
    "town_hall": 7.0,
    "library": 2.5,
    "sports_centre": 2.0,
    "leisure_centre": 5.0,
    "conservatory": 6.0,
    "social_services": 14.0,
    "legal_advice": 20.0,
    "museum": 1.5,
    "bath_house": 20.0,
    "community_centre": 10.0,
}
"""Mean time a desk spends on one ticket."""


def interpolate(curve: Curve, hour: float) -> float:
    """Value of a curve at ``hour`` (0 before its first point and after its last)."""
    if not curve or hour < curve[0][0] or hour > curve[-1][0]:
        return 0.0
    hours = [point[0] for point in curve]
    index = bisect_right(hours, hour) - 1
    if index >= len(curve) - 1:
        return curve[-1][1]
    (h0, v0), (h1, v1) = curve[index], curve[index + 1]
    return v0 + (v1 - v0) * (hour - h0) / (h1 - h0)


def scenario_factor(facility_type: str, scenario: Scenario) -> float:
    """How much a scenario multiplies a type's attendance."""
    factor = 1.0
    if scenario.heat_wave:
        factor *= {"pool": 1.7, "library": 1.15, "sports_centre": 0.75}.get(facility_type, 0.95)
    if scenario.rain:
        factor *= {
            "pool": 1.1,
            "library": 1.2,
            "sports_centre": 1.15,
            "leisure_centre": 1.15,
            "town_hall": 0.9,
        }.get(facility_type, 1.0)
    if scenario.school_holidays:
        factor *= {"conservatory": 0.4, "pool": 1.1, "leisure_centre": 1.2}.get(facility_type, 1.0)
    return factor


def target_ratio(facility_type: str, local: dt.datetime, scenario: Scenario = Scenario()) -> float:
    """Target occupancy ratio (0–0.98) of a facility type at a Paris wall-clock time."""
    kind = day_kind(local.date(), scenario)
    curve = OCCUPANCY.get(facility_type, {}).get(kind, ())
    hour = local.hour + local.minute / 60
    return min(0.98, interpolate(curve, hour) * scenario_factor(facility_type, scenario))


def queue_arrivals_per_hour(
    facility_type: str, local: dt.datetime, scenario: Scenario = Scenario()
) -> float:
    """Tickets issued per hour at one queue service: the type's peak shaped by its curve."""
    shape = target_ratio(facility_type, local, scenario)
    return QUEUE_PEAK_PER_HOUR.get(facility_type, 5.0) * shape


# ── day effects (what makes tomorrow unlike last week: weather, season, the facility's own day) ──

_WEATHER_MEMORY = 0.6
"""How much of yesterday's weather carries into today (spells of several days, not daily coin
flips)."""
_WEATHER_RESPONSE: dict[str, float] = {
    "pool": 0.22,
    "sports_ground": 0.15,
    "sports_centre": -0.06,
    "gymnasium": -0.06,
    "library": -0.08,
    "museum": -0.1,
    "leisure_centre": -0.04,
}
"""Log-change of attendance per standard deviation of "fine weather" (outdoor and water types
gain on a fine day, indoor ones lose a little); other types: 0.03."""
_SEASON_AMPLITUDE: dict[str, float] = {"pool": 0.2, "sports_ground": 0.15, "library": -0.12}
"""Summer (early August) versus winter swing of attendance, as a fraction; other types: -0.08 (quieter
in summer, when Parisians are away)."""
_OWN_DAY_SD = 0.08
"""Spread of a facility's own day (a school group, a club, an event) around the city's day."""


def _gauss(*key: object) -> float:
    """A standard normal draw fixed by its key (string seeding hashes with SHA-512: stable across
    runs and machines)."""
    return random.Random(":".join(str(part) for part in key)).gauss(0.0, 1.0)


@lru_cache(maxsize=4096)
def fine_weather(day: dt.date, seed: int = 0) -> float:
    """The city's "fine weather" index of a date (≈ standard normal, autocorrelated over days)."""
    total, norm = 0.0, 0.0
    for back in range(6):
        weight = _WEATHER_MEMORY**back
        total += weight * _gauss(seed, "weather", day - dt.timedelta(days=back))
        norm += weight * weight
    return total / math.sqrt(norm)


@lru_cache(maxsize=65536)
def day_factor(
    facility_id: str,
    facility_type: str,
    day: dt.date,
    seed: int = 0,
    scenario: Scenario = Scenario(),
) -> float:
    """How much busier (> 1) or quieter (< 1) than its typical curve a facility is on a date:
    season × the city's weather × the facility's own day. A scenario that sets the weather (heat
    wave, rain) replaces the weather spells. Pure and seeded (no draw from the simulation's
    generator, so the event sequence of a seed keeps its shape)."""
    season = 1 + _SEASON_AMPLITUDE.get(facility_type, -0.08) * math.cos(
        2 * math.pi * (day.timetuple().tm_yday - 213) / 365.25
    )
    spells = 0.0 if scenario.heat_wave or scenario.rain else fine_weather(day, seed)
    weather = _WEATHER_RESPONSE.get(facility_type, 0.03) * spells
    own = _OWN_DAY_SD * _gauss(seed, facility_id, day)
    return min(1.8, max(0.35, season * math.exp(weather + own)))
