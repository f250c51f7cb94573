"""The closures' shapes: what is stored and answered (:class:`Closure`), what agents send
(:class:`DeclareClosure`, :class:`UpdateClosure`, :class:`EndClosure`) and what the agent console
reads (:class:`AuditPage`, :class:`Me`, :class:`TemplatePage`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from api.auth import Role
from api.inputs import ClosureMessage
from schemas.events import ClosureReason, ClosureScope, FacilityScope, LocalizedText

__all__ = [
    "AuditEntry",
    "AuditPage",
    "Closure",
    "DeclareClosure",
    "EndClosure",
    "FacilityRef",
    "Me",
    "MessageIn",
    "ReasonTemplateOut",
    "ServiceRef",
    "TemplatePage",
    "UpdateClosure",
    "When",
]


class Closure(BaseModel):
    """A closure as stored; times in Paris time."""

    closure_id: str
    facility_id: str
    scope: ClosureScope
    reason: ClosureReason
    message: LocalizedText
    starts_at: dt.datetime
    expected_reopening_at: dt.datetime | None
    ended_at: dt.datetime | None
    declared_by: str
    declared_at: dt.datetime
    updated_at: dt.datetime
    sequence: int
    declared_label: LocalizedText = Field(
        description="« déclaré par l'équipe à HH:MM » for the public card"
    )

    def snapshot(self) -> dict[str, Any]:
        """What the audit trail keeps of it (the public label is derived, not recorded)."""
        return self.model_dump(mode="json", exclude={"declared_label"})


# ── request bodies ────────────────────────────────────────────────────────────────────────────


def _reasonable(value: dt.datetime) -> dt.datetime:
    try:
        utc = value.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        raise ValueError("date out of range") from None
    if not 2000 <= utc.year <= 2100:
        raise ValueError("date out of range (2000–2100)")
    return utc


When = Annotated[AwareDatetime, AfterValidator(_reasonable)]


class MessageIn(BaseModel):
    """What the public reads: French (required) and English, at most 500 characters each
    (line breaks allowed, other control characters refused: :mod:`schemas.text`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fr: ClosureMessage
    en: ClosureMessage | None = None

    def text(self) -> LocalizedText:
        return LocalizedText(fr=self.fr, en=self.en)


class DeclareClosure(BaseModel):
    """A new closure. Without ``message``, the reason's template is used (see
    ``GET /v1/closure-templates``); without ``starts_at``, it starts now."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "scope": {"kind": "area", "name": "Bassin 50 m"},
                    "reason": "water_quality",
                    "expected_reopening_at": "2026-06-12T14:00:00+02:00",
                }
            ]
        },
    )

    scope: ClosureScope = Field(default_factory=FacilityScope)
    reason: ClosureReason
    message: MessageIn | None = None
    starts_at: When | None = None
    expected_reopening_at: When | None = None


class UpdateClosure(BaseModel):
    """New expected reopening (``null``: unknown), message or reason; absent fields are kept.
    A templated message follows the new reason and reopening time."""

    model_config = ConfigDict(extra="forbid")

    expected_reopening_at: When | None = None
    message: MessageIn | None = None
    reason: ClosureReason | None = None


class EndClosure(BaseModel):
    """Optional closing words (« Réouverture à 15 h, merci de votre patience »)."""

    model_config = ConfigDict(extra="forbid")

    message: MessageIn | None = None


# ── the agent console ─────────────────────────────────────────────────────────────────────────


class AuditEntry(BaseModel):
    audit_id: int
    at: dt.datetime
    actor: str
    actor_role: str
    action: str
    facility_id: str
    closure_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    request_id: str
    client_address: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next: str | None


class ServiceRef(BaseModel):
    service_id: str
    name: LocalizedText


class FacilityRef(BaseModel):
    id: str
    name: str
    type: str
    arrondissement: int
    areas: list[str]
    services: list[ServiceRef]


class Me(BaseModel):
    subject: str
    role: Role
    facilities: list[FacilityRef]
    facility_types: list[str]
    expires_at: dt.datetime
    may_manage_closures: bool
    may_read_audit: bool


class ReasonTemplateOut(BaseModel):
    reason: ClosureReason
    label: LocalizedText
    template: LocalizedText = Field(description="placeholders: {what}, {reopening}")


class TemplatePage(BaseModel):
    items: list[ReasonTemplateOut]
    next: str | None = None
