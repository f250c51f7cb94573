"""The directory's rules: which facilities a filter keeps, in what order, the text the page
searches as one types, and where a search that finds no facility leads instead (the procedures
of the catalogue, by the facility types that handle them). The same rules run in
``dashboards/pages/directory.js`` once it loads: it matches words against the ``search`` text and
the procedure ``words`` rendered here, the same way.

Pure: items (FacilityStatus + ``catalogue`` summary, as REST answers them) in, decisions out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from api.pages.equipment import step_free_now
from api.views import OPEN_STATES
from schemas.catalogue import FACILITY_TYPES, TYPE_LABELS, Catalogue, LocalizedText, normalize_text
from schemas.text import ascii_int

__all__ = [
    "ARRONDISSEMENTS",
    "MAX_HINTS",
    "MAX_PAGE",
    "PAGE_SIZE",
    "Filters",
    "ProcedureHint",
    "found_by",
    "hints_for",
    "in_order",
    "procedure_hints",
    "search_text",
    "shows_crowd",
]

ARRONDISSEMENTS = tuple(range(1, 21))
MAX_HINTS = 3
"""At most this many procedures are suggested for one search."""
PAGE_SIZE = 24
"""Facilities per page of the directory ("Afficher plus" adds as many)."""
MAX_PAGE = 60
"""Pages one request may ask for at once (60 × 24 covers the whole catalogue)."""
Item = Mapping[str, Any]

PROCEDURE_SYNONYMS: dict[str, str] = {
    # Words people type for a procedure that its name does not contain (normalised, plural forms
    # included: the search matches word beginnings, so "passeport" finds "passeports" but not
    # the reverse).
    "identity-card": "cni identite identity card id papiers papers",
    "passport": "passeports passports papiers papers",
    "civil-status-certificate": "naissance deces acte birth certificate",
    "marriage-file": "mariage pacs wedding",
    "electoral-registration": "elections vote voter",
    "first-residential-parking": "stationnement vignette parking",
}


@dataclass(frozen=True, slots=True)
class Filters:
    """The directory form's filters (all optional; an unknown type or arrondissement is none)."""

    type: str | None = None
    arrondissement: int | None = None
    q: str = ""
    """The search, normalised (empty without one)."""
    open_now: bool = False
    low_crowd: bool = False
    accessible: bool = False
    wheelchair_now: bool = False
    """« Accessible en fauteuil maintenant »: the live step-free access says yes, and a source
    confirms it (a broken lift on the only step-free route, no live status, or a « yes » resting
    on a typical profile says otherwise: see :func:`~api.pages.equipment.step_free_now`)."""

    @classmethod
    def parse(
        cls,
        *,
        type: str | None,
        arrondissement: str | None,
        q: str | None,
        open_now: bool,
        low_crowd: bool,
        accessible: bool,
        wheelchair_now: bool = False,
    ) -> Filters:
        return cls(
            type=type if type in FACILITY_TYPES else None,
            arrondissement=ascii_int(arrondissement) if arrondissement else None,
            q=normalize_text(q or ""),
            open_now=open_now,
            low_crowd=low_crowd,
            accessible=accessible,
            wheelchair_now=wheelchair_now,
        )

    def matches(self, item: Item) -> bool:
        if self.q and not found_by(search_text(item), self.q):
            return False
        if self.type and item["type"] != self.type:
            return False
        if self.arrondissement and item["arrondissement"] != self.arrondissement:
            return False
        if self.open_now and item["open_state"] not in OPEN_STATES:
            return False
        # "Peu d'affluence" keeps what is known to be quiet now: an open facility whose count
        # says "low" (no count, or closed, is not known to be quiet).
        if self.low_crowd and crowd_level(item) != "low":
            return False
        if self.wheelchair_now and step_free_now(item) != "yes":
            return False
        features = (item.get("catalogue") or {}).get("accessibility") or []
        return not (self.accessible and "wheelchair_accessible" not in features)


def shows_crowd(state: str) -> bool:
    """Crowding is shown only while the facility can be entered: a closed pool is "Fermé", not
    "Peu de monde"."""
    return state in OPEN_STATES


def crowd_level(item: Item) -> str | None:
    """The crowd level a person is shown for this item (None when closed or not counted)."""
    if not shows_crowd(item["open_state"]):
        return None
    level: str | None = (item.get("occupancy") or {}).get("level")
    return level


def in_order(items: Iterable[Item]) -> list[Item]:
    """By arrondissement, then name."""
    return sorted(items, key=lambda i: (i["arrondissement"], i["name"]))


def _arrondissement_forms(n: int) -> str:
    first = "1er 1e premier" if n == 1 else f"{n}e"
    return f"{first} {n}eme {n:02d} paris {n} 750{n:02d}"


def search_text(item: Item) -> str:
    """What the search box looks in (the words :meth:`Catalogue.search` looks in): name, id,
    address, type (both languages) and the arrondissement's written forms, normalised."""
    label = TYPE_LABELS.get(item["type"])
    address = (item.get("catalogue") or {}).get("address") or {}
    return normalize_text(
        f"{item['name']} {item['facility_id']} {address.get('street', '')} "
        f"{address.get('postcode', '')} {address.get('city', '')} {label.fr if label else ''} {label.en if label else ''} "
        f"{_arrondissement_forms(item['arrondissement'])}"
    )


def found_by(text: str, q: str) -> bool:
    """Every word of ``q`` begins a word of ``text`` (normalised) — the search's one rule."""
    words = normalize_text(q).split()
    haystack = f" {text} "
    return bool(words) and all(f" {word}" in haystack for word in words)


@dataclass(frozen=True, slots=True)
class ProcedureHint:
    """A procedure of the catalogue and the facility types that handle it: where a search for it
    leads ("Passeport : Mairie d'arrondissement")."""

    procedure_id: str
    name: LocalizedText
    types: tuple[str, ...]
    words: str


def procedure_hints(catalogue: Catalogue) -> list[ProcedureHint]:
    """Every procedure of the catalogue once, with the types offering it, in catalogue order."""
    names: dict[str, LocalizedText] = {}
    types: dict[str, list[str]] = {}
    for facility in catalogue:
        for procedure in facility.procedures:
            names.setdefault(procedure.procedure_id, procedure.name)
            where = types.setdefault(procedure.procedure_id, [])
            if facility.type not in where:
                where.append(facility.type)
    return [
        ProcedureHint(
            procedure_id=pid,
            name=name,
            types=tuple(t for t in FACILITY_TYPES if t in types[pid]),
            words=normalize_text(
                f"{name.fr} {name.en or ''} {pid} {PROCEDURE_SYNONYMS.get(pid, '')}"
            ),
        )
        for pid, name in names.items()
    ]


def hints_for(hints: Iterable[ProcedureHint], q: str | None) -> list[ProcedureHint]:
    """The procedures a search names (at most :data:`MAX_HINTS`)."""
    if not q or not q.strip():
        return []
    return [h for h in hints if found_by(h.words, q)][:MAX_HINTS]
