"""Exceptional closures as an iCalendar feed (``GET /v1/facilities/{id}/closures.ics``), pure.

Each closure is one VEVENT whose UID is derived from its ``closure_id`` only (stable across
updates), whose SEQUENCE follows the closure's ``sequence`` (+1 once it ended) so calendar apps
apply each change, and whose STATUS turns CANCELLED once the closure ended. Source: the ``closures``
table, completed by the live status for closures the history has not recorded yet
(:func:`from_live`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from icalendar import Calendar, Event

__all__ = ["KEEP_ENDED", "REASONS_FR", "ClosureRecord", "closures_calendar", "from_live"]

KEEP_ENDED = timedelta(days=90)
"""How long an ended closure stays in the feed."""
REASONS_FR = {
    "staff_shortage": "manque de personnel",
    "technical_failure": "panne technique",
    "water_quality": "qualité de l'eau",
    "weather": "météo",
    "security": "sécurité",
    "works": "travaux",
    "strike": "grève",
    "event": "événement",
    "other": "autre motif",
}


@dataclass(frozen=True, slots=True)
class ClosureRecord:
    closure_id: str
    reason: str
    message: dict[str, str]
    scope: dict[str, Any]
    starts_at: datetime
    expected_reopening_at: datetime | None
    ended_at: datetime | None
    declared_at: datetime
    updated_at: datetime
    sequence: int


def _uid(closure_id: str, base_url: str) -> str:
    host = urlsplit(base_url).hostname or "paris-live"
    return f"closure-{closure_id}@{host}"


def closures_calendar(
    name: str, address: str | None, closures: list[ClosureRecord], *, base_url: str, now: datetime
) -> bytes:
    """The iCalendar feed of a facility's closures (pure: same input, same bytes)."""
    cal = Calendar()
    cal.add("prodid", "-//Ville de Paris//Paris Live//FR")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"Fermetures exceptionnelles — {name}")
    cal.add("x-wr-timezone", "Europe/Paris")
    for closure in sorted(closures, key=lambda c: (c.starts_at, c.closure_id)):
        ended = closure.ended_at is not None and closure.ended_at <= now
        event = Event()
        event.add("uid", _uid(closure.closure_id, base_url))
        event.add("dtstamp", closure.updated_at.astimezone(UTC))
        event.add("created", closure.declared_at.astimezone(UTC))
        event.add("last-modified", closure.updated_at.astimezone(UTC))
        event.add("sequence", closure.sequence + (1 if ended else 0))
        event.add("dtstart", closure.starts_at.astimezone(UTC))
        end = closure.ended_at or closure.expected_reopening_at
        if end is not None and end > closure.starts_at:
            event.add("dtend", end.astimezone(UTC))
        where = closure.scope.get("name") if closure.scope.get("kind") == "area" else None
        label = f"Fermeture exceptionnelle{f' ({where})' if where else ''} — {name}"
        event.add("summary", label)
        reason = REASONS_FR.get(closure.reason, closure.reason)
        text = f"{closure.message.get('fr', '')}\nMotif : {reason}."
        if closure.message.get("en"):
            text += f"\n\n{closure.message['en']}"
        event.add("description", text)
        event.add("categories", [closure.reason])
        event.add("status", "CANCELLED" if ended else "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        if address:
            event.add("location", address)
        cal.add_component(event)
    body: bytes = cal.to_ical()
    return body


def from_live(closure: dict[str, Any]) -> ClosureRecord:
    declared = datetime.fromisoformat(closure["declared_at"])
    reopening = closure.get("expected_reopening_at")
    return ClosureRecord(
        closure_id=closure["closure_id"],
        reason=closure["reason"],
        message=closure["message"],
        scope=closure["scope"],
        starts_at=datetime.fromisoformat(closure["starts_at"]),
        expected_reopening_at=datetime.fromisoformat(reopening) if reopening else None,
        ended_at=None,
        declared_at=declared,
        updated_at=declared,
        sequence=0,
    )
