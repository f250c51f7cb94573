"""Feedback aggregation rules — the pure core of the feedback job (no I/O, unit-tested).

:func:`survey_row` and :func:`satisfaction_deltas` turn a survey answer into the row and counter
increments it contributes; :func:`complaint_fact` turns a complaint event into the lifecycle fields
it sets; :func:`complaint_stats` and :func:`response_delays` fold a month of lifecycle facts into
the published figures (median and p90 with :func:`quantile`). :mod:`streams.feedback.store` writes
them; :mod:`streams.feedback.job` feeds it from Kafka.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from schemas.clock import PARIS
from schemas.events import (
    CloudEvent,
    ComplaintAcknowledged,
    ComplaintAnswered,
    ComplaintFiled,
    GoldenRule,
    SurveySubmitted,
)

__all__ = [
    "ALL_RULES",
    "ASPECTS",
    "ComplaintFact",
    "ComplaintStat",
    "DelayStat",
    "SatisfactionDelta",
    "SurveyRow",
    "complaint_fact",
    "complaint_stats",
    "paris_month",
    "quantile",
    "response_delays",
    "satisfaction_deltas",
    "survey_row",
]

OVERALL = "overall"
ASPECTS: tuple[str, ...] = (OVERALL, *(rule.value for rule in GoldenRule))
"""What a survey rates: overall satisfaction, then each golden rule."""
ALL_RULES = "*"
"""The ``rule`` of the per-service line of ``response_delay_monthly`` (every rule together)."""
DAY_S = 86_400.0


def paris_month(at: dt.datetime) -> dt.date:
    """First day of the Paris-local month of an instant (naive datetimes are refused)."""
    if at.tzinfo is None:
        raise ValueError("naive datetime")
    local = at.astimezone(PARIS)
    return dt.date(local.year, local.month, 1)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0–1) with linear interpolation between closest ranks (None if empty)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True, slots=True)
class SatisfactionDelta:
    """What one answer adds to ``satisfaction_monthly`` for one aspect."""

    aspect: str
    rating: int | None
    not_kept: bool


@dataclass(frozen=True, slots=True)
class SurveyRow:
    """A survey answer as stored in ``survey_responses``."""

    response_id: str
    event_id: str
    facility_id: str
    facility_type: str
    service_id: str | None
    channel: str
    language: str
    submitted_at: dt.datetime
    month: dt.date
    rating: int
    rule_ratings: dict[str, int]
    rules_not_kept: list[str]
    liked: str | None
    to_improve: str | None
    went_wrong: str | None


def survey_row(event: SurveySubmitted, facility_type: str) -> SurveyRow:
    """The stored row of a survey answer (its month is the Paris month of the event ``time``)."""
    data = event.data
    ratings = data.rule_ratings.model_dump(exclude_none=True) if data.rule_ratings else {}
    return SurveyRow(
        response_id=data.response_id,
        event_id=event.id,
        facility_id=event.subject,
        facility_type=facility_type,
        service_id=data.service_id,
        channel=data.channel,
        language=data.language,
        submitted_at=event.time,
        month=paris_month(event.time),
        rating=data.rating,
        rule_ratings=ratings,
        rules_not_kept=sorted({GoldenRule(r).value for r in data.rules_not_kept}),
        liked=data.liked,
        to_improve=data.to_improve,
        went_wrong=data.went_wrong or data.comment,
    )


def satisfaction_deltas(row: SurveyRow) -> list[SatisfactionDelta]:
    """Counter increments of one answer: overall, then each rule it rated or said was not kept."""
    deltas = [SatisfactionDelta(OVERALL, row.rating, False)]
    for rule in GoldenRule:
        rating = row.rule_ratings.get(rule.value)
        not_kept = rule.value in row.rules_not_kept
        if rating is not None or not_kept:
            deltas.append(SatisfactionDelta(rule.value, rating, not_kept))
    return deltas


@dataclass(frozen=True, slots=True)
class ComplaintFact:
    """A complaint's lifecycle as known so far (every field but the id may still be unknown).

    ``facility_id`` is ``None`` for a complaint about a démarche that names no facility; its
    ``procedure_id`` is then set (both are set when it names both)."""

    complaint_id: str
    facility_id: str | None
    facility_type: str | None = None
    service_id: str | None = None
    rule: str | None = None
    topic: str | None = None
    filed_at: dt.datetime | None = None
    answer_due_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    procedure_id: str | None = None

    @property
    def month(self) -> dt.date | None:
        return paris_month(self.filed_at) if self.filed_at else None


def _keys(event: CloudEvent, procedure_id: str | None) -> tuple[str | None, str | None]:
    """(facility, procedure) of a complaint event: a complaint naming no facility is keyed by its
    procedure (``subject == data.procedure_id``)."""
    if procedure_id is not None and event.subject == procedure_id:
        return None, procedure_id
    return event.subject, procedure_id


def complaint_fact(event: CloudEvent, facility_type: str | None) -> ComplaintFact:
    """The lifecycle fields a complaint event sets (the others stay ``None``: unknown here)."""
    if isinstance(event, ComplaintFiled):
        data = event.data
        facility_id, procedure_id = _keys(event, data.procedure_id)
        return ComplaintFact(
            complaint_id=data.complaint_id,
            facility_id=facility_id,
            procedure_id=procedure_id,
            facility_type=facility_type if facility_id is not None else None,
            service_id=data.service_id,
            rule=data.rule.value if data.rule else None,
            topic=data.topic,
            filed_at=event.time,
            answer_due_at=data.answer_due_at,
        )
    if isinstance(event, ComplaintAcknowledged):
        facility_id, procedure_id = _keys(event, event.data.procedure_id)
        return ComplaintFact(
            complaint_id=event.data.complaint_id,
            facility_id=facility_id,
            procedure_id=procedure_id,
            service_id=event.data.service_id,
            acknowledged_at=event.time,
        )
    if isinstance(event, ComplaintAnswered):
        facility_id, procedure_id = _keys(event, event.data.procedure_id)
        return ComplaintFact(
            complaint_id=event.data.complaint_id,
            facility_id=facility_id,
            procedure_id=procedure_id,
            service_id=event.data.service_id,
            answered_at=event.time,
        )
    raise TypeError(f"not a complaint event: {event.type}")


def _on_time(fact: ComplaintFact) -> bool:
    return (
        fact.answered_at is not None
        and fact.answer_due_at is not None
        and fact.answered_at <= fact.answer_due_at
    )


def _delay_days(fact: ComplaintFact) -> float | None:
    if fact.answered_at is None or fact.filed_at is None:
        return None
    return max(0.0, (fact.answered_at - fact.filed_at).total_seconds() / DAY_S)


@dataclass(frozen=True, slots=True)
class ComplaintStat:
    """A line of ``complaint_stats_monthly`` (a démarche's complaints naming no facility have
    ``facility_id`` and ``facility_type`` ``None`` and a ``procedure_id``)."""

    month: dt.date
    facility_id: str | None
    facility_type: str | None
    service_id: str
    rule: str
    topic: str
    filed: int
    acknowledged: int
    answered: int
    answered_on_time: int
    procedure_id: str | None = None


def _complete(facts: Iterable[ComplaintFact]) -> list[ComplaintFact]:
    """Facts whose filing was seen (an acknowledgement alone is not yet a complaint to count)."""
    return [f for f in facts if f.filed_at is not None and f.service_id and f.rule]


def complaint_stats(facts: Iterable[ComplaintFact]) -> list[ComplaintStat]:
    """Volume and nature per filing month, facility and/or démarche, service, rule and topic."""
    groups: dict[tuple[dt.date, str, str, str, str, str, str], list[ComplaintFact]] = defaultdict(
        list
    )
    for fact in _complete(facts):
        assert fact.month is not None and fact.service_id is not None and fact.rule is not None
        key = (
            fact.month,
            fact.facility_id or "",  # "" = no facility (a démarche's complaint), sorts first
            fact.facility_type or ("unknown" if fact.facility_id else ""),
            fact.procedure_id or "",
            fact.service_id,
            fact.rule,
            fact.topic or "other",
        )
        groups[key].append(fact)
    return [
        ComplaintStat(
            month,
            facility_id or None,
            facility_type or None,
            service_id,
            rule,
            topic,
            filed=len(group),
            acknowledged=sum(1 for f in group if f.acknowledged_at or f.answered_at),
            answered=sum(1 for f in group if f.answered_at),
            answered_on_time=sum(1 for f in group if _on_time(f)),
            procedure_id=procedure_id or None,
        )
        for (month, facility_id, facility_type, procedure_id, service_id, rule, topic), group in (
            sorted(groups.items())
        )
    ]


@dataclass(frozen=True, slots=True)
class DelayStat:
    """A line of ``response_delay_monthly``: how fast a service answered, against its commitment."""

    month: dt.date
    service_id: str
    rule: str
    filed: int
    answered: int
    answered_on_time: int
    median_days: float | None
    p90_days: float | None
    committed_days: int


def response_delays(
    facts: Iterable[ComplaintFact], committed_days: Callable[[str], int]
) -> list[DelayStat]:
    """Median and p90 response délai (days, filing → answer) per month, service and rule.

    Each service also gets a line for every rule together (``rule = "*"``). ``committed_days``
    gives the service's committed answer délai (routing table).
    """
    groups: dict[tuple[dt.date, str, str], list[ComplaintFact]] = defaultdict(list)
    for fact in _complete(facts):
        month = fact.month
        assert month is not None and fact.service_id is not None and fact.rule is not None
        groups[(month, fact.service_id, fact.rule)].append(fact)
        groups[(month, fact.service_id, ALL_RULES)].append(fact)
    stats = []
    for (month, service_id, rule), group in sorted(groups.items()):
        delays = [d for d in map(_delay_days, group) if d is not None]
        median, p90 = quantile(delays, 0.5), quantile(delays, 0.9)
        stats.append(
            DelayStat(
                month=month,
                service_id=service_id,
                rule=rule,
                filed=len(group),
                answered=len(delays),
                answered_on_time=sum(1 for f in group if _on_time(f)),
                median_days=None if median is None else round(median, 2),
                p90_days=None if p90 is None else round(p90, 2),
                committed_days=committed_days(service_id),
            )
        )
    return stats
