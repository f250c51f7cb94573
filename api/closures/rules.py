"""The closures' domain rules, without I/O: what a declaration, an update and an end make of a
closure, the checks they pass (scope, times, the cap on closures in force, state) and the
CloudEvents they publish. The clock is a parameter.

Errors a caller can act on::

    ApiError
    ├── UnknownClosure          404 unknown_closure
    ├── ClosureAlreadyEnded     409 closure_ended
    ├── TooManyClosures         409 too_many_closures
    └── InvalidParameter        422 invalid_closure (:func:`invalid`)
"""

from __future__ import annotations

import datetime as dt
import uuid

from api.auth import Principal, Role
from api.closures.models import Closure, DeclareClosure, MessageIn, UpdateClosure
from api.errors import ApiError, InvalidParameter
from api.i18n import bilingual
from api.templates import declared_label, render_message
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.events import (
    AreaScope,
    ClosureData,
    ClosureEndData,
    CloudEvent,
    EventType,
    LocalizedText,
    ServiceScope,
    make_event,
)

__all__ = [
    "HORIZON",
    "MAX_MESSAGE",
    "PAST_START",
    "ClosureAlreadyEnded",
    "TooManyClosures",
    "UnknownClosure",
    "check_room",
    "check_scope",
    "check_times",
    "declared",
    "end_event",
    "ended",
    "event_source",
    "invalid",
    "require_open",
    "state_event",
    "updated",
]

MAX_MESSAGE = 500
"""Characters of a closure message, per language."""
PAST_START = dt.timedelta(hours=24)
"""A closure may be declared up to this long after it started."""
HORIZON = dt.timedelta(days=366)
"""How far ahead a start or an expected reopening may be."""


class UnknownClosure(ApiError):
    status = 404
    code = "unknown_closure"

    def __init__(self, closure_id: str) -> None:
        super().__init__(bilingual("Fermeture inconnue : %(closure_id)s", closure_id=closure_id))


class ClosureAlreadyEnded(ApiError):
    status = 409
    code = "closure_ended"

    def __init__(self, closure_id: str) -> None:
        super().__init__(
            bilingual("Fermeture déjà terminée : %(closure_id)s", closure_id=closure_id)
        )


class TooManyClosures(ApiError):
    status = 409
    code = "too_many_closures"

    def __init__(self, facility_id: str, most: int) -> None:
        super().__init__(
            bilingual(
                "Trop de fermetures en cours pour %(facility_id)s (au plus %(most)s) : "
                "terminez-en une d'abord",
                facility_id=facility_id,
                most=most,
            )
        )


def invalid(message: str) -> InvalidParameter:
    """422 ``invalid_closure`` with ``message`` (a :func:`~api.i18n.bilingual` text)."""
    return InvalidParameter(message, code="invalid_closure")


# ── checks ────────────────────────────────────────────────────────────────────────────────────


def check_times(
    starts_at: dt.datetime, reopening: dt.datetime | None, now: dt.datetime, *, new: bool
) -> None:
    """A start at most 24 h past (when declaring) and a year ahead; a reopening after the start,
    not past, at most a year after the start."""
    if new and starts_at < now - PAST_START:
        raise invalid(bilingual("Le début (starts_at) ne peut précéder maintenant de plus de 24 h"))
    if starts_at > now + HORIZON:
        raise invalid(bilingual("Début (starts_at) trop lointain (1 an au plus)"))
    if reopening is not None:
        if reopening <= starts_at:
            raise invalid(
                bilingual(
                    "La réouverture prévue (expected_reopening_at) doit suivre le début (starts_at)"
                )
            )
        if reopening <= now:
            raise invalid(
                bilingual("La réouverture prévue (expected_reopening_at) est déjà passée")
            )
        if reopening > starts_at + HORIZON:
            raise invalid(
                bilingual(
                    "Réouverture prévue (expected_reopening_at) trop lointaine (1 an au plus après le début)"
                )
            )


def check_scope(facility: Facility, scope: object) -> None:
    """An area or a service the facility has."""
    if isinstance(scope, AreaScope) and scope.name not in facility.areas:
        known = ", ".join(facility.areas) or bilingual("aucun")
        raise invalid(
            bilingual(
                "Espace inconnu pour %(facility_id)s : %(name)s (espaces : %(known)s)",
                facility_id=facility.id,
                name=scope.name,
                known=known,
            )
        )
    if isinstance(scope, ServiceScope) and scope.service_id not in {
        s.service_id for s in facility.services
    }:
        known = ", ".join(s.service_id for s in facility.services)
        raise invalid(
            bilingual(
                "Service inconnu pour %(facility_id)s : %(service_id)s (services : %(known)s)",
                facility_id=facility.id,
                service_id=scope.service_id,
                known=known,
            )
        )


def check_room(facility_id: str, in_force: int, most: int) -> None:
    """409 when the facility already has ``most`` closures in force (``max_active_closures``)."""
    if in_force >= most:
        raise TooManyClosures(facility_id, most)


def require_open(closure: Closure) -> None:
    """An ended closure can be neither updated nor ended again."""
    if closure.ended_at is not None:
        raise ClosureAlreadyEnded(closure.closure_id)


# ── what a change makes of a closure ──────────────────────────────────────────────────────────


def _text(given: MessageIn | None) -> LocalizedText | None:
    return given.text() if given is not None else None


def declared(
    principal: Principal, facility: Facility, body: DeclareClosure, now: dt.datetime
) -> tuple[Closure, bool]:
    """The closure a declaration describes (validated), and whether its message is templated."""
    starts_at = body.starts_at or now
    check_scope(facility, body.scope)
    check_times(starts_at, body.expected_reopening_at, now, new=True)
    message = _text(body.message)
    templated = message is None
    if message is None:
        message = render_message(body.reason, facility, body.scope, body.expected_reopening_at, now)
    reopening = body.expected_reopening_at
    closure = Closure(
        closure_id=uuid.uuid4().hex,
        facility_id=facility.id,
        scope=body.scope,
        reason=body.reason,
        message=message,
        starts_at=starts_at.astimezone(PARIS),
        expected_reopening_at=reopening.astimezone(PARIS) if reopening else None,
        ended_at=None,
        declared_by=principal.subject,
        declared_at=now.astimezone(PARIS),
        updated_at=now.astimezone(PARIS),
        sequence=0,
        declared_label=declared_label(now, now),
    )
    return closure, templated


def updated(
    before: Closure, templated: bool, facility: Facility, body: UpdateClosure, now: dt.datetime
) -> tuple[Closure, bool]:
    """The closure after an update (fields absent from the body kept), and whether its message
    is still templated: a given message is the agent's own, a templated one is re-rendered."""
    fields = body.model_fields_set
    reopening = (
        body.expected_reopening_at
        if "expected_reopening_at" in fields
        else before.expected_reopening_at
    )
    reason = body.reason or before.reason
    check_times(before.starts_at, reopening, now, new=False)
    message = _text(body.message)
    if message is not None:
        templated = False
    elif templated:
        message = render_message(reason, facility, before.scope, reopening, now)
    else:
        message = before.message
    after = before.model_copy(
        update={
            "reason": reason,
            "message": message,
            "expected_reopening_at": reopening.astimezone(PARIS) if reopening else None,
            "updated_at": now.astimezone(PARIS),
            "sequence": before.sequence + 1,
        }
    )
    return after, templated


def ended(before: Closure, now: dt.datetime) -> Closure:
    """The closure ending now."""
    return before.model_copy(
        update={"ended_at": now.astimezone(PARIS), "updated_at": now.astimezone(PARIS)}
    )


# ── events ────────────────────────────────────────────────────────────────────────────────────


def event_source(closure: Closure) -> str:
    return f"/agents/{closure.facility_id}"


def state_event(kind: EventType, closure: Closure, role: Role, at: dt.datetime) -> CloudEvent:
    """``closure.declared`` / ``closure.updated``: the closure as it now stands."""
    data = ClosureData(
        closure_id=closure.closure_id,
        scope=closure.scope,
        reason=closure.reason,
        message=closure.message,
        starts_at=closure.starts_at,
        expected_reopening_at=closure.expected_reopening_at,
        declared_by=role.value,
    )
    return make_event(kind, closure.facility_id, data, source=event_source(closure), time=at)


def end_event(closure: Closure, role: Role, words: MessageIn | None, at: dt.datetime) -> CloudEvent:
    """``closure.ended``, with the agent's closing words if any."""
    data = ClosureEndData(closure_id=closure.closure_id, ended_by=role.value, message=_text(words))
    return make_event(
        EventType.CLOSURE_ENDED, closure.facility_id, data, source=event_source(closure), time=at
    )
