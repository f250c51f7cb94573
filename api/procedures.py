"""The démarches as the API and the pages show them: a parcours, its délais, whom to ask, and the
facilities serving it with their live figures (open state, queue wait, next appointment).

Pure: the parcours, the live items (FacilityStatus + ``live`` + ``catalogue``, as
:func:`api.views.render_item` makes them) and the measured délais in, plain JSON-ready views
out. The response models document the shapes in OpenAPI; the live parts (``queue``,
``next_appointment``) are the FacilityStatus entries passed through as they are stored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field

from api.search import Topic
from schemas.catalogue import ContactNeed, LocalizedText, ServiceLevel
from schemas.parcours import Parcours
from schemas.status import AppointmentStatus, ProcessingStatus, QueueStatus

__all__ = [
    "MEASURE_WINDOW_DAYS",
    "Measured",
    "ProcedureDetail",
    "ProcedurePage",
    "detail_view",
    "facility_view",
    "procedure_ids",
    "served_by",
    "soonest",
    "summary_view",
    "topic_view",
]

MEASURE_WINDOW_DAYS = 90
"""Cases closed within this many days give the measured délais (as the stream workers do)."""
Item = Mapping[str, Any]


# ── Response models (OpenAPI) ─────────────────────────────────────────────────────────────────


class Delay(BaseModel):
    kind: Literal["mean", "max"] = Field(description="mean: usual; max: a legal deadline")
    days: int
    illustrative: bool = Field(description="true: an estimate, not an official commitment")


class MeasuredDelay(BaseModel):
    median_days: float | None = Field(description="cases closed over the last 90 days")
    p90_days: float | None
    cases: int
    window_days: int = MEASURE_WINDOW_DAYS
    reason: str | None = Field(
        description="why there is no figure: no_procedure_tracked, no_closed_cases, "
        "history_unavailable (null when there is one)"
    )


class TotalDelay(Delay):
    measured: MeasuredDelay


class StepOut(BaseModel):
    step_id: str
    title: LocalizedText
    delay_days: int | None = Field(description="days until the next step (null: last or unknown)")
    illustrative: bool
    appointment: bool
    facility_type: str | None
    service_id: str | None
    central: LocalizedText | None = Field(description="central service, when not at a facility")


class CompetentOut(BaseModel):
    need: ContactNeed
    service_name: LocalizedText
    level: ServiceLevel
    facility_type: str | None
    phone: str | None
    url: str | None


class FacilityOut(BaseModel):
    facility_id: str
    name: str
    type: str
    arrondissement: int
    live: bool
    open_state: str
    stale: bool
    queue: QueueStatus | None
    next_appointment: AppointmentStatus | None
    processing: list[ProcessingStatus] = Field(
        description="délais measured here (stream workers, 90 days) for the démarche's procedures"
    )


class Soonest(BaseModel):
    facility_id: str
    name: str
    service_id: str
    next_available_at: str
    delay_days: float | None


class ProcedureSummary(BaseModel):
    procedure_id: str
    title: LocalizedText
    summary: LocalizedText
    total_delay: Delay
    next_step_delay_days: int | None
    appointment_delay_days: int | None
    facility_count: int
    url: str = Field(examples=["/v1/procedures/identity-document"])
    page: str = Field(examples=["/demarches/identity-document"])


class NotCovered(BaseModel):
    topic_id: str = Field(examples=["creche"])
    name: LocalizedText
    url: str = Field(description="where it is covered (paris.fr)")


class ProcedurePage(BaseModel):
    items: list[ProcedureSummary]
    next: str | None
    not_covered: list[NotCovered] = Field(
        description="what the query asks that Paris Live does not cover yet, and where it is"
    )


class ExpectedTotal(BaseModel):
    """The démarche as one figure to plan with (any part may be unknown: null)."""

    wait_minutes: int | None = Field(
        description="shortest time to be served at a counter now (median, an estimate)"
    )
    appointment_days: int | None = Field(description="soonest appointment, in days from now")
    appointment_estimated: bool = Field(
        description="no slot is published: the démarche's usual appointment délai"
    )
    processing_days: int | None
    processing_from: Literal["measured", "committed"] = Field(
        description="median of the cases closed over 90 days, or the committed délai"
    )


class ProcedureDetail(ProcedureSummary):
    steps: list[StepOut]
    total_delay: TotalDelay
    competent_services: list[CompetentOut]
    facilities: list[FacilityOut]
    soonest_appointment: Soonest | None
    expected_total: ExpectedTotal | None


# ── Views ─────────────────────────────────────────────────────────────────────────────────────


@dataclass(frozen=True, slots=True)
class Measured:
    """Processing délais measured on closed cases; ``reason`` when there is no figure."""

    median_days: float | None = None
    p90_days: float | None = None
    cases: int = 0
    reason: str | None = None

    def json(self) -> dict[str, Any]:
        return {
            "median_days": self.median_days,
            "p90_days": self.p90_days,
            "cases": self.cases,
            "window_days": MEASURE_WINDOW_DAYS,
            "reason": self.reason,
        }


def procedure_ids(parcours: Parcours) -> list[str]:
    """The catalogue procedures (``facility-cases`` ``procedure_id``) the parcours goes through."""
    return list(
        dict.fromkeys(s.service.procedure_id for s in parcours.steps if s.service.procedure_id)
    )


def served_by(parcours: Parcours, facility_type: str) -> tuple[set[str], set[str]]:
    """The services of a facility type the steps use: all of them, and those on appointment."""
    steps = [s for s in parcours.steps if s.service.facility_type == facility_type]
    services = {s.service.service_id for s in steps if s.service.service_id}
    booked = {s.service.service_id for s in steps if s.appointment and s.service.service_id}
    return services, booked


def _lang(text: LocalizedText | None) -> dict[str, Any] | None:
    return None if text is None else text.model_dump(mode="json")


def summary_view(parcours: Parcours) -> dict[str, Any]:
    pid = parcours.parcours_id
    return {
        "procedure_id": pid,
        "title": _lang(parcours.title),
        "summary": _lang(parcours.summary),
        "total_delay": {
            **parcours.total_delay.model_dump(mode="json"),
            "illustrative": "total_delay" in parcours.illustrative,
        },
        "next_step_delay_days": parcours.next_step_delay_days,
        "appointment_delay_days": parcours.appointment_delay_days,
        "facility_count": len(parcours.facility_ids),
        "url": f"/v1/procedures/{pid}",
        "page": f"/demarches/{pid}",
    }


def topic_view(topic: Topic) -> dict[str, Any]:
    return {"topic_id": topic.topic_id, "name": _lang(topic.name), "url": topic.url}


def _expected_wait(queue: Mapping[str, Any]) -> tuple[bool, float]:
    """How long a queue makes one wait: its time to be served (median) where estimated, else
    the EWMA wait; queues with neither last."""
    served = queue.get("served_within") or {}
    wait = served.get("p50_minutes", queue.get("wait_minutes"))
    return (wait is None, wait or 0.0)


def facility_view(parcours: Parcours, item: Item) -> dict[str, Any]:
    """A facility serving the parcours, with the live figures of the services the steps use."""
    services, booked = served_by(parcours, item["type"])
    queues = [q for q in item.get("queues") or [] if q.get("service_id") in services]
    queues.sort(key=_expected_wait)
    slots = [
        a
        for a in item.get("appointments") or []
        if a.get("service_id") in booked and a.get("next_available_at")
    ]
    slots.sort(key=lambda a: str(a["next_available_at"]))
    tracked = set(procedure_ids(parcours))
    return {
        "facility_id": item["facility_id"],
        "name": item["name"],
        "type": item["type"],
        "arrondissement": item["arrondissement"],
        "live": bool(item.get("live")),
        "open_state": item.get("open_state", "unknown"),
        "stale": bool(item.get("stale")),
        "queue": queues[0] if queues else None,
        "next_appointment": slots[0] if slots else None,
        "processing": [p for p in item.get("processing") or [] if p.get("procedure_id") in tracked],
    }


def soonest(facilities: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The earliest next appointment across the facilities (None when none is published)."""
    with_slot = [f for f in facilities if f["next_appointment"]]
    if not with_slot:
        return None
    first = min(with_slot, key=lambda f: str(f["next_appointment"]["next_available_at"]))
    slot = first["next_appointment"]
    return {
        "facility_id": first["facility_id"],
        "name": first["name"],
        "service_id": slot["service_id"],
        "next_available_at": slot["next_available_at"],
        "delay_days": slot.get("delay_days"),
    }


def _step_view(parcours: Parcours, index: int) -> dict[str, Any]:
    step = parcours.steps[index]
    return {
        "step_id": step.step_id,
        "title": _lang(step.title),
        "delay_days": step.delay_days,
        "illustrative": f"steps.{step.step_id}.delay_days" in parcours.illustrative,
        "appointment": step.appointment,
        "facility_type": step.service.facility_type,
        "service_id": step.service.service_id,
        "central": _lang(step.service.central),
    }


def detail_view(parcours: Parcours, items: list[Item], measured: Measured) -> dict[str, Any]:
    """The whole démarche: steps, délais (committed and measured), competent services and the
    facilities serving it (those with a slot first, soonest first; then by arrondissement)."""
    facilities = [facility_view(parcours, item) for item in items]
    facilities.sort(
        key=lambda f: (
            f["next_appointment"] is None,
            str((f["next_appointment"] or {}).get("next_available_at", "")),
            f["arrondissement"],
            f["name"],
        )
    )
    view = summary_view(parcours)
    view["total_delay"]["measured"] = measured.json()
    view["steps"] = [_step_view(parcours, i) for i in range(len(parcours.steps))]
    view["competent_services"] = [
        {
            "need": c.need,
            "service_name": _lang(c.service_name),
            "level": c.level,
            "facility_type": c.facility_type,
            "phone": c.phone,
            "url": c.url,
        }
        for c in parcours.competent_services
    ]
    view["facilities"] = facilities
    view["soonest_appointment"] = soonest(facilities)
    view["expected_total"] = expected_total(parcours, facilities, view, measured)
    return view


def expected_total(
    parcours: Parcours,
    facilities: list[dict[str, Any]],
    view: Mapping[str, Any],
    measured: Measured,
) -> dict[str, Any] | None:
    """The démarche as one figure a citizen can plan with: the shortest time to be served at a
    counter now (median, where a queue estimates it), the soonest appointment (or the usual
    délai, estimated) and the processing délai (measured median, or the committed one) — each
    part with where it comes from; None when no part is known."""
    waits = [
        q["served_within"]["p50_minutes"]
        for f in facilities
        if (q := f.get("queue")) and q.get("served_within")
    ]
    slot = view.get("soonest_appointment")
    appointment_days = slot.get("delay_days") if slot else None
    appointment_estimated = False
    if appointment_days is None and parcours.appointment_delay_days is not None:
        appointment_days, appointment_estimated = parcours.appointment_delay_days, True
    processing_days: int
    if measured.median_days is not None:
        processing_days, processing_from = round(measured.median_days), "measured"
    else:  # the committed délais from the appointment on (before it is the appointment's)
        booked = [i for i, step in enumerate(parcours.steps) if step.appointment]
        processing_days = (
            sum(step.delay_days or 0 for step in parcours.steps[booked[0] :])
            if booked
            else parcours.total_delay.days
        )
        processing_from = "committed"
    parts = {
        "wait_minutes": round(min(waits)) if waits else None,
        "appointment_days": None if appointment_days is None else round(appointment_days),
        "appointment_estimated": appointment_estimated,
        "processing_days": processing_days,
        "processing_from": processing_from,
    }
    known = [parts["wait_minutes"], parts["appointment_days"], parts["processing_days"]]
    return parts if any(known) else None  # nothing to wait for: no figure to plan with
