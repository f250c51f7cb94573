"""The feedback job's pure rules with complaints about a démarche: a complaint keyed by its
procedure concerns no facility, and the monthly figures keep the procedure as their key."""

from __future__ import annotations

import datetime as dt

from schemas.events import CloudEvent, EventType, make_event
from streams.feedback.rules import complaint_fact, complaint_stats, response_delays

FILED_AT = dt.datetime(2026, 11, 5, 9, 30, tzinfo=dt.UTC)


def _filed(subject: str, procedure_id: str | None, complaint_id: str) -> CloudEvent:
    return make_event(
        EventType.COMPLAINT_FILED,
        subject,
        {
            "complaint_id": complaint_id,
            "service_id": "dvd-forfaits-post-stationnement",
            "rule": "delays",
            "topic": "processing",
            "channel": "web",
            "text": "Aucune réponse à mon recours RAPO.",
            "answer_due_at": FILED_AT + dt.timedelta(days=30),
            "procedure_id": procedure_id,
        },
        source="/complaints/web",
        time=FILED_AT,
        id=f"{complaint_id}:filed",
    )


def test_a_complaint_keyed_by_its_procedure_concerns_no_facility() -> None:
    """subject == procedure_id: no facility, no facility type, the procedure kept."""
    fact = complaint_fact(_filed("parking-fine-appeal", "parking-fine-appeal", "REC-1"), None)
    assert (fact.facility_id, fact.facility_type, fact.procedure_id) == (
        None,
        None,
        "parking-fine-appeal",
    )
    at_town_hall = complaint_fact(
        _filed("mairie-15", "identity-document", "REC-2"),
        "town_hall",
    )
    assert (at_town_hall.facility_id, at_town_hall.procedure_id) == (
        "mairie-15",
        "identity-document",
    )


def test_the_monthly_figures_count_a_demarche_without_a_facility() -> None:
    """One line per (facility or none, procedure or none, …); the service's délai line counts
    both complaints."""
    facts = [
        complaint_fact(_filed("parking-fine-appeal", "parking-fine-appeal", "REC-1"), None),
        complaint_fact(_filed("parking-fine-appeal", "parking-fine-appeal", "REC-2"), None),
        complaint_fact(_filed("mairie-15", None, "REC-3"), "town_hall"),
    ]
    stats = complaint_stats(facts)
    assert [(s.facility_id, s.facility_type, s.procedure_id, s.filed) for s in stats] == [
        (None, None, "parking-fine-appeal", 2),
        ("mairie-15", "town_hall", None, 1),
    ]
    [all_rules] = [d for d in response_delays(facts, lambda _: 30) if d.rule == "*"]
    assert all_rules.filed == 3 and all_rules.committed_days == 30
