"""Typical services, contacts, capacity and hours of the types the open datasets added.

Everything here is a typical figure of the type, never a fact about one site: the build marks the
fields it fills from here ``"estimated"`` in the facility's ``sources``.
"""

from __future__ import annotations

from schemas.data.shapes import (
    CITY_PHONE,
    COMPLAINT,
    PARIS_URL,
    Json,
    contact,
    service,
    text,
    week,
)

__all__ = ["CAPACITY", "HOURS", "SERVICES", "contacts_for", "estimated_hours"]

CAPACITY: dict[str, int | None] = {
    "pool": 300,
    "library": 100,
    "town_hall": None,
    "leisure_centre": 120,
    "sports_centre": 300,
    "museum": 400,
    "bath_house": 30,
    "gymnasium": 120,
    "sports_ground": 60,
    "park": None,
    "cemetery": None,
    "community_centre": 60,
}
"""People the premises typically hold (None: open spaces without a meaningful count)."""

HOURS: dict[str, Json] = {
    "pool": week(("07:00-08:30", "11:30-13:30", "16:30-20:00"), sat=("07:00-18:00",)),
    "library": week(("13:00-19:00",), wed=("10:00-19:00",), sat=("10:00-18:00",), mon=(), sun=()),
    "town_hall": week(("08:30-17:00",), thu=("08:30-19:30",), sat=("09:00-12:30",), sun=()),
    "leisure_centre": week(("10:00-22:00",), sat=("10:00-18:00",), sun=()),
    "sports_centre": week(("08:00-22:30",), sat=("08:00-19:00",), sun=("08:00-19:00",)),
    "museum": week(("10:00-18:00",), mon=()),
    "bath_house": week(("07:30-13:00",), mon=(), sun=("08:00-12:00",)),
    "gymnasium": week(("08:00-22:30",), sat=("08:00-19:00",), sun=("08:00-19:00",)),
    "sports_ground": week(("08:00-22:00",)),
    "park": week(("08:00-19:30",), sat=("09:00-19:30",), sun=("09:00-19:30",)),
    "cemetery": week(("08:00-17:30",), sat=("08:30-17:30",), sun=("09:00-17:30",)),
    "community_centre": week(("10:00-19:00",), sat=("10:00-14:00",), sun=()),
}
"""Typical weekly hours of a type (estimated)."""

_HOLIDAYS = {"museum": "open", "park": "open", "cemetery": "open", "sports_ground": "open"}

SERVICES: dict[str, list[Json]] = {
    "pool": [service("swimming", text("Baignade publique", "Public swimming"), queue=True)],
    "library": [
        service("lending", text("Prêt et retour", "Borrowing and returns"), queue=True),
        service("reading-room", text("Salle de travail", "Study room")),
    ],
    "town_hall": [
        service("reception", text("Accueil et orientation", "Reception and guidance"), queue=True)
    ],
    "leisure_centre": [
        service("workshops", text("Ateliers et cours", "Workshops and classes")),
        service("reception", text("Accueil", "Reception"), queue=True),
    ],
    "sports_centre": [service("free-access", text("Accès libre", "Open access"), queue=True)],
    "museum": [
        service("visit", text("Visite des collections", "Visit of the collections"), queue=True),
    ],
    "bath_house": [
        service("showers", text("Douches gratuites", "Free showers"), queue=True),
    ],
    "gymnasium": [
        service(
            "bookings",
            text("Créneaux des clubs et des écoles", "Club and school slots"),
        )
    ],
    "sports_ground": [service("free-access", text("Accès libre", "Open access"))],
    "park": [service("walk", text("Promenade et aires de jeux", "Walks and playgrounds"))],
    "cemetery": [
        service("visit", text("Visite et recueillement", "Visits")),
        service("conservation", text("Conservation du cimetière", "Cemetery office")),
    ],
    "community_centre": [
        service(
            "associations",
            text("Accueil des associations", "Support for associations"),
            queue=True,
        ),
        service(
            "room-booking",
            text("Prêt de salles", "Room loans"),
        ),
    ],
}
"""Services a site of the type offers (estimated)."""

_RECEPTION = {
    "pool": text("Accueil de la piscine", "Pool reception"),
    "library": text("Accueil de la bibliothèque", "Library front desk"),
    "town_hall": text("Accueil de la mairie", "Town hall reception"),
    "leisure_centre": text("Accueil du centre Paris Anim'", "Paris Anim' centre reception"),
    "sports_centre": text("Accueil du centre sportif", "Sports centre reception"),
    "museum": text("Paris Musées — accueil des publics", "Paris Musées visitor information"),
    "bath_house": text("Bains-douches municipaux", "Municipal baths"),
    "gymnasium": text("Direction de la jeunesse et des sports", "Youth and sports department"),
    "sports_ground": text("Direction de la jeunesse et des sports", "Youth and sports department"),
    "park": text("Direction des espaces verts", "Parks and gardens department"),
    "cemetery": text("Service des cimetières", "Cemeteries department"),
    "community_centre": text("Accueil de la MVAC", "Community centre reception"),
}
_URLS = {"museum": "https://www.parismusees.paris.fr", "library": "https://bibliotheques.paris.fr"}


def contacts_for(facility_type: str, url: str | None) -> list[Json]:
    """The information contact (the City's 3975 line and paris.fr) and complaints."""
    return [
        contact(
            "information",
            _RECEPTION[facility_type],
            "central",
            phone=CITY_PHONE,
            url=url or _URLS.get(facility_type, PARIS_URL),
        ),
        COMPLAINT,
    ]


def estimated_hours(facility_type: str) -> Json:
    """The typical hours of a type, in the catalogue's hours shape."""
    return {
        "weekly": HOURS[facility_type],
        "seasons": [],
        "special": [],
        "public_holidays": _HOLIDAYS.get(facility_type, "closed"),
    }
