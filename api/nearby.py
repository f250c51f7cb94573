"""The nearest facilities of the same type that are open now: what a closed card or screen
suggests instead ("Piscine ouverte la plus proche : …"). Pure: catalogue entries and states in."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

from api.views import OPEN_STATES
from schemas.catalogue import Facility, Location

__all__ = ["distance_m", "nearest_open"]

EARTH_RADIUS_M = 6_371_000.0


def distance_m(a: Location, b: Location) -> float:
    """Great-circle distance in metres (haversine; ample for distances inside Paris)."""
    phi1, phi2 = math.radians(a.lat), math.radians(b.lat)
    dphi, dlmb = phi2 - phi1, math.radians(b.lon - a.lon)
    h = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


def nearest_open(
    origin: Facility,
    candidates: Iterable[Facility],
    states: Mapping[str, str],
    *,
    limit: int,
) -> list[tuple[Facility, float]]:
    """Up to ``limit`` facilities of ``origin``'s type, other than it, whose live state is open
    (open, closing soon, partially closed), nearest first; ties by name."""
    found = [
        (f, distance_m(origin.location, f.location))
        for f in candidates
        if f.type == origin.type and f.id != origin.id and states.get(f.id) in OPEN_STATES
    ]
    found.sort(key=lambda pair: (pair[1], pair[0].name))
    return found[:limit]
