"""Merge the datasets' candidates into facility documents: match, de-duplicate, add.

A candidate joins an existing facility when it is the same site — same or compatible type,
close (metres) and with a similar name (significant words shared) or the same street address;
otherwise it becomes a new facility. Values from a dataset replace estimated ones, never
sourced ones, and every merged row is kept in the facility's ``records``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

from schemas.catalogue import normalize_text
from schemas.data import typical
from schemas.data.opendata import Candidate, Report
from schemas.provenance import ESTIMATED, SourceRef

__all__ = ["Merger"]

Json = dict[str, Any]

_GENERIC = set(
    [
        "piscine",
        "bibliotheque",
        "mediatheque",
        "musee",
        "gymnase",
        "centre",
        "sportif",
        "sportive",
        "stade",
        "tep",
        "square",
        "jardin",
        "jardins",
        "parc",
        "mairie",
        "du",
        "de",
        "la",
        "le",
        "les",
        "des",
        "d",
        "l",
        "et",
        "paris",
        "anim",
        "animation",
        "municipal",
        "municipale",
        "espace",
        "salle",
        "maison",
        "ex",
        "arrondissement",
        "bain",
        "bains",
        "douche",
        "douches",
        "cimetiere",
        "conservatoire",
        "associative",
        "vie",
        "citoyenne",
        "mvac",
        "associations",
        "a",
        "au",
        "aux",
        "en",
        "sur",
    ]
)
_SPORTS = {"pool", "sports_centre", "gymnasium", "sports_ground"}
_CELL = 200.0  # grid cells of 1/200 degree (≈ 550 m × 370 m)


def _words(name: str) -> set[str]:
    words = set()
    for word in normalize_text(name).split():
        word = re.sub(r"^(\d+)(?:e|eme|er)$", r"\1", word)
        if word not in _GENERIC:
            words.add(word[:-1] if len(word) > 3 and word.endswith("s") else word)
    return words


def similarity(first: str, second: str) -> float:
    """Share of significant words in common: Jaccard, or 0.8 when one name holds the other's.

    0 when either name has no significant word ("Piscine", "Square").
    """
    a, b = _words(first), _words(second)
    if not a or not b:
        return 0.0
    common = len(a & b)
    return max(common / len(a | b), 0.8 * common / min(len(a), len(b)))


def metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance in metres (equirectangular, exact enough inside Paris)."""
    dlat = math.radians(b[0] - a[0])
    dlon = math.radians(b[1] - a[1]) * math.cos(math.radians((a[0] + b[0]) / 2))
    return 6_371_000 * math.hypot(dlat, dlon)


def _street_key(street: str | None) -> str:
    return " ".join(normalize_text(street or "").split()[:3])


def _ref(value: SourceRef) -> Json:
    return value.model_dump(mode="json", exclude_none=True)


def slug(text: str) -> str:
    return "-".join(normalize_text(text).split())[:70].strip("-")


class Merger:
    """The facilities being built, indexed by id, type and place."""

    def __init__(
        self, report: Report, profile: Callable[[Candidate, str], Json | None] | None = None
    ) -> None:
        self.report = report
        self.profile = profile
        """Document of a new site of a type with a profile (services, procedures), or None."""
        self.docs: dict[str, Json] = {}
        self._grid: dict[tuple[int, int], list[str]] = {}

    # -- index --------------------------------------------------------------------------------

    def _cell(self, lat: float, lon: float) -> tuple[int, int]:
        return (int(lat * _CELL), int(lon * _CELL))

    def add(self, doc: Json) -> None:
        """A facility document, ready for the catalogue."""
        self.docs[doc["id"]] = doc
        location = doc["location"]
        self._grid.setdefault(self._cell(location["lat"], location["lon"]), []).append(doc["id"])

    def _near(self, lat: float, lon: float) -> Iterator[Json]:
        row, col = self._cell(lat, lon)
        for dr in (-1, 0, 1):
            for dc in (-1, 0, 1):
                for fid in self._grid.get((row + dr, col + dc), []):
                    yield self.docs[fid]

    # -- matching -----------------------------------------------------------------------------

    def match(self, candidate: Candidate) -> Json | None:
        """The facility this candidate describes, or None."""
        if candidate.location is None:
            return self._match_without_location(candidate)
        best: tuple[float, Json] | None = None
        for doc in self._near(*candidate.location):
            here = (doc["location"]["lat"], doc["location"]["lon"])
            distance = metres(candidate.location, here)
            score = similarity(candidate.name, doc["name"])
            same_type = doc["type"] == candidate.type
            compatible = same_type or {doc["type"], candidate.type} <= _SPORTS
            same_street = _street_key(candidate.street) == _street_key(doc["address"]["street"])
            if not (
                (same_type and distance <= 300 and score >= 0.5)
                or (compatible and distance <= 100 and score >= 0.5)
                or (same_type and distance <= 300 and same_street)
                or (same_type and distance <= 800 and score == 1.0)
            ):
                continue
            rank = score - distance / 1000 + (1.0 if same_type else 0)
            if best is None or rank > best[0]:
                best = (rank, doc)
        return None if best is None else best[1]

    def _match_without_location(self, candidate: Candidate) -> Json | None:
        best: tuple[float, Json] | None = None
        for doc in self.docs.values():
            if doc["type"] != candidate.type or doc["arrondissement"] != candidate.arrondissement:
                continue
            score = similarity(candidate.name, doc["name"])
            if _street_key(candidate.street) == _street_key(doc["address"]["street"]):
                score += 0.5
            if score >= 0.6 and (best is None or score > best[0]):
                best = (score, doc)
        return None if best is None else best[1]

    # -- merging ------------------------------------------------------------------------------

    def enrich(self, doc: Json, candidate: Candidate) -> None:
        """Take the candidate's sourced values where the facility's are estimated."""
        sources: Json = doc["sources"]
        doc["records"].append(_ref(candidate.ref))
        if sources.get("hours") == ESTIMATED:
            self._take_hours(doc, candidate)
        if candidate.accessibility is not None and sources.get("accessibility") in (
            None,
            ESTIMATED,
        ):
            doc["accessibility"] = list(candidate.accessibility)
            sources["accessibility"] = _ref(candidate.ref)
        if candidate.location is not None and sources.get("location") == ESTIMATED:
            doc["location"] = {"lat": candidate.location[0], "lon": candidate.location[1]}
            sources["location"] = _ref(candidate.ref)
        if candidate.url and not doc.get("url"):
            doc["url"] = candidate.url
            sources["url"] = _ref(candidate.ref)

    @staticmethod
    def _take_hours(doc: Json, candidate: Candidate) -> None:
        """The candidate's official weekly hours; a day it could not read stays estimated."""
        if candidate.weekly is None or candidate.hours_ref is None:
            return
        sources: Json = doc["sources"]
        estimated = doc["hours"]["weekly"]
        weekly: Json = {}
        for day, periods in candidate.weekly.items():
            if periods is None:  # unreadable or cut that day: marked estimated
                cut = candidate.cut_days.get(day)
                weekly[day] = estimated[day] if cut is None else [list(p) for p in cut]
                sources[f"hours.{day}"] = ESTIMATED
            else:
                weekly[day] = [list(p) for p in periods]
        doc["hours"] = {
            "weekly": weekly,
            "seasons": [],
            "special": [],
            "public_holidays": doc["hours"]["public_holidays"],
        }
        sources["hours"] = _ref(candidate.hours_ref)
        sources["hours.public_holidays"] = ESTIMATED

    def create(self, candidate: Candidate) -> Json:
        """A new facility from a candidate that matched none (it has a location and address)."""
        assert candidate.location is not None and candidate.street and candidate.postcode
        arrondissement = 16 if candidate.postcode == "75116" else int(candidate.postcode[3:])
        base = slug(candidate.name) or candidate.type.replace("_", "-")
        fid = base
        if fid in self.docs:
            fid = f"{base}-{arrondissement}"
        counter = 2
        while fid in self.docs:
            fid = f"{base}-{arrondissement}-{counter}"
            counter += 1
        ref = _ref(candidate.ref)
        profiled = None if self.profile is None else self.profile(candidate, fid)
        if profiled is not None:
            self.enrich(profiled, candidate)
            profiled["records"] = [ref]
            return profiled
        capacity = typical.CAPACITY[candidate.type]
        sources: Json = {
            "name": ref,
            "address": ref,
            "location": ref,
            "services": ESTIMATED,
            "contacts": ESTIMATED,
        }
        if capacity is not None:
            sources["capacity"] = ESTIMATED
        doc: Json = {
            "id": fid,
            "name": candidate.name,
            "type": candidate.type,
            "address": {
                "street": candidate.street,
                "postcode": candidate.postcode,
                "city": "Paris",
            },
            "arrondissement": arrondissement,
            "location": {"lat": candidate.location[0], "lon": candidate.location[1]},
            "capacity": capacity,
            "hours": typical.estimated_hours(candidate.type),
            "accessibility": [],
            "services": typical.SERVICES[candidate.type],
            "areas": [],
            "contacts": typical.contacts_for(candidate.type, None),
            "procedures": [],
            "url": None,
            "sources": sources,
            "records": [],
        }
        sources["hours"] = ESTIMATED
        self.enrich(doc, candidate)
        doc["records"] = [ref]
        return doc

    def merge(self, candidate: Candidate) -> str:
        """Match or add one candidate; what happened (``matched``, ``added``, or a reason)."""
        found = self.match(candidate)
        if found is not None:
            if any(r == _ref(candidate.ref) for r in found["records"]):
                return "duplicate_row"
            self.enrich(found, candidate)
            return "matched"
        if candidate.location is None:
            return "no_coordinates"
        if candidate.confirm_only:
            return "not_confirmed"
        self.add(self.create(candidate))
        return "added"
