"""``data`` of live accessibility: the status of one piece of equipment (a lift, a ramp, a pool
hoist…) as an agent declares it or a device (a lift controller) reports it.

One event type, ``fr.paris.facilities.equipment.status_changed``, carries the full state of the
equipment (a status change replaces the previous one, it is not a patch, so replaying it is
harmless): ``out_of_service`` or ``degraded`` opens (or updates) an outage, ``in_service`` ends it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from schemas.events.base import EventData, Identifier, LocalizedText, Timestamp
from schemas.text import Line

__all__ = ["EquipmentKind", "EquipmentState", "EquipmentStatusData"]


class EquipmentKind(StrEnum):
    """What the equipment is (the contract's list; more may be added, none renamed)."""

    LIFT = "lift"
    RAMP = "ramp"
    POOL_HOIST = "pool_hoist"
    HEARING_LOOP = "hearing_loop"
    ACCESSIBLE_TOILET = "accessible_toilet"
    CHANGING_PLACE = "changing_place"
    AUTOMATIC_DOOR = "automatic_door"
    ESCALATOR = "escalator"
    TACTILE_GUIDANCE = "tactile_guidance"


class EquipmentState(StrEnum):
    """Whether the equipment works now."""

    IN_SERVICE = "in_service"
    OUT_OF_SERVICE = "out_of_service"
    DEGRADED = "degraded"


class EquipmentStatusData(EventData):
    """The state of one equipment of the facility (the event ``subject``) from the event ``time``.

    ``expected_back_at`` is when it should work again (an outage past it is *overdue*);
    ``declared_by`` the role (``agent``, ``supervisor``) or the device id that reported it.
    """

    equipment_id: Identifier
    kind: EquipmentKind = Field(strict=False)
    status: EquipmentState = Field(strict=False)
    area: Line | None = None
    message: LocalizedText
    expected_back_at: Timestamp | None = None
    declared_by: Identifier
