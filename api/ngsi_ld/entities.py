"""Facilities as NGSI-LD entities of the Smart Data Models, pure: catalogue entry and live status
in, normalized entity out; and the key-values (simplified) form of any entity.

Ids are URNs, ``urn:ngsi-ld:PointOfInterest:piscine-pontoise``. Values keep their provenance
(the charter: a value shown is sourced or marked estimated) as an NGSI-LD sub-property
``provenance`` (the dataset id, or ``estimated``), which the key-values form drops as NGSI-LD does.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from schemas.catalogue import Facility
from schemas.provenance import SourceRef

__all__ = [
    "CROWD",
    "DATA_PROVIDER",
    "ENTITY_TYPES",
    "POI",
    "crowd_flow",
    "entity_id",
    "facility_of",
    "key_values",
    "point_of_interest",
]

POI: Final = "PointOfInterest"
CROWD: Final = "CrowdFlowObserved"
ENTITY_TYPES: Final = {
    POI: "https://smartdatamodels.org/dataModel.PointOfInterest/PointOfInterest",
    CROWD: "https://smartdatamodels.org/dataModel.Transportation/CrowdFlowObserved",
}
"""Each type's short name → its IRI (what the @context maps it to)."""
DATA_PROVIDER: Final = "Ville de Paris — Paris Live"
CONGESTED_LEVELS: Final = frozenset({"high", "full"})
_PREFIX: Final = "urn:ngsi-ld:"


def entity_id(entity_type: str, facility_id: str) -> str:
    """``urn:ngsi-ld:PointOfInterest:piscine-pontoise``."""
    return f"{_PREFIX}{entity_type}:{facility_id}"


def facility_of(entity: str) -> tuple[str, str] | None:
    """(type, facility id) of one of our entity ids; None for any other id."""
    if not entity.startswith(_PREFIX):
        return None
    kind, _, facility_id = entity[len(_PREFIX) :].partition(":")
    if kind not in ENTITY_TYPES or not facility_id:
        return None
    return kind, facility_id


def _property(value: Any, **sub: Any) -> dict[str, Any]:
    prop: dict[str, Any] = {"type": "Property", "value": value}
    prop.update(
        {name: {"type": "Property", "value": v} for name, v in sub.items() if v is not None}
    )
    return prop


def _provenance(facility: Facility, field: str) -> str | None:
    source = facility.sources.get(field)
    if source is None:
        return None
    return source.dataset if isinstance(source, SourceRef) else str(source)


def _location(facility: Facility) -> dict[str, Any]:
    location: dict[str, Any] = {
        "type": "GeoProperty",
        "value": {"type": "Point", "coordinates": [facility.location.lon, facility.location.lat]},
    }
    provenance = _provenance(facility, "location")
    if provenance is not None:
        location["provenance"] = {"type": "Property", "value": provenance}
    return location


def point_of_interest(
    facility: Facility, status: Mapping[str, Any] | None, *, base_url: str
) -> dict[str, Any]:
    """The facility as a ``PointOfInterest`` (normalized), with its live ``openState``."""
    base = base_url.rstrip("/")
    entity: dict[str, Any] = {
        "id": entity_id(POI, facility.id),
        "type": POI,
        "name": _property(facility.name),
        "category": _property([facility.type]),
        "address": _property(
            {
                "streetAddress": facility.address.street,
                "postalCode": facility.address.postcode,
                "addressLocality": "Paris",
                "addressRegion": "Île-de-France",
                "addressCountry": "FR",
                "district": str(facility.arrondissement),
            },
            provenance=_provenance(facility, "address"),
        ),
        "location": _location(facility),
        "source": _property(f"{base}/v1/facilities/{facility.id}"),
        "dataProvider": _property(DATA_PROVIDER),
    }
    if facility.capacity is not None:
        entity["capacity"] = _property(
            facility.capacity, provenance=_provenance(facility, "capacity") or "estimated"
        )
    if facility.url is not None:
        entity["seeAlso"] = _property([facility.url], provenance=_provenance(facility, "url"))
    state = "unknown" if status is None else str(status.get("open_state", "unknown"))
    entity["openState"] = _property(state)
    if status is not None and status.get("updated_at"):
        entity["openState"]["observedAt"] = status["updated_at"]
    return entity


def crowd_flow(
    facility: Facility, status: Mapping[str, Any] | None, *, base_url: str
) -> dict[str, Any] | None:
    """The live crowd as a ``CrowdFlowObserved`` (normalized); None without an occupancy."""
    occupancy = None if status is None else status.get("occupancy")
    if not occupancy:
        return None
    base = base_url.rstrip("/")
    measured = str(occupancy["measured_at"])
    entity: dict[str, Any] = {
        "id": entity_id(CROWD, facility.id),
        "type": CROWD,
        "name": _property(facility.name),
        "dateObserved": _property(measured),
        "peopleCount": {
            **_property(int(occupancy["count"]), provenance=str(occupancy.get("source", ""))),
            "observedAt": measured,
        },
        "location": _location(facility),
        "refPointOfInterest": {"type": "Relationship", "object": entity_id(POI, facility.id)},
        "source": _property(f"{base}/v1/facilities/{facility.id}"),
        "dataProvider": _property(DATA_PROVIDER),
    }
    level = occupancy.get("level")
    if level is not None:
        entity["congested"] = _property(level in CONGESTED_LEVELS)
        entity["occupancyLevel"] = _property(str(level))
    return entity


def key_values(entity: Mapping[str, Any]) -> dict[str, Any]:
    """The simplified (key-values) form: each attribute's value or object, sub-properties
    dropped."""
    simple: dict[str, Any] = {}
    for name, attribute in entity.items():
        if name in ("id", "type", "@context") or not isinstance(attribute, Mapping):
            simple[name] = attribute
        elif attribute.get("type") == "Relationship":
            simple[name] = attribute["object"]
        else:
            simple[name] = attribute["value"]
    return simple
