"""What REST answers for a facility: the FacilityStatus shape, extended (never renamed).

An item is the live ``FacilityStatus`` as stored in Redis, plus two fields:

* ``live`` — false when no live status exists yet: the status is then built from the catalogue
  (``open_state: "unknown"``, ``seq: 0``, today's regular hours);
* ``catalogue`` — what the catalogue says about the facility (a summary in lists, the whole entry
  for one facility, with ``demarches``: the démarches done there, ``{id, title}``), null for a
  facility known only from its live status. Both carry
  ``sources`` (field → its source or ``"estimated"``) and ``datasets``: the credit line, title
  and update date of every dataset those sources cite, so a page can say
  « Source : Ville de Paris — opendata.paris.fr (mise à jour 15/09/2025) » without a table of
  its own.

The stored JSON is extended by byte concatenation: the status is never decoded and re-encoded.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import orjson
from pydantic import BaseModel, ConfigDict, Field

from schemas.catalogue import Address, Facility, LocalizedText, Location
from schemas.clock import PARIS
from schemas.hours import periods_on
from schemas.hours.osm import osm_opening_hours
from schemas.parcours import load_parcours
from schemas.provenance import DATASETS, Dataset, HoursConfidence, Provenance, SourceRef
from schemas.status import FacilityStatus, OpenState

__all__ = [
    "CatalogueEntry",
    "CatalogueSummary",
    "DemarcheRef",
    "FacilityDetail",
    "FacilityItem",
    "FacilityPage",
    "NearbyItem",
    "NearbyPage",
    "render_item",
]

OPEN_STATES = frozenset({OpenState.OPEN, OpenState.CLOSING_SOON, OpenState.PARTIALLY_CLOSED})


class CatalogueSummary(BaseModel):
    """The catalogue facts a list shows beside the live status."""

    model_config = ConfigDict(frozen=True)

    address: Address
    location: Location
    capacity: int | None = None
    accessibility: list[str] = []
    url: str | None = None
    hours_confidence: HoursConfidence = "unknown"
    sources: dict[str, Provenance] = {}
    datasets: dict[str, Dataset] = Field(
        default={}, description="every dataset `sources` cites, by id: credit line, title, date"
    )


class DemarcheRef(BaseModel):
    """A démarche done at a facility: its id (page ``/demarches/{id}``) and its title."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="`GET /v1/procedures/{id}`, page `/demarches/{id}`")
    title: LocalizedText


class CatalogueEntry(Facility):
    """A facility's whole catalogue entry, with the datasets its ``sources`` cite and the
    démarches done there."""

    datasets: dict[str, Dataset] = Field(
        default={}, description="every dataset `sources` cites, by id: credit line, title, date"
    )
    demarches: list[DemarcheRef] = Field(
        default=[], description="the démarches (procedures) whose journey goes through here"
    )
    opening_hours_osm: str | None = Field(
        default=None,
        description="the hours as an OpenStreetMap `opening_hours` value (`PH` = public holidays)",
        examples=["Mo-Fr 09:00-17:00; Sa 09:00-12:00; PH off"],
    )


class FacilityItem(FacilityStatus):
    """A facility in a list: its FacilityStatus, ``live``, and a catalogue summary."""

    live: bool = Field(description="false when no live status exists yet (state unknown)")
    catalogue: CatalogueSummary | None = None


class NearbyItem(FacilityItem):
    """A facility suggested instead of a closed one, with its straight-line distance."""

    distance_m: int = Field(ge=0, description="distance à vol d'oiseau / straight line, metres")


class NearbyPage(BaseModel):
    """``{"items": [...], "next": null}``: the nearest open facilities of the same type."""

    items: list[NearbyItem]
    next: None = None


class FacilityDetail(FacilityStatus):
    """One facility: its FacilityStatus, ``live``, and its whole catalogue entry."""

    live: bool = Field(description="false when no live status exists yet (state unknown)")
    catalogue: CatalogueEntry | None = None


class FacilityPage(BaseModel):
    """``{"items": [...], "next": <cursor or null>}``."""

    items: list[FacilityItem]
    next: str | None = Field(description="pass as `cursor` for the next page; null at the end")


def datasets_of(facility: Facility) -> dict[str, Any]:
    """The datasets the facility's sources cite, by id, as JSON (credit, title, update date)."""
    cited = sorted(
        {s.dataset for s in facility.sources.values() if isinstance(s, SourceRef)} & DATASETS.keys()
    )
    return {dataset: DATASETS[dataset].model_dump(mode="json") for dataset in cited}


def summary_of(facility: Facility, today: date | None = None) -> dict[str, Any]:
    return {
        "address": facility.address.model_dump(mode="json"),
        "location": facility.location.model_dump(mode="json"),
        "capacity": facility.capacity,
        "accessibility": list(facility.accessibility),
        "url": facility.url,
        "hours_confidence": facility.hours_confidence_on(today)
        if today
        else facility.hours_confidence,
        "sources": {
            field: source if isinstance(source, str) else source.model_dump(mode="json")
            for field, source in facility.sources.items()
        },
        "datasets": datasets_of(facility),
    }


def demarches_at(facility: Facility) -> list[dict[str, Any]]:
    """The démarches whose ``facility_ids`` name this facility, as ``{id, title}`` (data order)."""
    return [
        {"id": p.parcours_id, "title": p.title.model_dump(mode="json")}
        for p in load_parcours()
        if facility.id in p.facility_ids
    ]


def placeholder_status(facility: Facility, now: datetime) -> bytes:
    """The status of a facility the streams have not reported on yet (state unknown)."""
    today = now.astimezone(PARIS).date()
    today_hours = [
        {"opens": opens, "closes": closes}
        for opens, closes in (p.as_hhmm() for p in periods_on(facility.hours, today))
    ]
    midnight = datetime(today.year, today.month, today.day, tzinfo=PARIS)
    status = FacilityStatus.model_validate(
        {
            "facility_id": facility.id,
            "name": facility.name,
            "type": facility.type,
            "arrondissement": facility.arrondissement,
            "seq": 0,
            "updated_at": midnight,
            "open_state": OpenState.UNKNOWN,
            "today_hours": today_hours,
            "stale": True,
            "hours_confidence": facility.hours_confidence_on(today),
        }
    )
    return status.to_json()


def render_item(
    raw: bytes | None, facility: Facility | None, *, full: bool, now: datetime
) -> bytes:
    """The JSON of one item: live (or placeholder) status + ``live`` + ``catalogue``."""
    if raw is None:
        assert facility is not None
        raw, live = placeholder_status(facility, now), b"false"
    else:
        live = b"true"
    if facility is None:
        extra = b"null"
    elif full:
        entry = facility.model_dump(mode="json", by_alias=True)
        extra = orjson.dumps(
            {
                **entry,
                "datasets": datasets_of(facility),
                "demarches": demarches_at(facility),
                "opening_hours_osm": osm_opening_hours(facility.hours),
            }
        )
    else:
        extra = orjson.dumps(summary_of(facility, now.astimezone(PARIS).date()))
    body = raw.rstrip()
    if body[-1:] != b"}":
        raise ValueError("a stored status is not a JSON object")
    sep = b"," if body[:-1].rstrip()[-1:] != b"{" else b""
    return body[:-1] + sep + b'"live":' + live + b',"catalogue":' + extra + b"}"


def routing_fields(item: bytes) -> dict[str, Any]:
    """The fields list filters look at (type, arrondissement, open_state)."""
    doc = orjson.loads(item)
    return {k: doc.get(k) for k in ("type", "arrondissement", "open_state", "closures")}
