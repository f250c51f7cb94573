"""Only sourced values are published: JSON-LD and the REST item's catalogue summary."""

from __future__ import annotations

from datetime import UTC, datetime

from api.jsonld import facility_jsonld
from api.views import summary_of
from schemas.catalogue import WEEKDAYS, load_catalogue
from schemas.provenance import SourceRef

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def _sourced(source: object) -> bool:
    return isinstance(source, SourceRef)


def test_jsonld_of_every_facility_publishes_only_sourced_values() -> None:
    """No estimated hours, capacity, accessibility, location or phone reaches search engines."""
    for facility in load_catalogue():
        document = facility_jsonld(facility, None, base_url="https://paris.live", now=NOW)
        sources = facility.sources
        if document["openingHoursSpecification"]:
            assert facility.hours_confidence in {"official", "estimated"}, facility.id
            assert _sourced(sources["hours"]), facility.id
            estimated_days = {d for d in WEEKDAYS if sources.get(f"hours.{d}")}
            published = {
                s["dayOfWeek"].rsplit("/", 1)[1][:3].lower()
                for s in document["openingHoursSpecification"]
            }
            assert not estimated_days & published, facility.id
        if "maximumAttendeeCapacity" in document:
            assert _sourced(sources["capacity"]), facility.id
        if "amenityFeature" in document:
            assert _sourced(sources["accessibility"]), facility.id
        if "geo" in document:
            assert _sourced(sources["location"]), facility.id
        if "telephone" in document:
            assert _sourced(sources["contacts"]), facility.id
        assert document["isBasedOn"], facility.id
        assert all(d["publisher"] for d in document["isBasedOn"])


def test_pontoise_jsonld_has_the_citys_monday_hours_and_credits_the_city() -> None:
    """Piscine Pontoise publishes the City's Monday periods, valid for the source's period."""
    pool = load_catalogue().get("piscine-pontoise")
    document = facility_jsonld(pool, None, base_url="https://paris.live", now=NOW)
    monday = [
        (s["opens"], s["closes"], s["validFrom"], s["validThrough"])
        for s in document["openingHoursSpecification"]
        if s["dayOfWeek"].endswith("Monday")
    ]
    assert monday == [
        ("06:30", "07:45", "2025-09-01", "2026-07-05"),
        ("11:45", "19:45", "2025-09-01", "2026-07-05"),
        ("20:00", "22:45", "2025-09-01", "2026-07-05"),
    ]
    assert not [s for s in document["openingHoursSpecification"] if "Tuesday" in s["dayOfWeek"]]
    assert "maximumAttendeeCapacity" not in document
    publishers = {d["publisher"] for d in document["isBasedOn"]}
    assert "Ville de Paris — opendata.paris.fr" in publishers
    assert "Ministère des Sports — Data ES" in publishers


def test_estimated_hours_are_not_published() -> None:
    """A facility whose hours are estimated publishes no openingHoursSpecification."""
    pool = load_catalogue().get("piscine-marjorie-gestring")
    assert pool.hours_confidence == "estimated"
    document = facility_jsonld(pool, None, base_url="https://paris.live", now=NOW)
    assert document["openingHoursSpecification"] == []


def test_rest_summary_of_every_facility_names_the_sources_of_what_it_shows() -> None:
    """The REST item's catalogue summary carries hours_confidence and a source per shown value."""
    for facility in load_catalogue():
        summary = summary_of(facility)
        assert summary["hours_confidence"] == facility.hours_confidence
        shown = ["address", "location"]
        if summary["capacity"] is not None:
            shown.append("capacity")
        if summary["accessibility"]:
            shown.append("accessibility")
        if summary["url"]:
            shown.append("url")
        for field in shown:
            source = summary["sources"][field]
            assert source == "estimated" or source["dataset"], (facility.id, field)
