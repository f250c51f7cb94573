"""``data`` of citizen feedback: satisfaction surveys and complaints, judged against the four
golden rules of the « Vous simplifier Paris » charter."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, TypeAlias

from pydantic import Field, StringConstraints

from schemas.events.base import EventData, Identifier, LocalizedText, Timestamp
from schemas.text import line, text

__all__ = [
    "Channel",
    "ComplaintAcknowledgedData",
    "ComplaintAnsweredData",
    "ComplaintFiledData",
    "FreeText",
    "GoldenRule",
    "Rating",
    "RuleRatings",
    "SurveyData",
]


class GoldenRule(StrEnum):
    """The four golden rules of the « Vous simplifier Paris » charter."""

    INFORMATION = "information"
    """Real-time information on how to access the facility."""
    DELAYS = "delays"
    """The delays to expect (queue, appointment, processing)."""
    ORIENTATION = "orientation"
    """Being sent to the competent service."""
    WELCOME = "welcome"
    """A kind welcome."""


Channel: TypeAlias = Literal["on_site", "web", "phone", "mail", "screen"]
"""Where a survey answer or complaint was collected."""

FreeText: TypeAlias = text(5000)  # type: ignore[valid-type]
"""What a person typed: line breaks kept, other control characters refused (:mod:`schemas.text`)."""


Rating: TypeAlias = Annotated[int, Field(ge=1, le=5)]


class RuleRatings(EventData):
    """A 1–5 rating of each golden rule of the charter; ``None`` when the user had no opinion."""

    information: Rating | None = None
    delays: Rating | None = None
    orientation: Rating | None = None
    welcome: Rating | None = None


class SurveyData(EventData):
    """One answer to the satisfaction survey about a visit.

    ``rating`` is the overall satisfaction (1 = very unhappy … 5 = very happy); ``rules_not_kept``
    lists the charter rules the user says were not honoured (empty when all were).
    """

    response_id: Identifier
    service_id: Identifier | None = None
    channel: Channel
    rating: int = Field(ge=1, le=5)
    rules_not_kept: list[Annotated[GoldenRule, Field(strict=False)]] = Field(default_factory=list)
    comment: FreeText | None = None
    language: Literal["fr", "en"] = "fr"
    rule_ratings: RuleRatings | None = None
    """1–5 per golden rule (a rule left unrated is ``null``)."""
    liked: FreeText | None = None
    """« Ce qui est appréciable » / what was good."""
    to_improve: FreeText | None = None
    """« Ce qui est améliorable » / what could be better."""
    went_wrong: FreeText | None = None
    """« Ce qui ne va pas » / what went wrong."""


class ComplaintFiledData(EventData):
    """A complaint filed by a user: which rule was not kept, at which service, in their words.

    ``contact`` (an e-mail or postal address) is personal data: it never leaves the complaint
    topics and is not stored in the history tables.
    """

    complaint_id: Identifier
    service_id: Identifier | None = None
    rule: Annotated[GoldenRule, Field(strict=False)] | None = None
    channel: Channel
    text: FreeText
    contact: line(320, min_length=3) | None = None  # type: ignore[valid-type]
    language: Literal["fr", "en"] = "fr"
    topic: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")] | None = None
    """Nature of the complaint within its rule (``queue``, ``staff_behaviour`` …, see
    :mod:`schemas.routing`); with ``rule`` and the facility type it picks ``service_id``."""
    answer_due_at: Timestamp | None = None
    """The response délai committed when the complaint was filed (routing table)."""
    procedure_id: Identifier | None = None
    """The démarche complained about (an id of ``parcours.json``). A complaint naming no facility
    is keyed by its procedure: ``subject`` is then this id, and no facility is concerned."""


class ComplaintAcknowledgedData(EventData):
    """The competent service acknowledged a complaint and commits to answer by ``answer_due_at``."""

    complaint_id: Identifier
    service_id: Identifier
    acknowledged_by: Identifier
    answer_due_at: Timestamp
    procedure_id: Identifier | None = None
    """As on the filing: the démarche, ``subject`` when the complaint names no facility."""


class ComplaintAnsweredData(EventData):
    """The competent service answered a complaint."""

    complaint_id: Identifier
    service_id: Identifier
    answered_by: Identifier
    answer: LocalizedText
    procedure_id: Identifier | None = None
    """As on the filing: the démarche, ``subject`` when the complaint names no facility."""
