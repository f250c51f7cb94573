"""The pure core of the feedback aggregates: months, quantiles, satisfaction, complaint délais."""

from __future__ import annotations

import datetime as dt

from schemas.clock import PARIS
from schemas.events import EventType, make_event
from streams.feedback.rules import (
    ALL_RULES,
    ComplaintFact,
    complaint_fact,
    complaint_stats,
    paris_month,
    quantile,
    response_delays,
    satisfaction_deltas,
    survey_row,
)

T0 = dt.datetime(2025, 6, 2, 10, 0, tzinfo=PARIS)


def test_a_month_is_the_paris_month() -> None:
    """31 May 23:30 UTC is already June in Paris."""
    assert paris_month(dt.datetime(2025, 5, 31, 23, 30, tzinfo=dt.UTC)) == dt.date(2025, 6, 1)
    assert paris_month(dt.datetime(2025, 5, 31, 21, 30, tzinfo=dt.UTC)) == dt.date(2025, 5, 1)


def test_quantile_interpolates_between_ranks() -> None:
    """Median of 1..4 is 2.5, p90 of 1..10 is 9.1, an empty list has none."""
    assert quantile([4, 1, 3, 2], 0.5) == 2.5
    assert abs((quantile(list(range(1, 11)), 0.9) or 0) - 9.1) < 1e-9
    assert quantile([7], 0.9) == 7
    assert quantile([], 0.5) is None


def test_a_survey_counts_overall_and_each_rule_it_rated_or_said_was_not_kept() -> None:
    """Unrated rules add nothing; a rule not kept without a rating adds a « not kept » only."""
    event = make_event(
        EventType.SURVEY_SUBMITTED,
        "mairie-11",
        {
            "response_id": "r1",
            "channel": "screen",
            "rating": 4,
            "rules_not_kept": ["delays", "orientation"],
            "rule_ratings": {"welcome": 5, "delays": 2},
            "liked": "Accueil",
        },
        source="/feedback/screen",
        time=T0,
    )
    row = survey_row(event, "town_hall")  # type: ignore[arg-type]
    deltas = {d.aspect: (d.rating, d.not_kept) for d in satisfaction_deltas(row)}
    assert deltas == {
        "overall": (4, False),
        "delays": (2, True),
        "orientation": (None, True),
        "welcome": (5, False),
    }
    assert row.month == dt.date(2025, 6, 1)


def _fact(cid: str, **changes: object) -> ComplaintFact:
    base: dict[str, object] = {
        "complaint_id": cid,
        "facility_id": "piscine-pontoise",
        "facility_type": "pool",
        "service_id": "djs-piscines",
        "rule": "welcome",
        "topic": "cleanliness",
        "filed_at": T0,
        "answer_due_at": T0 + dt.timedelta(days=15),
    }
    base.update(changes)
    return ComplaintFact(**base)  # type: ignore[arg-type]


def test_response_delays_give_median_p90_and_on_time_against_the_commitment() -> None:
    """Answers after 2, 4, 6 and 20 days: median 5, p90 15.8, three of four on time."""
    facts = [
        _fact(f"c{d}", acknowledged_at=T0, answered_at=T0 + dt.timedelta(days=d))
        for d in (2, 4, 6, 20)
    ] + [_fact("open"), _fact("ack-only-unfiled", filed_at=None, acknowledged_at=T0)]
    delays = {(d.rule, d.service_id): d for d in response_delays(facts, lambda _s: 15)}
    total = delays[(ALL_RULES, "djs-piscines")]
    assert (total.filed, total.answered, total.answered_on_time) == (5, 4, 3)
    assert total.median_days == 5.0
    assert total.p90_days == 15.8
    assert total.committed_days == 15
    assert delays[("welcome", "djs-piscines")].answered == 4


def test_complaint_stats_count_volume_and_lifecycle_per_group() -> None:
    """An answered complaint also counts as acknowledged; an unfiled one is not counted."""
    facts = [
        _fact("a", answered_at=T0 + dt.timedelta(days=1)),
        _fact("b", acknowledged_at=T0),
        _fact("c", topic="staff_behaviour"),
        _fact("d", filed_at=None),
    ]
    stats = {s.topic: s for s in complaint_stats(facts)}
    cleanliness = stats["cleanliness"]
    assert (cleanliness.filed, cleanliness.acknowledged, cleanliness.answered) == (2, 2, 1)
    assert cleanliness.answered_on_time == 1
    assert stats["staff_behaviour"].filed == 1
    assert sum(s.filed for s in stats.values()) == 3


def test_complaint_events_set_only_their_own_lifecycle_fields() -> None:
    """A filed event sets the routing and due date; an answer sets only the answer time."""
    filed = make_event(
        EventType.COMPLAINT_FILED,
        "piscine-pontoise",
        {
            "complaint_id": "REC-1",
            "service_id": "djs-piscines",
            "rule": "welcome",
            "topic": "safety",
            "channel": "web",
            "text": "Surveillance absente",
            "answer_due_at": T0 + dt.timedelta(days=5),
        },
        source="/complaints/web",
        time=T0,
    )
    fact = complaint_fact(filed, "pool")
    assert (fact.service_id, fact.rule, fact.topic, fact.month) == (
        "djs-piscines", "welcome", "safety", dt.date(2025, 6, 1)
    )  # fmt: skip
    answered = make_event(
        EventType.COMPLAINT_ANSWERED,
        "piscine-pontoise",
        {
            "complaint_id": "REC-1",
            "service_id": "djs-piscines",
            "answered_by": "agent-1",
            "answer": {"fr": "Merci"},
        },
        source="/complaints/djs-piscines",
        time=T0 + dt.timedelta(days=1),
    )
    later = complaint_fact(answered, None)
    assert later.answered_at == T0 + dt.timedelta(days=1)
    assert later.filed_at is None and later.rule is None
