"""The catalogue built from Paris open data: scope, merge, provenance and the build report."""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

from schemas.catalogue import load_catalogue
from schemas.data.merge import similarity
from schemas.data.opendata import Report, display_name, read_data_es, read_ilots
from schemas.provenance import DATASETS, SourceRef

DISPLAYED = ("name", "address", "location", "hours", "services", "contacts")


def _report() -> dict[str, Any]:
    text = resources.files("schemas").joinpath("data", "build_report.json").read_text("utf-8")
    document: dict[str, Any] = json.loads(text)
    return document


def test_every_displayed_value_has_a_source_or_is_estimated() -> None:
    """Name, address, location, hours, services, contacts, and any capacity, accessibility,
    areas, url or délai of every facility name a dataset or say estimated."""
    for facility in load_catalogue():
        fields = list(DISPLAYED)
        if facility.capacity is not None:
            fields.append("capacity")
        if facility.accessibility:
            fields.append("accessibility")
        if facility.areas:
            fields.append("areas")
        if facility.url:
            fields.append("url")
        fields += [f"procedures.{p.procedure_id}" for p in facility.procedures if p.committed_days]
        for field in fields:
            source = facility.sources.get(field)
            assert source == "estimated" or isinstance(source, SourceRef), (facility.id, field)
        assert facility.records, facility.id


def test_existing_ids_are_kept() -> None:
    """The 197 hand-checked facilities keep their ids, now enriched by the open datasets."""
    catalogue = load_catalogue()
    curated = [f for f in catalogue if any(r.dataset == "paris-live-sites" for r in f.records)]
    assert len(curated) == 197
    pontoise = catalogue.get("piscine-pontoise")
    assert {r.dataset for r in pontoise.records} >= {"ilots-equipements", "data-es"}


def test_real_hours_for_every_pool_library_and_museum_the_sources_cover() -> None:
    """A pool, library or museum with an îlots row has that row's hours, or the report says why
    they were not used."""
    not_used = {row["record"] for row in _report()["hours_not_used"]}
    checked = 0
    for facility in load_catalogue():
        if facility.type not in {"pool", "library", "museum"}:
            continue
        for record in facility.records:
            if record.dataset != "ilots-equipements":
                continue
            checked += 1
            source = facility.sources["hours"]
            if record.record in not_used and facility.hours_confidence != "official":
                continue
            assert isinstance(source, SourceRef), facility.id
            assert source.dataset == "ilots-equipements", facility.id
    assert checked >= 50


def test_official_hours_come_from_a_dated_dataset() -> None:
    """Every facility whose hours are official cites a dated open dataset."""
    official = [f for f in load_catalogue() if f.hours_confidence == "official"]
    assert len(official) >= 60
    for facility in official:
        source = facility.sources["hours"]
        assert isinstance(source, SourceRef)
        assert DATASETS[source.dataset].updated.year >= 2025


def test_only_city_run_sports_sites_are_in() -> None:
    """The sports census's private commercial halls are left out; City-run sites are in."""
    report = Report()
    candidates = list(read_data_es(report))
    assert report.rows[("data-es", "not_city_run")] > 400
    assert len(candidates) > 400
    assert "centre-sportif-elisabeth" in load_catalogue()


def test_city_museums_only() -> None:
    """Museums are the City's (Paris Musées): the Louvre and private museums are left out."""
    report = Report()
    museums = [c.name for c in read_ilots(report) if c.type == "museum"]
    assert "Musée Bourdelle" in museums
    assert not [name for name in museums if "Louvre" in name or "Grévin" in name]


def test_build_report_counts_rows_by_reason() -> None:
    """The report counts the rows left out and the hours not used, by dataset and reason."""
    report = _report()
    assert report["facilities"] == len(load_catalogue())
    left_out = report["rows_left_out_by_reason"]
    assert left_out["data-es"]["not_city_run"] > 0
    assert left_out["equipements-de-proximite"]["no_coordinates"] > 0
    assert report["hours_not_used_by_reason"]["truncated"] >= 1
    assert report["hours_not_used_by_reason"]["cool_room_hours"] >= 10
    assert "equipements-de-proximite" in report["old_sources"]
    for dataset, counts in left_out.items():
        assert dataset in DATASETS
        listed = Counter(
            row["reason"] for row in report["rows_left_out"] if row["dataset"] == dataset
        )
        for reason, count in counts.items():
            if reason != "out_of_scope_type":
                assert listed[reason] == count, (dataset, reason)
    assert report["source_files"][
        "ilots-equipements/ilots-de-fraicheur-equipements-activites.json"
    ]["sha256"].startswith("9113afc892b1")


def test_no_duplicate_sites_of_one_type_at_one_place() -> None:
    """Two facilities of one type within 30 m never share a significant name."""
    facilities = list(load_catalogue())
    by_type: dict[str, list[Any]] = {}
    for facility in facilities:
        by_type.setdefault(facility.type, []).append(facility)
    for group in by_type.values():
        for index, first in enumerate(group):
            for second in group[index + 1 :]:
                near = (
                    abs(first.location.lat - second.location.lat) < 0.0003
                    and abs(first.location.lon - second.location.lon) < 0.0004
                )
                if near:
                    assert similarity(first.name, second.name) < 0.5, (first.id, second.id)


def test_upper_case_names_are_made_readable() -> None:
    """Datasets' upper-case names read as names, accents restored on the common words."""
    assert display_name("GYMNASE DES VIGNOLES") == "Gymnase des Vignoles"
    assert display_name("BIBLIOTHEQUE CRIMEE") == "Bibliothèque Crimee"
    assert display_name("TEP ARCHEREAU") == "TEP Archereau"
    assert display_name("Piscine Pontoise") == "Piscine Pontoise"


def test_street_lines_are_written_out() -> None:
    """Abbreviated upper-case street lines read as addresses; a house number 0 is dropped."""
    from schemas.data.opendata import street_line

    assert street_line("58 BD SOULT") == "58 boulevard Soult"
    assert street_line("0 ROUTE DE LA PYRAMIDE") == "Route de la Pyramide"
    assert street_line("19 rue de pontoise") == "19 rue de Pontoise"
    assert street_line("2- rue du Commandant-Schloesing") == "2 rue du Commandant-Schloesing"
