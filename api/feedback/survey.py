"""The satisfaction survey, the domain rules: which answers are taken, the anti-abuse checks, and
the ``fr.paris.feedback.survey.submitted`` event on ``feedback-surveys`` (keyed by facility) that
the feedback job (:mod:`streams.feedback`) counts.

Under a minute on a phone: one overall rating, a 1–5 rating per golden rule (each may be skipped)
and one optional comment (other clients may still send the three sentences « ce qui est
appréciable / améliorable / ce qui ne va pas »). No account.
Anti-abuse, light: a honeypot field (filled → answered as accepted, dropped, counted), a cooldown
per device and facility (the page sets an anonymous ``pl_device`` cookie), and a budget per client
address shared by all facilities (:mod:`api.feedback.abuse`).
"""

from __future__ import annotations

import datetime as dt
import secrets

import structlog
from fastapi import Request

from api.context import AppContext
from api.errors import UnknownFacilityError
from api.feedback.abuse import (
    DEVICE_COOKIE,
    SURVEY_PER_ADDRESS,
    SURVEY_PER_DEVICE,
    address_identity,
    limit,
)
from api.feedback.errors import InvalidInput
from api.feedback.models import SurveyIn
from api.feedback.runtime import publish
from api.i18n import bilingual
from api.ratelimit import Check, client_address
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import CloudEvent, EventType, make_event

__all__ = ["known_facility", "new_response_id", "submit"]

log = structlog.get_logger("api.feedback")


def new_response_id() -> str:
    return f"srv-{secrets.token_hex(8)}"


def known_facility(ctx: AppContext, facility_id: str) -> Facility:
    """The facility, or 404 :class:`UnknownFacilityError`."""
    if facility_id not in ctx.catalogue:
        raise UnknownFacilityError(facility_id)
    return ctx.catalogue.get(facility_id)


def survey_event(facility: Facility, answer: SurveyIn, now: dt.datetime) -> CloudEvent:
    """The answer as an event; rules rated 1 or 2 count as not kept unless the answer says."""
    ratings = answer.rule_ratings.model_dump(exclude_none=True) if answer.rule_ratings else {}
    not_kept = (
        [r.value for r in answer.rules_not_kept]
        if answer.rules_not_kept is not None
        else [rule for rule, value in ratings.items() if value <= 2]
    )
    return make_event(
        EventType.SURVEY_SUBMITTED,
        facility.id,
        {
            "response_id": new_response_id(),
            "service_id": answer.service_id,
            "channel": answer.channel,
            "rating": answer.rating,
            "rules_not_kept": sorted(not_kept),
            "language": answer.language,
            "rule_ratings": ratings or None,
            "comment": answer.comment,
            "liked": answer.liked,
            "to_improve": answer.to_improve,
            "went_wrong": answer.went_wrong,
        },
        source=f"/feedback/{answer.channel}",
        time=now,
    )


async def submit(
    request: Request, ctx: AppContext, facility: Facility, answer: SurveyIn
) -> CloudEvent | None:
    """Check and publish one answer; ``None`` when the honeypot caught it (thanked, dropped)."""
    if answer.service_id is not None and answer.service_id not in {
        s.service_id for s in facility.services
    }:
        raise InvalidInput({"service_id": bilingual("service inconnu ici")})
    if answer.website:  # the honeypot: a person never sees this field
        log.info("survey_honeypot", facility_id=facility.id)
        return None
    address = address_identity(ctx.settings, client_address(request))
    checks: list[Check] = [("addr", address, SURVEY_PER_ADDRESS)]
    device = request.cookies.get(DEVICE_COOKIE)
    if device:
        device_id = address_identity(ctx.settings, device)
        checks.append(("device", f"{device_id}:{facility.id}", SURVEY_PER_DEVICE))
    await limit(request, "feedback-survey", *checks)
    event = survey_event(facility, answer, dt.datetime.now(PARIS))
    await publish(request, [event], about=event.id)
    log.info("survey_recorded", facility_id=facility.id, event_id=event.id)
    return event
