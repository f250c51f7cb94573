"""schema.org JSON-LD for one facility (``Accept: application/ld+json``).

Regular hours become ``openingHoursSpecification`` (seasons with ``validFrom``/``validThrough`` for
the current year); special days and exceptional closures become ``specialOpeningHoursSpecification``
— a closed period is written ``opens``/``closes`` ``00:00`` as schema.org recommends.

Accessibility is published with its live value (``amenityFeature``): a step-free feature is
``false`` while the live status says step-free access is ``no`` (a broken lift on the only
step-free route), and each equipment someone reported on is listed with its state now.

Only sourced values are published: estimated hours, capacity, accessibility, location or phone
(``"estimated"`` in the facility's ``sources``) are left out, and ``isBasedOn`` names the
datasets the facility was read from (credits: Ville de Paris — opendata.paris.fr, Ministère des
Sports — Data ES; the catalogue is published under ODbL).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.hours import WEEKDAYS, WeeklyHours
from schemas.provenance import DATASETS, SourceRef

__all__ = ["SCHEMA_TYPES", "facility_jsonld"]

SCHEMA_TYPES = {
    "pool": "PublicSwimmingPool",
    "town_hall": "CityHall",
    "library": "Library",
    "conservatory": "CivicStructure",
    "sports_centre": "SportsActivityLocation",
    "leisure_centre": "CivicStructure",
    "social_services": "GovernmentOffice",
    "legal_advice": "LegalService",
    "museum": "Museum",
    "bath_house": "PublicToilet",
    "gymnasium": "SportsActivityLocation",
    "sports_ground": "SportsActivityLocation",
    "park": "Park",
    "cemetery": "Cemetery",
    "community_centre": "CivicStructure",
}
_DAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
        strict=True,
    )
)


def _sourced(facility: Facility, field: str) -> bool:
    return isinstance(facility.sources.get(field), SourceRef)


def _weekly(
    weekly: WeeklyHours, skip: frozenset[str] = frozenset(), **validity: str
) -> list[dict[str, Any]]:
    specs: list[dict[str, Any]] = []
    for key in WEEKDAYS:
        if key in skip:
            continue
        for opens, closes in getattr(weekly, key):
            specs.append(
                {
                    "@type": "OpeningHoursSpecification",
                    "dayOfWeek": f"https://schema.org/{_DAY_NAMES[key]}",
                    "opens": opens,
                    "closes": "23:59" if closes == "24:00" else closes,
                    **validity,
                }
            )
    return specs


def _season_bounds(from_: str, to: str, year: int) -> tuple[str, str]:
    start = date.fromisoformat(f"{year}-{from_}")
    end_year = year if from_ <= to else year + 1
    end = date.fromisoformat(f"{end_year}-{to}")
    return start.isoformat(), end.isoformat()


_STEP_FREE = frozenset({"wheelchair_accessible", "step_free_entrance"})


def _live_equipment(live: dict[str, Any]) -> list[dict[str, Any]]:
    """Each equipment someone reported on (an agent, a lift controller): its live value, from
    when, and the words (French) of an outage. Never-reported equipment is the catalogue's
    presumption, not a fact: left out."""
    out: list[dict[str, Any]] = []
    for item in live.get("equipment") or []:
        if not item.get("since"):
            continue
        feature: dict[str, Any] = {
            "@type": "LocationFeatureSpecification",
            "name": item["kind"],
            "identifier": item["equipment_id"],
            "value": item.get("status") != "out_of_service",
            "validFrom": item["since"],
        }
        if item.get("status") != "in_service" and item.get("message"):
            feature["description"] = item["message"]["fr"]
        if item.get("status") != "in_service" and item.get("expected_back_at"):
            feature["validThrough"] = item["expected_back_at"]
        out.append(feature)
    return out


def facility_jsonld(
    facility: Facility, status: dict[str, Any] | None, *, base_url: str, now: datetime
) -> dict[str, Any]:
    """The facility as a schema.org place, with its hours and closures."""
    year = now.astimezone(PARIS).year
    hours: list[dict[str, Any]] = []
    special: list[dict[str, Any]] = []
    hours_source = facility.sources.get("hours")
    official = facility.hours if isinstance(hours_source, SourceRef) else None
    if official is not None and isinstance(hours_source, SourceRef):
        skip = frozenset(d for d in WEEKDAYS if facility.sources.get(f"hours.{d}") == "estimated")
        validity: dict[str, str] = {}
        if hours_source.valid_from is not None:
            validity["validFrom"] = hours_source.valid_from.isoformat()
        if hours_source.valid_until is not None:
            validity["validThrough"] = hours_source.valid_until.isoformat()
        hours = _weekly(official.weekly, skip, **validity)
        for season in official.seasons:
            valid_from, valid_through = _season_bounds(season.from_, season.to, year)
            hours += _weekly(season.weekly, validFrom=valid_from, validThrough=valid_through)
    for day in official.special if official is not None else []:
        base: dict[str, Any] = {
            "@type": "OpeningHoursSpecification",
            "validFrom": day.date.isoformat(),
            "validThrough": day.date.isoformat(),
        }
        if day.label is not None:
            base["description"] = day.label.fr
        if not day.periods:
            special.append({**base, "opens": "00:00", "closes": "00:00"})
        for opens, closes in day.periods:
            special.append({**base, "opens": opens, "closes": closes})
    for closure in (status or {}).get("closures") or []:
        starts = datetime.fromisoformat(closure["starts_at"]).astimezone(PARIS)
        reopening = closure.get("expected_reopening_at")
        ends = datetime.fromisoformat(reopening).astimezone(PARIS) if reopening else None
        spec: dict[str, Any] = {
            "@type": "OpeningHoursSpecification",
            "validFrom": starts.isoformat(),
            "opens": "00:00",
            "closes": "00:00",
            "description": closure["message"]["fr"],
        }
        if ends is not None:
            spec["validThrough"] = ends.isoformat()
        special.append(spec)
    document: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(facility.type, "CivicStructure"),
        "@id": f"{base_url.rstrip('/')}/v1/facilities/{facility.id}",
        "identifier": facility.id,
        "name": facility.name,
        "address": {
            "@type": "PostalAddress",
            "streetAddress": facility.address.street,
            "postalCode": facility.address.postcode,
            "addressLocality": facility.address.city,
            "addressCountry": "FR",
        },
        "publicAccess": True,
        "openingHoursSpecification": hours,
        "specialOpeningHoursSpecification": special,
    }
    if _sourced(facility, "location"):
        document["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": facility.location.lat,
            "longitude": facility.location.lon,
        }
    if facility.url and _sourced(facility, "url"):
        document["url"] = facility.url
    phones = [c.phone for c in facility.contacts_for("information") if c.phone]
    if phones and _sourced(facility, "contacts"):
        document["telephone"] = phones[0]
    if facility.capacity and _sourced(facility, "capacity"):
        document["maximumAttendeeCapacity"] = facility.capacity
    live = (status or {}).get("accessibility") or {}
    step_free = live.get("step_free_access")
    features: list[dict[str, Any]] = []
    if facility.accessibility and _sourced(facility, "accessibility"):
        features = [
            {
                "@type": "LocationFeatureSpecification",
                "name": feature,
                # the live value: a broken lift on the only step-free route makes it false now
                "value": not (feature in _STEP_FREE and step_free == "no"),
            }
            for feature in facility.accessibility
        ]
    features += _live_equipment(live)
    if features:
        document["amenityFeature"] = features
    datasets = sorted({record.dataset for record in facility.records})
    document["isBasedOn"] = [
        {
            "@type": "Dataset",
            "name": DATASETS[dataset].title,
            "url": DATASETS[dataset].url,
            "publisher": DATASETS[dataset].publisher,
            "dateModified": DATASETS[dataset].updated.isoformat(),
        }
        for dataset in datasets
    ]
    return document
