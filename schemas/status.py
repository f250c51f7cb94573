"""FacilityStatus — the one shape carried by Redis, ``facility-status``, REST and the WebSocket.

Every datetime is timezone-aware and serialises as RFC 3339 with its offset. Decoding ignores
fields it does not know (a newer writer may have *added* some — the contract extends, never
renames); everything else is validated.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from schemas.events import (
    ClosureReason,
    ClosureScope,
    EquipmentKind,
    EquipmentState,
    FacilityId,
    Identifier,
    LocalizedText,
    Timestamp,
)
from schemas.provenance import HoursConfidence

FACILITY_TYPE_PATTERN = r"^[a-z][a-z0-9_]*$"
HHMM_PATTERN = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$|^24:00$"

HHMM: TypeAlias = Annotated[str, StringConstraints(pattern=HHMM_PATTERN)]


class OpenState(StrEnum):
    """Whether the facility can be entered now."""

    OPEN = "open"
    CLOSING_SOON = "closing_soon"
    CLOSED = "closed"
    EXCEPTIONALLY_CLOSED = "exceptionally_closed"
    PARTIALLY_CLOSED = "partially_closed"
    UNKNOWN = "unknown"


class OccupancyLevel(StrEnum):
    """How crowded it is, in words a visitor understands."""

    LOW = "low"
    MODERATE = "moderate"
    HIGH = "high"
    FULL = "full"


class Trend(StrEnum):
    """Where occupancy is heading over the last minutes."""

    RISING = "rising"
    STEADY = "steady"
    FALLING = "falling"


class _Part(BaseModel):
    model_config = ConfigDict(
        extra="ignore", frozen=True, json_schema_serialization_defaults_required=True
    )


class Occupancy(_Part):
    """People inside now; ``ratio``/``level`` only when the capacity is known."""

    count: int = Field(ge=0)
    capacity: int | None = Field(default=None, ge=1)
    ratio: float | None = Field(default=None, ge=0)
    level: OccupancyLevel | None = None
    trend: Trend = Trend.STEADY
    measured_at: Timestamp
    source: str = Field(
        description="what the count comes from: `sensor` (a headcount), `turnstile` (counted "
        "passages) or `estimate` (passages corrected for drift: an estimation)"
    )


class ServedMethod(StrEnum):
    """Where a time-to-be-served figure comes from."""

    QUEUE_MODEL = "queue_model"
    DEFAULT = "default_service"


class ServedWithin(_Part):
    """Time to be served (an estimate): from taking a ticket now to being called to a counter."""

    p50_minutes: float = Field(ge=0, description="median wait of someone taking a ticket now")
    p90_minutes: float = Field(
        ge=0, description="9 people in 10 taking a ticket now are called within this (≥ median)"
    )
    method: ServedMethod = Field(
        description="`queue_model`: people waiting × recent service time ÷ counters open (measured "
        "as the time between two tickets served), corrected by how long the last tickets to reach "
        "a counter actually waited; `default_service`: no ticket served yet, the default service "
        "time stands in for the observed one"
    )


class QueueStatus(_Part):
    """A service desk queue: tickets waiting and the estimated wait."""

    service_id: Identifier
    length: int = Field(ge=0)
    wait_minutes: float | None = Field(
        default=None,
        ge=0,
        description="moving average (EWMA) of the waits observed recently (issued → called); "
        "length × service time when none is recent",
    )
    measured_at: Timestamp
    served_within: ServedWithin | None = Field(
        default=None,
        description="time to be served for someone taking a ticket now (median and 90th "
        "percentile, an estimate); null before the first ticket event of the service",
    )


class AppointmentStatus(_Part):
    """The next bookable appointment of a service and how far away it is."""

    service_id: Identifier
    next_available_at: Timestamp | None = None
    delay_days: float | None = Field(default=None, ge=0)


class ProcessingStatus(_Part):
    """How long a procedure takes (closed cases) and the charter's commitment."""

    procedure_id: Identifier
    median_days: float | None = Field(default=None, ge=0)
    p90_days: float | None = Field(default=None, ge=0)
    committed_days: float | None = Field(default=None, ge=0)


class ClosureStatus(_Part):
    """An active (or announced) exceptional closure; ``overdue`` once its reopening time passed."""

    closure_id: Identifier
    scope: ClosureScope
    reason: ClosureReason
    message: LocalizedText
    starts_at: Timestamp
    expected_reopening_at: Timestamp | None = None
    declared_by: Identifier
    declared_at: Timestamp
    overdue: bool = False


class StepFreeAccess(StrEnum):
    """Can a wheelchair user get in now, without steps?"""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"


class EquipmentStatus(_Part):
    """One accessibility equipment now: in service (presumed until a report says otherwise),
    out of service or degraded; ``overdue`` once ``expected_back_at`` passed without a return."""

    equipment_id: Identifier
    kind: EquipmentKind
    name: LocalizedText
    status: EquipmentState = EquipmentState.IN_SERVICE
    area: str | None = None
    message: LocalizedText | None = None
    since: Timestamp | None = Field(
        default=None, description="when the current status began (null: never reported)"
    )
    expected_back_at: Timestamp | None = None
    declared_by: Identifier | None = None
    overdue: bool = False
    step_free_route: bool = Field(
        default=False,
        description="on the facility's step-free route: out of service, it leaves no step-free way",
    )
    estimated: bool = Field(
        default=False,
        description="the catalogue's equipment list for this facility is a typical profile of its "
        "type, not read from a dataset (show it as estimated)",
    )


class Accessibility(_Part):
    """Live accessibility: each equipment's state and whether step-free access holds now."""

    step_free_access: StepFreeAccess = StepFreeAccess.UNKNOWN
    equipment: list[EquipmentStatus] = Field(default_factory=list)
    estimated: bool = Field(
        default=False,
        description="the facility's accessibility (step-free baseline, equipment list) is a typical "
        "profile of its type, not read from a dataset: show `step_free_access` as estimated",
    )


class TimeRange(_Part):
    """Opening hours of one span of the day, Paris local time (``closes`` may be ``24:00``)."""

    opens: HHMM
    closes: HHMM

    @model_validator(mode="after")
    def _opens_before_closes(self) -> TimeRange:
        if self.opens >= self.closes:
            raise ValueError(f"opens ({self.opens}) must be before closes ({self.closes})")
        return self


_EXAMPLE: dict[str, Any] = {
    "facility_id": "piscine-pontoise",
    "name": "Piscine Pontoise",
    "type": "pool",
    "arrondissement": 5,
    "seq": 1842,
    "updated_at": "2025-06-14T10:42:07+02:00",
    "open_state": "partially_closed",
    "today_hours": [{"opens": "07:00", "closes": "20:30"}],
    "next_change_at": "2025-06-14T20:30:00+02:00",
    "closures": [
        {
            "closure_id": "clo-5f1c",
            "scope": {"kind": "area", "name": "Bassin 25 m"},
            "reason": "water_quality",
            "message": {
                "fr": "Bassin fermé pour analyse de l'eau.",
                "en": "Pool closed for water testing.",
            },
            "starts_at": "2025-06-14T09:00:00+02:00",
            "expected_reopening_at": "2025-06-14T14:00:00+02:00",
            "declared_by": "agent-4821",
            "declared_at": "2025-06-14T08:55:12+02:00",
            "overdue": False,
        }
    ],
    "occupancy": {
        "count": 87,
        "capacity": 250,
        "ratio": 0.348,
        "level": "moderate",
        "trend": "rising",
        "measured_at": "2025-06-14T10:42:05+02:00",
        "source": "turnstile",
    },
    "queues": [],
    "appointments": [],
    "processing": [],
    "stale": False,
    "last_data_at": "2025-06-14T10:42:05+02:00",
    "hours_confidence": "official",
    "accessibility": {
        "step_free_access": "no",
        "estimated": False,
        "equipment": [
            {
                "equipment_id": "lift",
                "kind": "lift",
                "name": {"fr": "Ascenseur", "en": "Lift"},
                "status": "out_of_service",
                "area": None,
                "message": {"fr": "Ascenseur hors service.", "en": "Lift out of order."},
                "since": "2025-06-14T10:42:00+02:00",
                "expected_back_at": "2025-06-15T09:00:00+02:00",
                "declared_by": "agent",
                "overdue": False,
                "step_free_route": True,
                "estimated": False,
            }
        ],
    },
}


class FacilityStatus(BaseModel):
    """The live status of one facility.

    ``seq`` strictly increases per facility: a reader keeps the highest it has seen.
    """

    model_config = ConfigDict(
        extra="ignore",
        frozen=True,
        json_schema_serialization_defaults_required=True,
        json_schema_extra={"examples": [_EXAMPLE]},
    )

    facility_id: FacilityId
    name: Annotated[str, StringConstraints(min_length=1, max_length=300)]
    type: Annotated[str, StringConstraints(pattern=FACILITY_TYPE_PATTERN)]
    arrondissement: int = Field(ge=1, le=20)
    seq: int = Field(ge=0)
    updated_at: Timestamp
    open_state: OpenState
    today_hours: list[TimeRange] = Field(default_factory=list)
    next_change_at: Timestamp | None = None
    closures: list[ClosureStatus] = Field(default_factory=list)
    occupancy: Occupancy | None = None
    queues: list[QueueStatus] = Field(default_factory=list)
    appointments: list[AppointmentStatus] = Field(default_factory=list)
    processing: list[ProcessingStatus] = Field(default_factory=list)
    stale: bool = False
    last_data_at: Timestamp | None = None
    hours_confidence: HoursConfidence = Field(
        default="unknown",
        description=(
            "where `open_state` and `today_hours` come from: `official` hours read from a dated "
            "open dataset, `estimated` typical hours of the type (show them as not confirmed), "
            "or `unknown`"
        ),
    )
    accessibility: Accessibility = Field(
        default_factory=Accessibility,
        description="live accessibility: each equipment's state (lifts, ramps, pool hoists…) and "
        "`step_free_access` now (`no` when the only step-free route has equipment out of service)",
    )

    def to_json(self) -> bytes:
        """RFC 3339 JSON bytes (Redis, Kafka, REST and WebSocket payload)."""
        return self.__pydantic_serializer__.to_json(self)

    @classmethod
    def example(cls) -> FacilityStatus:
        """The documented example (OpenAPI), as a model."""
        return cls.model_validate(_EXAMPLE)
