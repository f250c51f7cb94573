"""The directory's rules: which facilities a filter keeps, in what order, and the text the page
searches as one types (the same rules run in ``dashboards/pages/directory.js`` once it loads).

Pure: items (FacilityStatus + ``catalogue`` summary, as REST answers them) in, decisions out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.views import OPEN_STATES
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Catalogue, normalize_text

__all__ = ["ARRONDISSEMENTS", "Filters", "in_order", "search_text"]

ARRONDISSEMENTS = tuple(range(1, 21))
Item = Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class Filters:
    """The directory form's filters (all optional; an unknown type or arrondissement is none)."""

    type: str | None = None
    arrondissement: int | None = None
    found: frozenset[str] | None = None
    """The facilities a search found (None without a search)."""
    open_now: bool = False
    low_crowd: bool = False
    accessible: bool = False

    @classmethod
    def parse(
        cls,
        catalogue: Catalogue,
        *,
        type: str | None,
        arrondissement: str | None,
        q: str | None,
        open_now: bool,
        low_crowd: bool,
        accessible: bool,
    ) -> Filters:
        return cls(
            type=type if type in FACILITY_TYPES else None,
            arrondissement=int(arrondissement)
            if arrondissement and arrondissement.isdigit()
            else None,
            found=frozenset(f.id for f in catalogue.search(q)) if q else None,
            open_now=open_now,
            low_crowd=low_crowd,
            accessible=accessible,
        )

    def matches(self, item: Item) -> bool:
        if self.found is not None and item["facility_id"] not in self.found:
            return False
        if self.type and item["type"] != self.type:
            return False
        if self.arrondissement and item["arrondissement"] != self.arrondissement:
            return False
        if self.open_now and item["open_state"] not in OPEN_STATES:
            return False
        occupancy = item.get("occupancy") or {}
        if self.low_crowd and occupancy.get("level") not in {"low", None}:
            return False
        features = (item.get("catalogue") or {}).get("accessibility") or []
        return not (self.accessible and "wheelchair_accessible" not in features)


def in_order(items: Iterable[Item]) -> list[Item]:
    """By arrondissement, then name."""
    return sorted(items, key=lambda i: (i["arrondissement"], i["name"]))


def search_text(item: Item) -> str:
    """What the search box looks in: name, street, type (both languages) and id, normalised."""
    label = TYPE_LABELS.get(item["type"])
    address = ((item.get("catalogue") or {}).get("address") or {}).get("street", "")
    return normalize_text(
        f"{item['name']} {address} {label.fr if label else ''} "
        f"{label.en if label else ''} {item['facility_id']}"
    )
