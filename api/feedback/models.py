"""The bodies the feedback routes accept and the documents they answer (pydantic)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from api.feedback.contact import check_contact
from api.inputs import AnswerText, ComplaintText, Contact, Honeypot, ShortText, Topic
from schemas.events import GoldenRule, LocalizedText

__all__ = [
    "AnswerIn",
    "AnswerTextIn",
    "CasePage",
    "ComplaintCase",
    "ComplaintIn",
    "ComplaintReceipt",
    "ComplaintStatus",
    "ProcedureOut",
    "RouteOut",
    "RuleRatingsIn",
    "ServiceOut",
    "Status",
    "SurveyIn",
    "SurveyReceipt",
]

Status = Literal["received", "acknowledged", "answered"]
"""A complaint's lifecycle, in order."""
FACILITY_ID_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
PROCEDURE_ID_PATTERN = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _none_if_blank(value: Any) -> Any:
    """A blank text field of a form is an absent one."""
    return None if isinstance(value, str) and not value.strip() else value


# ── The survey ────────────────────────────────────────────────────────────────────────────────


class RuleRatingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    information: int | None = Field(default=None, ge=1, le=5)
    delays: int | None = Field(default=None, ge=1, le=5)
    orientation: int | None = Field(default=None, ge=1, le=5)
    welcome: int | None = Field(default=None, ge=1, le=5)


class SurveyIn(BaseModel):
    """One survey answer as the page (or any client) posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    rating: int = Field(ge=1, le=5, description="Satisfaction globale, 1 (très insatisfait) à 5")
    rule_ratings: RuleRatingsIn | None = None
    rules_not_kept: list[GoldenRule] | None = Field(
        default=None, description="défaut : les règles notées 1 ou 2 / default: rules rated 1–2"
    )
    comment: ShortText | None = Field(
        default=None, description="Un commentaire libre (la page n'en propose qu'un)"
    )
    liked: ShortText | None = Field(default=None, description="Ce qui est appréciable")
    to_improve: ShortText | None = Field(default=None, description="Ce qui est améliorable")
    went_wrong: ShortText | None = Field(default=None, description="Ce qui ne va pas")
    service_id: (
        Annotated[str, Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$", max_length=80)] | None
    ) = None
    channel: Literal["screen", "web", "on_site"] = "web"
    language: Literal["fr", "en"] = "fr"
    website: Honeypot | None = Field(
        default=None, description="Laisser vide (anti-spam) / leave empty"
    )

    @field_validator("comment", "liked", "to_improve", "went_wrong", "website", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)


class SurveyReceipt(BaseModel):
    response_id: str
    received_at: dt.datetime
    message: str


# ── Complaints ────────────────────────────────────────────────────────────────────────────────


class ComplaintIn(BaseModel):
    """A complaint as the form (or any client) posts it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    facility_id: str | None = Field(
        default=None,
        pattern=FACILITY_ID_PATTERN,
        description="équipement (facultatif quand une démarche est nommée)",
    )
    procedure_id: str | None = Field(
        default=None,
        pattern=PROCEDURE_ID_PATTERN,
        max_length=80,
        description="démarche (voir /v1/procedures) : la réclamation va à son service compétent",
    )
    rule: GoldenRule = Field(description="la règle de la charte non respectée")
    topic: Topic | None = Field(default=None, description="nature (voir /routing)")
    text: ComplaintText = Field(description="ce qui s'est passé")
    contact: Contact | None = Field(
        default=None,
        description=(
            "facultatif : adresse électronique, téléphone (01 23 45 67 89, +33 …) ou adresse "
            "postale avec code postal, pour la réponse"
        ),
    )
    channel: Literal["web", "screen", "on_site", "phone", "mail"] = "web"
    language: Literal["fr", "en"] = "fr"
    website: Honeypot | None = Field(default=None, description="laisser vide")

    @field_validator("facility_id", "procedure_id", "contact", "topic", "website", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return _none_if_blank(value)

    @field_validator("contact")
    @classmethod
    def _usable_contact(cls, value: str | None) -> str | None:
        """An e-mail address, a phone number or a postal address the service can answer."""
        return None if value is None else check_contact(value)


class ServiceOut(BaseModel):
    service_id: str
    name: LocalizedText
    full_name: LocalizedText | None = Field(
        default=None,
        description="le nom, sigle de la direction développé / the name, acronym written out",
    )


class RouteOut(BaseModel):
    facility_type: str = Field(description='« * » pour une démarche / "*" for a démarche')
    rule: GoldenRule
    topic: str
    service: ServiceOut
    acknowledge_days: int
    answer_days: int
    procedure_id: str | None = None


class ProcedureOut(BaseModel):
    """The démarche a complaint is about."""

    procedure_id: str
    title: LocalizedText


class ComplaintReceipt(BaseModel):
    reference: str
    status: Literal["received"]
    facility_id: str | None
    procedure: ProcedureOut | None = None
    rule: GoldenRule
    topic: str
    service: ServiceOut
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    answer_due_at: dt.datetime
    answer_days: int
    status_url: str
    status_page: str
    message: str


class ComplaintStatus(BaseModel):
    """What anyone holding the reference may see: no text, no contact, no answer."""

    reference: str
    status: Status
    facility_id: str | None
    facility_name: str | None
    procedure: ProcedureOut | None = None
    rule: GoldenRule
    topic: str
    service: ServiceOut
    filed_at: dt.datetime
    acknowledge_due_at: dt.datetime
    acknowledged_at: dt.datetime | None
    answer_due_at: dt.datetime
    answered_at: dt.datetime | None
    answered_on_time: bool | None
    answer_days: int = Field(description="délai de réponse promis, en jours / committed, days")


class ComplaintCase(ComplaintStatus):
    """The case as the competent service sees it in its inbox."""

    text: str | None
    contact: str | None
    answer: dict[str, str] | None
    channel: str
    language: str
    purged: bool

    def public(self) -> ComplaintStatus:
        """The case without anything personal (text, contact, answer)."""
        return ComplaintStatus.model_validate(
            self.model_dump(include=set(ComplaintStatus.model_fields))
        )


class CasePage(BaseModel):
    items: list[ComplaintCase]
    next: str | None


class AnswerTextIn(BaseModel):
    """A service's answer: French, and English when it has one (:mod:`schemas.text` rule)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    fr: AnswerText
    en: AnswerText | None = None

    def localized(self) -> LocalizedText:
        return LocalizedText(fr=self.fr, en=self.en)


class AnswerIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    answer: AnswerTextIn
