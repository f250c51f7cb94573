"""A simulated month of feedback: survey answers and complaints with their lifecycle, as events.

Deterministic for a seed. Each facility type gets its own satisfaction profile; complaints follow
the routing table; services acknowledge within hours to days and answer within a délai drawn
around their commitment (some late, some never). :class:`Month` also carries what the figures must
be, computed here independently of :mod:`streams.feedback`.
"""

from __future__ import annotations

import datetime as dt
import random
import statistics
from dataclasses import dataclass, field

from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, GoldenRule, make_event
from schemas.routing import load_routing

MEAN_RATING = {
    "pool": 3.6, "town_hall": 4.1, "library": 4.4, "conservatory": 4.2, "sports_centre": 3.5,
    "leisure_centre": 3.9, "social_services": 3.3, "legal_advice": 4.0,
}  # fmt: skip


@dataclass
class Month:
    start: dt.date
    events: list[CloudEvent] = field(default_factory=list)
    surveys: int = 0
    rating_sum: int = 0
    filed: int = 0
    acknowledged: int = 0
    answered: int = 0
    on_time: int = 0
    delays_by_service: dict[str, list[float]] = field(default_factory=dict)


def _rating(rng: random.Random, mean: float) -> int:
    return max(1, min(5, round(rng.gauss(mean, 1.0))))


def simulate_month(
    year: int = 2025, month: int = 5, *, surveys: int = 600, complaints: int = 90, seed: int = 9
) -> Month:
    rng = random.Random(seed)
    catalogue = load_catalogue()
    routing = load_routing()
    facilities = [f for kind in MEAN_RATING for f in catalogue.by_type(kind)[:4]]
    start = dt.datetime(year, month, 1, tzinfo=PARIS)
    end = dt.datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=PARIS)
    span = (end - start).total_seconds()
    out = Month(start.date())

    def moment() -> dt.datetime:
        local = start + dt.timedelta(seconds=rng.uniform(0, span - 86400))
        return local.replace(hour=rng.randint(8, 19))

    for i in range(surveys):
        facility = rng.choice(facilities)
        mean = MEAN_RATING[facility.type]
        ratings = {r.value: _rating(rng, mean) for r in GoldenRule if rng.random() < 0.8}
        overall = _rating(rng, mean)
        out.surveys += 1
        out.rating_sum += overall
        out.events.append(
            make_event(
                EventType.SURVEY_SUBMITTED,
                facility.id,
                {
                    "response_id": f"sim-{seed}-{i}",
                    "channel": "screen",
                    "rating": overall,
                    "rules_not_kept": sorted(r for r, v in ratings.items() if v <= 2),
                    "rule_ratings": ratings or None,
                },
                source="/feedback/screen",
                time=moment(),
                id=f"sim-survey-{seed}-{i}",
            )
        )
    for i in range(complaints):
        facility = rng.choice(facilities)
        rule = rng.choice(list(GoldenRule))
        topic = rng.choice(list(routing.topics[rule]))
        route = routing.resolve(facility.type, rule, topic)
        service = route.service.service_id
        filed_at = moment()
        reference = f"REC-SIM-{seed}-{i:04d}"
        due = route.answer_due_at(filed_at)
        out.filed += 1
        common = {"complaint_id": reference, "service_id": service}
        out.events.append(
            make_event(
                EventType.COMPLAINT_FILED,
                facility.id,
                {
                    **common,
                    "rule": rule.value,
                    "topic": topic,
                    "channel": "web",
                    "text": "Réclamation simulée",
                    "answer_due_at": due,
                },
                source="/complaints/web",
                time=filed_at,
                id=f"{reference}:filed",
            )
        )
        if rng.random() > 0.88:
            continue  # never acknowledged
        acked_at = filed_at + dt.timedelta(hours=rng.uniform(1, 60))
        out.acknowledged += 1
        out.events.append(
            make_event(
                EventType.COMPLAINT_ACKNOWLEDGED,
                facility.id,
                {**common, "acknowledged_by": "agent-sim", "answer_due_at": due},
                source=f"/complaints/{service}",
                time=acked_at,
                id=f"{reference}:acknowledged",
            )
        )
        if rng.random() > 0.85:
            continue  # acknowledged, still unanswered
        days = max(0.3, rng.lognormvariate(0, 0.6) * route.answer_days * 0.55)
        answered_at = max(acked_at, filed_at + dt.timedelta(days=days))
        out.answered += 1
        out.on_time += answered_at <= due
        out.delays_by_service.setdefault(service, []).append(
            (answered_at - filed_at).total_seconds() / 86400
        )
        out.events.append(
            make_event(
                EventType.COMPLAINT_ANSWERED,
                facility.id,
                {**common, "answered_by": "agent-sim", "answer": {"fr": "Réponse simulée."}},
                source=f"/complaints/{service}",
                time=answered_at,
                id=f"{reference}:answered",
            )
        )
    return out


def median_days(month: Month, service: str) -> float:
    return statistics.median(month.delays_by_service[service])
