"""One sample event per event type — deterministic (fixed ids and times) and realistic.

They are written to ``schemas/samples/``, shown as examples in the AsyncAPI document, and used by
the tests as valid events to start from.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, make_event

__all__ = ["sample_event"]


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 6, 14, hour, minute, second, tzinfo=PARIS)


_SAMPLES: dict[EventType, tuple[str, str, dict[str, Any]]] = {
    EventType.PASSAGE_COUNTED: (
        "piscine-pontoise",
        "/turnstiles/piscine-pontoise/tripode-1",
        {"gate_id": "tripode-1", "direction": "in", "count": 1},
    ),
    EventType.HEADCOUNT_MEASURED: (
        "piscine-pontoise",
        "/sensors/piscine-pontoise/camera-hall",
        {"sensor_id": "camera-hall", "headcount": 87},
    ),
    EventType.TICKET_ISSUED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_CALLED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_SERVED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_ABANDONED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A043", "service_id": "etat-civil"},
    ),
    EventType.SLOTS_PUBLISHED: (
        "mairie-11",
        "/booking/mairie-11",
        {
            "service_id": "titres-identite",
            "next_available_at": _at(9, 30).replace(day=19),
            "free_slots_7d": 12,
        },
    ),
    EventType.CLOSURE_DECLARED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {
            "closure_id": "clo-5f1c",
            "scope": {"kind": "area", "name": "Bassin 25 m"},
            "reason": "water_quality",
            "message": {
                "fr": "Bassin fermé pour analyse de l'eau.",
                "en": "Pool closed for water testing.",
            },
            "starts_at": _at(9, 0),
            "expected_reopening_at": _at(14, 0),
            "declared_by": "agent-4821",
        },
    ),
    EventType.CLOSURE_UPDATED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {
            "closure_id": "clo-5f1c",
            "scope": {"kind": "area", "name": "Bassin 25 m"},
            "reason": "water_quality",
            "message": {
                "fr": "Analyse prolongée : réouverture prévue à 16 h.",
                "en": "Testing extended: expected to reopen at 4 pm.",
            },
            "starts_at": _at(9, 0),
            "expected_reopening_at": _at(16, 0),
            "declared_by": "agent-4821",
        },
    ),
    EventType.CLOSURE_ENDED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {"closure_id": "clo-5f1c", "ended_by": "agent-4821"},
    ),
    EventType.CASE_OPENED: (
        "mairie-11",
        "/procedures/mairie-11",
        {"procedure_id": "carte-identite", "case_id": "CNI-2025-118734"},
    ),
    EventType.CASE_CLOSED: (
        "mairie-11",
        "/procedures/mairie-11",
        {"procedure_id": "carte-identite", "case_id": "CNI-2025-118734"},
    ),
    EventType.EQUIPMENT_STATUS_CHANGED: (
        "mairie-paris-centre",
        "/agents/mairie-paris-centre",
        {
            "equipment_id": "lift",
            "kind": "lift",
            "status": "out_of_service",
            "message": {"fr": "Ascenseur hors service.", "en": "Lift out of order."},
            "expected_back_at": _at(18, 0),
            "declared_by": "agent",
        },
    ),
    EventType.SURVEY_SUBMITTED: (
        "mairie-11",
        "/feedback/web",
        {
            "response_id": "srv-9d2e",
            "service_id": "etat-civil",
            "channel": "web",
            "rating": 4,
            "rules_not_kept": ["delays"],
            "comment": "Accueil très aimable, mais 40 minutes d'attente.",
            "language": "fr",
            "rule_ratings": {"information": 4, "delays": 2, "orientation": 5, "welcome": 5},
        },
    ),
    EventType.COMPLAINT_FILED: (
        "mairie-11",
        "/feedback/web",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "rule": "orientation",
            "channel": "web",
            "text": "On m'a envoyé au mauvais guichet deux fois.",
            "contact": "usager@example.org",
            "language": "fr",
            "topic": "wrong_service",
            "answer_due_at": _at(23, 59, 59).replace(day=29),
        },
    ),
    EventType.COMPLAINT_ACKNOWLEDGED: (
        "mairie-11",
        "/complaints/etat-civil",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "acknowledged_by": "agent-1207",
            "answer_due_at": _at(18, 0).replace(day=28),
        },
    ),
    EventType.COMPLAINT_ANSWERED: (
        "mairie-11",
        "/complaints/etat-civil",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "answered_by": "agent-1207",
            "answer": {
                "fr": "Nous avons revu la signalétique de l'accueil. Merci de votre signalement.",
                "en": "We have reviewed the reception signage. Thank you for reporting this.",
            },
        },
    ),
}


def sample_event(event_type: EventType) -> CloudEvent:
    """The documented sample event of ``event_type`` (deterministic id and time)."""
    subject, source, data = _SAMPLES[event_type]
    index = list(EventType).index(event_type)
    return make_event(
        event_type,
        subject,
        data,
        source=source,
        time=_at(10, 42, index),
        id=f"00000000-0000-4000-8000-{index:012d}",
    )
