"""Read the open datasets of ``schemas/data/sources/`` into facility candidates.

Each reader yields :class:`Candidate` rows (one real site, typed for the catalogue, with only the
values the dataset gives) and records every row it leaves out in the :class:`Report` with a
reason. A bad row never stops a reader. Scope: sites the City owns or runs — the sports census
names the owner and manager (private commercial halls stay out); museums are the City's (Paris
Musées); national, private and associative sites are reported as ``not_city_run``.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from schemas.catalogue import Location, normalize_text
from schemas.hours.french import HoursTextError, complete_periods, parse_day, parse_period
from schemas.provenance import SourceRef

__all__ = ["SOURCES_DIR", "Candidate", "Report", "read_all"]

SOURCES_DIR = Path(__file__).resolve().parent / "sources"
EXPORT_DATE = date(2025, 9, 15)
"""Date of the îlots export: an hours period that ended before it is out of date."""

_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass
class Candidate:
    """One site as a dataset describes it; ``None`` where the dataset says nothing."""

    type: str
    name: str
    ref: SourceRef
    street: str | None = None
    postcode: str | None = None
    location: tuple[float, float] | None = None
    weekly: dict[str, list[tuple[str, str]] | None] | None = None
    """Official periods per weekday; a day whose text could not be read is None."""
    cut_days: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    """Days whose text is cut ("… / 20"): the periods before the cut (the day stays estimated)."""
    hours_ref: SourceRef | None = None
    accessibility: list[str] | None = None
    url: str | None = None
    arrondissement: int | None = None
    confirm_only: bool = False
    """Only enriches a site found elsewhere (an old or incomplete list), never adds one."""


@dataclass
class Report:
    """What the build left out or could not read, by dataset and reason."""

    rows: Counter[tuple[str, str]] = field(default_factory=Counter)
    rejected: list[dict[str, str]] = field(default_factory=list)
    hours_problems: list[dict[str, str]] = field(default_factory=list)
    read: Counter[str] = field(default_factory=Counter)

    def reject(self, dataset: str, record: str, name: str | None, reason: str) -> None:
        """A row left out of the catalogue."""
        self.rows[(dataset, reason)] += 1
        if reason not in {"out_of_scope_type"}:
            self.rejected.append(
                {"dataset": dataset, "record": record, "name": name or "", "reason": reason}
            )

    def hours_problem(self, dataset: str, record: str, name: str, reason: str, text: str) -> None:
        """Hours a row gives that the build did not use (the facility keeps estimated hours)."""
        self.hours_problems.append(
            {"dataset": dataset, "record": record, "name": name, "reason": reason, "text": text}
        )


# ── helpers ───────────────────────────────────────────────────────────────────────────────────

_ACCENTED = {
    "bibliotheque": "Bibliothèque",
    "mediatheque": "Médiathèque",
    "musee": "Musée",
    "cimetiere": "Cimetière",
    "stade": "Stade",
    "etoile": "Étoile",
    "ecole": "École",
    "elementaire": "Élémentaire",
    "college": "Collège",
    "lycee": "Lycée",
    "eglise": "Église",
    "vie": "Vie",
    "associative": "Associative",
    "helene": "Hélène",
    "rene": "René",
    "andre": "André",
    "genevieve": "Geneviève",
    "jerome": "Jérôme",
    "leon": "Léon",
    "emile": "Émile",
    "edouard": "Édouard",
    "theatre": "Théâtre",
}
_SMALL = {"de", "du", "des", "la", "le", "les", "et", "d", "l", "en", "a", "au", "aux", "sur"}
_ACRONYMS = {"tep", "mvac", "ucpa", "qj", "mmp", "bnf"}
_STREET_WORDS = {
    "bd": "boulevard",
    "av": "avenue",
    "pl": "place",
    "imp": "impasse",
    "sq": "square",
    "pas": "passage",
    "r": "rue",
    "qu": "quai",
    "all": "allée",
    "che": "chemin",
    "crs": "cours",
    "fg": "faubourg",
}


def display_name(text: str) -> str:
    """A readable name from an upper-case one: ``"GYMNASE DES VIGNOLES"`` → ``"Gymnase des …"``."""
    text = " ".join(text.split())
    if not text.isupper() and text != text.lower():
        return text
    words = re.split(r"(\s+|-|')", text.lower())
    out: list[str] = []
    for index, word in enumerate(words):
        bare = normalize_text(word)
        if not bare:
            out.append(word)
        elif bare in _ACCENTED:
            out.append(_ACCENTED[bare])
        elif bare in _ACRONYMS:
            out.append(word.upper())
        elif index > 0 and bare in _SMALL:
            out.append(word)
        elif re.fullmatch(r"[ivx]+", bare) and len(bare) <= 4 and index > 0:
            out.append(word.upper())
        else:
            out.append(word[:1].upper() + word[1:])
    return "".join(out)


def in_paris(lat: float, lon: float) -> bool:
    """Whether coordinates fall in the catalogue's Paris box."""
    try:
        Location(lat=lat, lon=lon)
    except ValueError:
        return False
    return True


_POSTCODE = re.compile(r"^750(0[1-9]|1\d|20)$|^75116$")


def street_line(text: str | None) -> str | None:
    """A street line as people write it: ``"58 BD SOULT"`` → ``"58 boulevard Soult"``."""
    if text is None:
        return None
    cleaned = " ".join(text.replace(" ,", ",").split()).strip(" ,-")
    cleaned = re.sub(r"^(\d+(?:\s*(?:bis|ter))?)\s*[-,]\s*", r"\1 ", cleaned, flags=re.IGNORECASE)
    cleaned = re.sub(r"^0+\s+", "", cleaned)  # "0 ROUTE DE LA PYRAMIDE": no number
    if cleaned.isupper() or cleaned.islower():
        words = cleaned.split(" ")
        words = [_STREET_WORDS.get(w.lower(), w) for w in words]
        cleaned = display_name(" ".join(words).upper())
        cleaned = re.sub(
            r"\b(Rue|Avenue|Boulevard|Place|Impasse|Square|Passage|Quai|Allée|Chemin|Cours|"
            r"Faubourg|Route|Villa|Cité|Porte)\b",
            lambda m: m.group(1).lower(),
            cleaned,
        )
        cleaned = cleaned[:1].upper() + cleaned[1:]
    return cleaned if len(cleaned) >= 3 else None


def _arrondissement_postcode(arrondissement: int) -> str:
    return f"750{arrondissement:02d}"


# ── Îlots de fraîcheur — équipements (Ville de Paris, ODbL, Sept. 2025) ──────────────────────

CITY_MUSEUMS = (
    "bourdelle",
    "victor hugo",
    "zadkine",
    "galliera",
    "balzac",
    "catacombes",
    "cognacq jay",
    "petit palais",
    "liberation de paris",
    "cernuschi",
    "art moderne de paris",
    "crypte archeologique",
    "carnavalet",
    "vie romantique",
)
"""The Paris Musées museums (public establishment of the City), matched in normalized names."""

_ILOTS_TYPES = {
    "Piscine": "pool",
    "Bibliothèque": "library",
    "Bains-douches": "bath_house",
    "Musée": "museum",
    "Mairie d'arrondissement": "town_hall",
}
_NOT_CITY = ("aquaboulevard", "pour tous", "nationale de france")


def _ilots_type(row: dict[str, Any]) -> str | None:
    kind = _ILOTS_TYPES.get(row.get("type") or "")
    name = normalize_text(row.get("nom") or "")
    if kind == "town_hall":
        if "vie associative" in name:
            return "community_centre"
        if "paris anim" in name:
            return "leisure_centre"
    return kind


def _ilots_hours(
    row: dict[str, Any], ref: SourceRef, report: Report, kind: str
) -> tuple[
    dict[str, list[tuple[str, str]] | None] | None,
    dict[str, list[tuple[str, str]]],
    SourceRef | None,
]:
    name, record = row.get("nom") or "", ref.record or ""
    texts = [row.get(f"horaires_{day}") for day in _DAYS]
    if all(text is None for text in texts):
        report.hours_problem("ilots-equipements", record, name, "no_hours", "")
        return None, {}, None
    if kind == "town_hall" and not row.get("horaires_periode"):
        # The mairies' rows without a period give the heat-wave "cool room" hours (14h–17h).
        report.hours_problem("ilots-equipements", record, name, "cool_room_hours", str(texts[0]))
        return None, {}, None
    weekly: dict[str, list[tuple[str, str]] | None] = {}
    cut: dict[str, list[tuple[str, str]]] = {}
    for key, text in zip(_WEEK, texts, strict=True):
        try:
            weekly[key] = parse_day(text)
        except HoursTextError as error:
            where = f"{name} ({key})"
            report.hours_problem("ilots-equipements", record, where, error.reason, str(text))
            weekly[key] = None
            if error.reason == "truncated" and text:
                with contextlib.suppress(HoursTextError):
                    cut[key] = complete_periods(text)
    if all(periods is None for periods in weekly.values()):
        return None, {}, None
    period = parse_period(row.get("horaires_periode"))
    valid_from = valid_until = None
    if period is None:
        report.hours_problem(
            "ilots-equipements",
            record,
            name,
            "period_text_unparsed",
            str(row.get("horaires_periode")),
        )
    else:
        valid_from, valid_until = period
        if valid_until is not None and valid_until < EXPORT_DATE:
            report.hours_problem(
                "ilots-equipements", record, name, "period_ended", str(row["horaires_periode"])
            )
            return None, {}, None
    if not any(weekly.values()):
        report.hours_problem(
            "ilots-equipements",
            record,
            name,
            "closed_all_week_for_period",
            str(row.get("horaires_periode")),
        )
        return None, {}, None
    hours_ref = SourceRef(
        dataset=ref.dataset, record=ref.record, valid_from=valid_from, valid_until=valid_until
    )
    return weekly, cut, hours_ref


def read_ilots(report: Report) -> Iterator[Candidate]:
    path = SOURCES_DIR / "ilots-equipements" / "ilots-de-fraicheur-equipements-activites.json"
    for row in json.loads(path.read_text(encoding="utf-8")):
        report.read["ilots-equipements"] += 1
        record = str(row.get("identifiant") or "")
        name = (row.get("nom") or "").strip()
        kind = _ilots_type(row)
        if kind is None:
            report.reject("ilots-equipements", record, name, "out_of_scope_type")
            continue
        normalized = normalize_text(name)
        if not name:
            report.reject("ilots-equipements", record, name, "no_name")
            continue
        if any(word in normalized for word in _NOT_CITY) or (
            kind == "museum" and not any(word in normalized for word in CITY_MUSEUMS)
        ):
            report.reject("ilots-equipements", record, name, "not_city_run")
            continue
        point = row.get("geo_point_2d") or {}
        if "lat" not in point or not in_paris(point["lat"], point["lon"]):
            report.reject("ilots-equipements", record, name, "coordinates_outside_paris")
            continue
        street = street_line(row.get("adresse"))
        postcode = str(row.get("arrondissement") or "")
        if street is None or not _POSTCODE.match(postcode):
            report.reject("ilots-equipements", record, name, "unparsable_address")
            continue
        ref = SourceRef(dataset="ilots-equipements", record=record)
        weekly, cut_days, hours_ref = _ilots_hours(row, ref, report, kind)
        yield Candidate(
            type=kind,
            name=display_name(name),
            ref=ref,
            street=street,
            postcode=postcode,
            location=(round(point["lat"], 6), round(point["lon"], 6)),
            weekly=weekly,
            cut_days=cut_days,
            hours_ref=hours_ref,
        )


# ── Recensement des équipements sportifs (Data ES, Licence Ouverte 2.0, March 2025) ──────────

_PMR = "Accessibilité aux personnes à mobilité réduite"
_SENSORY = "Accessibilité aux personnes en situation de handicap sensoriel"
_ACCESS_FIELDS = {
    "wheelchair_accessible": f"{_PMR} à l'accueil",
    "step_free_entrance": f"{_PMR} aux cheminements",
    "accessible_toilets": f"{_PMR} aux sanitaires",
    "accessible_changing_room": f"{_PMR} aux vestiaires",
    "accessible_showers": f"{_PMR} aux douches",
    "sensory_signage": f"{_SENSORY} - signalétique",
}
"""Catalogue feature ← Data ES per-area field (true on any equipment of the installation)."""


def _sports_type(name: str, families: set[str]) -> str:
    normalized = normalize_text(name)
    if normalized.startswith(("piscine", "bassin ecole")) and "Bassin de natation" in families:
        return "pool"
    if normalized.startswith(("gymnase", "salle")):
        return "gymnasium"
    if normalized.startswith(("centre paris anim", "paris anim")):
        return "leisure_centre"
    if normalized.startswith(("centre sportif", "stade", "espace sportif", "paris jean bouin")):
        return "sports_centre"
    return "sports_ground"


def read_data_es(report: Report) -> Iterator[Candidate]:
    path = SOURCES_DIR / "data-es-sports" / "recensement_des_equipements_sportifs_a_paris.csv"
    text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    installations: dict[str, list[dict[str, str]]] = {}
    for row in csv.DictReader(io.StringIO(text), delimiter=";"):
        installations.setdefault(row["Numéro de l'installation sportive"], []).append(row)
    for record, rows in installations.items():
        report.read["data-es"] += 1
        first = rows[0]
        name = first["Nom de l'installation sportive"].strip()
        if not name:
            report.reject("data-es", record, name, "no_name")
            continue
        if "Commune" not in (first["Type de propriétaire"], first["Type de gestionnaire"]):
            report.reject("data-es", record, name, "not_city_run")
            continue
        if normalize_text(name).startswith(("ecole", "bassin ecole", "college", "lycee")):
            report.reject("data-es", record, name, "school_only")
            continue
        try:
            lat, lon = float(first["Latitude"]), float(first["Longitude"])
        except ValueError:
            report.reject("data-es", record, name, "no_coordinates")
            continue
        if not in_paris(lat, lon):
            report.reject("data-es", record, name, "coordinates_outside_paris")
            continue
        street = street_line(first["Adresse"])
        postcode = first["Code Postal"].strip()
        if street is None or not _POSTCODE.match(postcode):
            report.reject("data-es", record, name, "unparsable_address")
            continue
        families = {row["Famille d'équipement sportif"] for row in rows}
        accessibility = [
            feature
            for feature, column in _ACCESS_FIELDS.items()
            if any(row.get(column) == "true" for row in rows)
        ]
        url = next(
            (
                row["Adresse internet de l'équipement"].strip()
                for row in rows
                if row["Adresse internet de l'équipement"].strip().startswith("https://")
            ),
            None,
        )
        yield Candidate(
            type=_sports_type(name, families),
            name=display_name(name),
            ref=SourceRef(dataset="data-es", record=record),
            street=street,
            postcode=postcode,
            location=(round(lat, 6), round(lon, 6)),
            accessibility=accessibility,
            url=url,
        )


# ── Paris Wi-Fi sites (Ville de Paris, ODbL, Aug. 2022) ───────────────────────────────────────

_WIFI_TYPES = (
    (("maison de la vie associative", "mvac", "maison des associations"), "community_centre"),
    (("bibliotheque", "mediatheque"), "library"),
    (("mairie",), "town_hall"),
    (("musee", "maison de victor hugo", "maison de balzac", "petit palais"), "museum"),
    (("piscine",), "pool"),
    (("gymnase",), "gymnasium"),
    (("centre sportif", "stade"), "sports_centre"),
    (("square", "parc", "jardin"), "park"),
)


def read_wifi(report: Report) -> Iterator[Candidate]:
    path = SOURCES_DIR / "paris-wifi-sites" / "sites-disposant-du-service-paris-wi-fi.json"
    for row in json.loads(path.read_text(encoding="utf-8")):
        report.read["paris-wifi"] += 1
        fields = row.get("fields", {})
        record = str(fields.get("idpw") or row.get("recordid") or "")
        name = (fields.get("nom_site") or "").strip()
        if not name:
            report.reject("paris-wifi", record, name, "no_name")
            continue
        normalized = normalize_text(name)
        kind = next((k for words, k in _WIFI_TYPES if any(w in normalized for w in words)), None)
        if kind is None:
            report.reject("paris-wifi", record, name, "out_of_scope_type")
            continue
        if kind == "museum" and not any(word in normalized for word in CITY_MUSEUMS):
            report.reject("paris-wifi", record, name, "not_city_run")
            continue
        point = fields.get("geo_point_2d") or []
        if len(point) != 2 or not in_paris(point[0], point[1]):
            report.reject("paris-wifi", record, name, "coordinates_outside_paris")
            continue
        street = street_line(fields.get("arc_adresse"))
        postcode = str(fields.get("cp") or "")
        if street is None or not _POSTCODE.match(postcode) or not re.match(r"^\d", street):
            report.reject("paris-wifi", record, name, "unparsable_address")
            continue
        yield Candidate(
            type=kind,
            name=display_name(name),
            ref=SourceRef(dataset="paris-wifi", record=record),
            street=street,
            postcode=postcode,
            location=(round(point[0], 6), round(point[1], 6)),
            # The 2022 list still names the mairies merged into Paris Centre in 2020.
            confirm_only=kind == "town_hall",
        )


# ── Îlots de fraîcheur — espaces verts (Ville de Paris, ODbL, processed copy of 2023) ────────

_GREEN_TYPES = {"Promenades ouvertes": "park", "Cimetières": "cemetery"}
_GREEN_NOT_CITY = {"Jardins d'État", "Jardins grandes institutions", "Jardins privatifs"}


def read_green(report: Report) -> Iterator[Candidate]:
    path = SOURCES_DIR / "green-spaces" / "ilots-de-fraicheur-espaces-verts-frais_processed.csv"
    text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    for row in csv.DictReader(io.StringIO(text)):
        report.read["espaces-verts-frais"] += 1
        record = row.get("index") or ""
        name = (row.get("place") or "").strip()
        category = row.get("location") or ""
        if not name:
            report.reject("espaces-verts-frais", record, name, "no_name")
            continue
        if category in _GREEN_NOT_CITY:
            report.reject("espaces-verts-frais", record, name, "not_city_run")
            continue
        kind = _GREEN_TYPES.get(category)
        if kind is None:
            report.reject("espaces-verts-frais", record, name, "out_of_scope_type")
            continue
        try:
            lat, lon = float(row["lat"]), float(row["long"])
        except (KeyError, ValueError):
            report.reject("espaces-verts-frais", record, name, "no_coordinates")
            continue
        if not in_paris(lat, lon):
            report.reject("espaces-verts-frais", record, name, "coordinates_outside_paris")
            continue
        street = street_line(row.get("adress"))
        try:
            arrondissement = int(float(row.get("arrondissement") or ""))
        except ValueError:
            arrondissement = 0
        if street is None or not 1 <= arrondissement <= 20:
            report.reject("espaces-verts-frais", record, name, "unparsable_address")
            continue
        yield Candidate(
            type=kind,
            name=display_name(name),
            ref=SourceRef(dataset="espaces-verts-frais", record=record),
            street=street,
            postcode=_arrondissement_postcode(arrondissement),
            location=(round(lat, 6), round(lon, 6)),
        )


# ── Équipements de proximité (Ville de Paris, ODbL, ~2012: old, no coordinates) ──────────────

_PROXIMITY_TYPES = {
    "Conservatoire": "conservatory",
    "Centre d'animation": "leisure_centre",
    "Maison des associations": "community_centre",
    "Bain-douche": "bath_house",
    "Bibliothèque": "library",
    "Médiathèque": "library",
    "Gymnase": "gymnasium",
    "Piscine": "pool",
    "Mairie d'arrondissement": "town_hall",
}


def read_proximity(report: Report) -> Iterator[Candidate]:
    """Rows without coordinates: used to confirm a site found elsewhere, never placed alone."""
    path = SOURCES_DIR / "equipements-de-proximite" / "equipements_de_proximite.csv"
    text = path.read_text(encoding="utf-8").lstrip("\ufeff")
    for index, row in enumerate(csv.DictReader(io.StringIO(text), delimiter=";"), start=2):
        report.read["equipements-de-proximite"] += 1
        record = f"line-{index}"
        name = (row.get("Désignation_longue") or "").strip()
        kind = _PROXIMITY_TYPES.get((row.get("Type d'équipement") or "").strip())
        if kind is None:
            report.reject("equipements-de-proximite", record, name, "out_of_scope_type")
            continue
        if not name:
            report.reject("equipements-de-proximite", record, name, "no_name")
            continue
        postcode = (row.get("AP_cp") or "").strip()
        street = street_line(f"{row.get('AP_num') or ''} {row.get('Ap_voie') or ''}")
        yield Candidate(
            type=kind,
            name=display_name(name),
            ref=SourceRef(dataset="equipements-de-proximite", record=record),
            street=street,
            postcode=postcode if _POSTCODE.match(postcode) else None,
            arrondissement=(16 if postcode == "75116" else int(postcode[3:]))
            if _POSTCODE.match(postcode)
            else None,
        )


def read_all(report: Report) -> dict[str, list[Candidate]]:
    """Every dataset's candidates, in merge order (best hours first)."""
    return {
        "ilots-equipements": list(read_ilots(report)),
        "data-es": list(read_data_es(report)),
        "paris-wifi": list(read_wifi(report)),
        "espaces-verts-frais": list(read_green(report)),
        "equipements-de-proximite": list(read_proximity(report)),
    }
