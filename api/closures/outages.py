"""Equipment outages — the shapes and domain rules, without I/O (a lift out of order, a pool hoist
degraded): what agents and devices send, what is stored and answered, the checks and the event.

An outage is the time an equipment is not in service: declared ``out_of_service`` or
``degraded`` (a second declaration while one is in force updates it: status, words, expected
return), ended when the equipment works again. Each change publishes
``fr.paris.facilities.equipment.status_changed`` carrying the equipment's full state on
``facility-equipment``. The clock is a parameter.

Errors a caller can act on::

    ApiError
    ├── NoOutage                409 no_outage
    └── InvalidParameter        422 unknown_equipment, invalid_outage
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.auth import Principal, Role
from api.closures.models import MessageIn, When
from api.errors import ApiError, InvalidParameter
from api.i18n import LANGUAGES, Lang, bilingual, in_language, localized, translator
from schemas.catalogue import Facility
from schemas.clock import PARIS
from schemas.equipment import KIND_NAMES, CatalogueEquipment, equipment_of, find_equipment
from schemas.events import (
    CloudEvent,
    EquipmentKind,
    EquipmentState,
    EquipmentStatusData,
    EventType,
    LocalizedText,
    make_event,
)
from schemas.text import Line

__all__ = [
    "HORIZON",
    "DeclareOutage",
    "EndOutage",
    "NoOutage",
    "Outage",
    "declared",
    "ended",
    "equipment_for",
    "event_for",
    "reporter",
    "updated",
]

HORIZON = dt.timedelta(days=366)
"""How far ahead an expected return may be."""


class Outage(BaseModel):
    """An equipment outage as stored and answered; times in Paris time."""

    outage_id: str
    facility_id: str
    equipment_id: str
    kind: EquipmentKind
    status: Literal["out_of_service", "degraded"]
    area: str | None
    message: LocalizedText
    expected_back_at: dt.datetime | None
    declared_by: str
    declared_at: dt.datetime
    updated_at: dt.datetime
    ended_at: dt.datetime | None
    sequence: int

    def snapshot(self) -> dict[str, Any]:
        """What the audit trail keeps of it."""
        return self.model_dump(mode="json")


class DeclareOutage(BaseModel):
    """An equipment out of service (or degraded) now. Without ``message``, « Ascenseur hors
    service. » (the kind's words); ``kind`` must be the equipment's (``GET /v1/facilities/{id}``
    lists them under ``accessibility.equipment``)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "equipment_id": "lift",
                    "kind": "lift",
                    "status": "out_of_service",
                    "expected_back_at": "2026-06-12T09:00:00+02:00",
                }
            ]
        },
    )

    equipment_id: Line = Field(max_length=100)
    kind: Line = Field(max_length=100, description="lift, ramp, pool_hoist, hearing_loop, …")
    status: Literal["out_of_service", "degraded"] = "out_of_service"
    area: Line | None = Field(default=None, max_length=200)
    message: MessageIn | None = None
    expected_back_at: When | None = None


class EndOutage(BaseModel):
    """The equipment works again; optional words (« Ascenseur réparé, merci de votre patience »)."""

    model_config = ConfigDict(extra="forbid")

    equipment_id: Line = Field(max_length=100)
    message: MessageIn | None = None


class NoOutage(ApiError):
    status = 409
    code = "no_outage"

    def __init__(self, equipment_id: str) -> None:
        super().__init__(
            bilingual(
                "Aucune panne en cours pour l'équipement %(equipment_id)s",
                equipment_id=equipment_id,
            )
        )


def _invalid(message: str, code: str = "invalid_outage") -> InvalidParameter:
    return InvalidParameter(message, code=code)


def equipment_for(facility: Facility, equipment_id: str, kind: str | None) -> CatalogueEquipment:
    """The facility's equipment of that id and kind; 422 naming the unknown id or kind."""
    listed = ", ".join(e.equipment_id for e in equipment_of(facility)) or bilingual("aucun")
    known = find_equipment(facility, equipment_id)
    if known is None:
        raise _invalid(
            bilingual(
                "Équipement inconnu pour %(facility_id)s : %(equipment_id)s "
                "(équipements : %(listed)s)",
                facility_id=facility.id,
                equipment_id=equipment_id,
                listed=listed,
            ),
            "unknown_equipment",
        )
    if kind is not None and kind != known.kind.value:
        kinds = ", ".join(k.value for k in EquipmentKind)
        message = (
            bilingual(
                "Type d'équipement inconnu : %(kind)s (types : %(kinds)s)", kind=kind, kinds=kinds
            )
            if kind not in set(EquipmentKind)
            else bilingual(
                "%(equipment_id)s est de type %(known)s, pas %(kind)s",
                equipment_id=equipment_id,
                known=known.kind.value,
                kind=kind,
            )
        )
        raise _invalid(message, "unknown_equipment")
    return known


def _check_back(back: dt.datetime | None, now: dt.datetime) -> None:
    if back is None:
        return
    if back <= now:
        raise _invalid(bilingual("Le retour prévu (expected_back_at) est déjà passé"))
    if back > now + HORIZON:
        raise _invalid(bilingual("Retour prévu (expected_back_at) trop lointain (1 an au plus)"))


def default_message(kind: EquipmentKind, status: str) -> LocalizedText:
    """« Ascenseur hors service. » / « Ascenseur en service réduit. » in both languages."""
    names = KIND_NAMES[kind]
    words: dict[Lang, str] = {}
    for lang in LANGUAGES:
        tr, what = translator(lang), in_language(names, lang)
        words[lang] = (
            tr.gettext("%(what)s hors service.", what=what)
            if status == "out_of_service"
            else tr.gettext("%(what)s en service réduit.", what=what)
        )
    return LocalizedText.model_validate(words)


def reporter(principal: Principal) -> str:
    """Who the public event says reported it: the role of an agent (their id stays in the
    audit trail), the id of a device (a lift controller is not a person)."""
    if principal.role is Role.DEVICE:
        return f"device:{principal.subject}"
    return principal.role.value


def declared(
    principal: Principal, facility: Facility, body: DeclareOutage, now: dt.datetime
) -> Outage:
    """A new outage (validated)."""
    known = equipment_for(facility, body.equipment_id, body.kind)
    _check_back(body.expected_back_at, now)
    back = body.expected_back_at
    message = body.message.text() if body.message else default_message(known.kind, body.status)
    at = now.astimezone(PARIS)
    return Outage(
        outage_id=uuid.uuid4().hex,
        facility_id=facility.id,
        equipment_id=known.equipment_id,
        kind=known.kind,
        status=body.status,
        area=body.area,
        message=message,
        expected_back_at=back.astimezone(PARIS) if back else None,
        declared_by=principal.subject,
        declared_at=at,
        updated_at=at,
        ended_at=None,
        sequence=0,
    )


def updated(before: Outage, body: DeclareOutage, now: dt.datetime) -> Outage:
    """The outage in force after a new declaration: status, words, area and return replaced."""
    _check_back(body.expected_back_at, now)
    back = body.expected_back_at
    message = body.message.text() if body.message else default_message(before.kind, body.status)
    return before.model_copy(
        update={
            "status": body.status,
            "area": body.area,
            "message": message,
            "expected_back_at": back.astimezone(PARIS) if back else None,
            "updated_at": now.astimezone(PARIS),
            "sequence": before.sequence + 1,
        }
    )


def ended(before: Outage, now: dt.datetime) -> Outage:
    """The outage ending now."""
    at = now.astimezone(PARIS)
    return before.model_copy(update={"ended_at": at, "updated_at": at})


def event_for(
    outage: Outage, principal: Principal, at: dt.datetime, words: MessageIn | None = None
) -> CloudEvent:
    """``equipment.status_changed``: the equipment's state after this change (in service once the
    outage ended)."""
    back_in_service = outage.ended_at is not None
    message = (
        words.text()
        if words is not None
        else LocalizedText.model_validate(localized("En service."))
        if back_in_service
        else outage.message
    )
    data = EquipmentStatusData(
        equipment_id=outage.equipment_id,
        kind=outage.kind,
        status=EquipmentState.IN_SERVICE if back_in_service else EquipmentState(outage.status),
        area=outage.area,
        message=message,
        expected_back_at=None if back_in_service else outage.expected_back_at,
        declared_by=reporter(principal),
    )
    return make_event(
        EventType.EQUIPMENT_STATUS_CHANGED,
        outage.facility_id,
        data,
        source=f"/agents/{outage.facility_id}/equipment/{outage.equipment_id}",
        time=at,
    )
