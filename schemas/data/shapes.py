"""Small builders of the facility JSON shape (labels, hours, services, contacts).

Used by ``profiles.py``; each returns plain JSON-ready dicts in the exact shape that
``schemas.catalogue.Facility`` validates.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas.data.sites import Site

Json = dict[str, Any]

WEEK = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
PARIS_URL = "https://www.paris.fr"
CITY_PHONE = "3975"


def text(fr: str, en: str) -> Json:
    """A French-first label."""
    return {"fr": fr, "en": en}


def periods(*spans: str) -> list[list[str]]:
    """``"07:00-08:30"`` → ``[["07:00", "08:30"]]``."""
    return [span.split("-") for span in spans]


def week(default: Sequence[str] = (), **days: Sequence[str]) -> Json:
    """Weekly hours: ``default`` spans for every day not given (``sun=()`` closes Sunday)."""
    return {day: periods(*days.get(day, default)) for day in WEEK}


def service(
    service_id: str,
    name: Json,
    *,
    bookable: bool = False,
    queue: bool = False,
    procedures: Sequence[str] = (),
) -> Json:
    return {
        "service_id": service_id,
        "name": name,
        "bookable": bookable,
        "queue": queue,
        "procedures": list(procedures),
    }


def procedure(
    procedure_id: str, name: Json, committed_days: int | None = None, *, illustrative: bool
) -> Json:
    return {
        "procedure_id": procedure_id,
        "name": name,
        "committed_days": committed_days,
        "illustrative": illustrative,
    }


def contact(
    need: str,
    name: Json,
    level: str,
    *,
    phone: str | None = None,
    email: str | None = None,
    url: str | None = None,
) -> Json:
    return {
        "need": need,
        "service_name": name,
        "level": level,
        "phone": phone,
        "email": email,
        "url": url,
    }


COMPLAINT = contact(
    "complaint",
    text("Relations usagers de la Ville de Paris", "Ville de Paris user relations"),
    "central",
    phone=CITY_PHONE,
    url=PARIS_URL,
)

EVE_LABEL = text("Veille de fête : fermeture anticipée", "Holiday eve: closes early")


def eves(*spans: str) -> list[Json]:
    """Christmas and New Year's eves 2026 with the given (shortened) periods."""
    return [
        {"date": day, "periods": periods(*spans), "label": EVE_LABEL}
        for day in ("2026-12-24", "2026-12-31")
    ]


def season(name: str, label: Json, start: str, end: str, weekly: Json) -> Json:
    return {"name": name, "label": label, "from": start, "to": end, "weekly": weekly}


SUMMER = text("Horaires d'été", "Summer hours")


def facility(
    site: Site,
    facility_type: str,
    *,
    capacity: int | None,
    hours: Json,
    accessibility: Sequence[str],
    services: Sequence[Json],
    areas: Sequence[str],
    contacts: Sequence[Json],
    procedures: Sequence[Json] = (),
    url: str | None,
    illustrative: Sequence[str],
) -> Json:
    postcode = site.postcode
    flagged = list(illustrative)
    if site.approx:
        flagged.append("location")
    return {
        "id": site.id,
        "name": site.name,
        "type": facility_type,
        "address": {"street": site.street, "postcode": postcode, "city": "Paris"},
        "arrondissement": 16 if postcode == "75116" else int(postcode[3:]),
        "location": {"lat": site.lat, "lon": site.lon},
        "capacity": capacity,
        "hours": hours,
        "accessibility": list(accessibility),
        "services": list(services),
        "areas": list(areas),
        "contacts": list(contacts),
        "procedures": list(procedures),
        "url": url,
        "illustrative": sorted(flagged),
    }
