"""« Près de moi »: where the directory measures distances from, and the facilities nearest
first. The origin is the browser's position (Geolocation API, sent as ``at=lat,lon``) or what a
person types: an arrondissement in any of its written forms ("15", "15e", "75015", "Paris 15")
— measured from its town hall — or a street of the catalogue ("rue de Vaugirard") — from the
middle of the facilities along it. What cannot be placed is said, never guessed.

Pure: the catalogue and the directory's items in, an origin and distances out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from statistics import fmean
from typing import Any, Literal

from babel.numbers import format_decimal
from pydantic import ValidationError

from api.i18n import Lang
from api.nearby import distance_m
from schemas.catalogue import Catalogue, Location, normalize_text

__all__ = ["Origin", "by_distance", "distance_words", "origin_from"]

PARIS_CENTRE = (1, 2, 3, 4)
"""Arrondissements of the Paris Centre town hall."""
STREET_WORDS = frozenset(
    [
        "rue",
        "avenue",
        "av",
        "boulevard",
        "bd",
        "place",
        "quai",
        "square",
        "allee",
        "passage",
        "impasse",
        "villa",
        "cite",
        "porte",
        "route",
        "chemin",
        "sentier",
        "cour",
        "galerie",
        "rond",
        "point",
        "de",
        "du",
        "des",
        "la",
        "le",
        "les",
        "d",
        "l",
        "et",
    ]
)
"""Words that name no street on their own: "rue" alone is everywhere."""
_POSITION = re.compile(r"^\s*(-?\d{1,2}(?:\.\d{1,7})?)\s*,\s*(-?\d{1,3}(?:\.\d{1,7})?)\s*$")
_ARRONDISSEMENT = re.compile(
    r"^(?:paris )?(?:750)?(\d{1,2})(?: ?(?:e|er|eme))?(?: arrondissement| arr)?$"
)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where distances are measured from, and how the page names it."""

    location: Location
    kind: Literal["position", "arrondissement", "street"]
    name: str
    """The arrondissement's town hall or the street, as the catalogue writes them (empty for a
    position: the page says « votre position »)."""


def origin_from(catalogue: Catalogue, *, at: str | None, near: str | None) -> Origin | None:
    """The origin a request names (``at`` first), or None when there is none or it cannot be
    placed in Paris (the page then says so)."""
    if at:
        return _position(at)
    if near and near.strip():
        return _arrondissement(catalogue, near) or _street(catalogue, near)
    return None


def _position(text: str) -> Origin | None:
    found = _POSITION.match(text)
    if found is None:
        return None
    try:
        location = Location(lat=float(found.group(1)), lon=float(found.group(2)))
    except ValidationError:  # outside Paris: nothing here is near it
        return None
    return Origin(location, "position", "")


def _arrondissement(catalogue: Catalogue, text: str) -> Origin | None:
    found = _ARRONDISSEMENT.match(normalize_text(text))
    if found is None or not 1 <= int(found.group(1)) <= 20:
        return None
    n = int(found.group(1))
    served = PARIS_CENTRE if n in PARIS_CENTRE else (n,)
    halls = [f for f in catalogue.by_type("town_hall") if f.arrondissement in served]
    if halls:
        return Origin(halls[0].location, "arrondissement", halls[0].name)
    places = [f.location for f in catalogue if f.arrondissement == n]
    if not places:
        return None
    return Origin(_middle(places), "arrondissement", f"Paris {n:02d}")


def _street_name(street: str) -> str:
    """The street without its number ("1 B avenue Maurice Ocagne" → "avenue Maurice Ocagne")."""
    words = street.split()
    while words and (
        words[0][0].isdigit() or len(words[0]) == 1 or words[0].lower() in {"bis", "ter"}
    ):
        words.pop(0)
    return " ".join(words)


def _street(catalogue: Catalogue, text: str) -> Origin | None:
    words = [w for w in normalize_text(_street_name(text)).split() if not w.isdigit()]
    if not any(w not in STREET_WORDS for w in words):
        return None
    wanted = f" {' '.join(words)} "
    along = [
        f for f in catalogue if wanted in f" {normalize_text(_street_name(f.address.street))} "
    ]
    if not along:
        return None
    return Origin(
        _middle([f.location for f in along]), "street", _street_name(along[0].address.street)
    )


def _middle(places: list[Location]) -> Location:
    return Location(lat=fmean(p.lat for p in places), lon=fmean(p.lon for p in places))


def by_distance(
    items: Iterable[Mapping[str, Any]], origin: Origin
) -> list[tuple[Mapping[str, Any], float]]:
    """The items nearest first (ties by name), each with its distance in metres."""
    measured = [
        (item, distance_m(origin.location, Location(**item["catalogue"]["location"])))
        for item in items
    ]
    measured.sort(key=lambda pair: (pair[1], pair[0]["name"]))
    return measured


def distance_words(metres: float, lang: Lang) -> str:
    """« 350 m », « 1,2 km » — as far as a person reads it (tens of metres, then 100 m)."""
    if metres < 1000:
        return f"{max(10, round(metres, -1)):.0f} m"
    return f"{format_decimal(round(metres / 1000, 1), format='0.0', locale=lang)} km"
