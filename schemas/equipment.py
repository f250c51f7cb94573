"""Each facility's accessibility equipment, as the catalogue knows it — derived, never invented.

The equipment list comes from the facility's accessibility features (``Facility.accessibility``)
and carries *their* provenance: a feature read from Data ES gives equipment sourced from Data ES
(dataset and row); a feature of the type's typical profile gives equipment marked ``estimated``.
Only features that name a piece of equipment make one:

==========================  ===================  ==========================================
feature                     equipment kind       on the step-free route
==========================  ===================  ==========================================
``elevator``                ``lift``             yes (the lift serves the public floors)
``pool_lift``               ``pool_hoist``       no (into the water, not into the building)
``hearing_loop``            ``hearing_loop``     no
``accessible_toilets``      ``accessible_toilet`` no
==========================  ===================  ==========================================

Other features (``step_free_entrance``, ``wheelchair_accessible``…) describe the building, not a
device that can break: they give the *baseline* of step-free access (:func:`baseline_step_free`).
Equipment ids are stable per facility (``lift``, ``pool-hoist``…), one per kind: the datasets do
not count lifts, so neither do we.
"""

from __future__ import annotations

from functools import cache
from typing import Final, Literal

from pydantic import BaseModel, ConfigDict

from schemas.catalogue import Facility, LocalizedText
from schemas.events import EquipmentKind
from schemas.provenance import ESTIMATED, Provenance

__all__ = [
    "KIND_NAMES",
    "ROUTE_KINDS",
    "CatalogueEquipment",
    "StepFree",
    "baseline_step_free",
    "equipment_of",
    "find_equipment",
]

StepFree = Literal["yes", "no", "unknown"]

ROUTE_KINDS: Final = frozenset(
    {EquipmentKind.LIFT, EquipmentKind.RAMP, EquipmentKind.AUTOMATIC_DOOR}
)
"""Kinds that, when they are on the step-free route, break it when out of service."""

KIND_NAMES: Final[dict[EquipmentKind, LocalizedText]] = {
    EquipmentKind.LIFT: LocalizedText(fr="Ascenseur", en="Lift"),
    EquipmentKind.RAMP: LocalizedText(fr="Rampe d'accès", en="Access ramp"),
    EquipmentKind.POOL_HOIST: LocalizedText(fr="Lève-personne du bassin", en="Pool hoist"),
    EquipmentKind.HEARING_LOOP: LocalizedText(fr="Boucle magnétique", en="Hearing loop"),
    EquipmentKind.ACCESSIBLE_TOILET: LocalizedText(
        fr="Toilettes accessibles", en="Accessible toilets"
    ),
    EquipmentKind.CHANGING_PLACE: LocalizedText(fr="Cabine de change adaptée", en="Changing place"),
    EquipmentKind.AUTOMATIC_DOOR: LocalizedText(fr="Porte automatique", en="Automatic door"),
    EquipmentKind.ESCALATOR: LocalizedText(fr="Escalier mécanique", en="Escalator"),
    EquipmentKind.TACTILE_GUIDANCE: LocalizedText(
        fr="Bandes de guidage podotactiles", en="Tactile guidance"
    ),
}
"""The name of each kind, French first (the catalogue's own bilingual text)."""

_FROM_FEATURE: Final[tuple[tuple[str, EquipmentKind, str], ...]] = (
    ("elevator", EquipmentKind.LIFT, "lift"),
    ("pool_lift", EquipmentKind.POOL_HOIST, "pool-hoist"),
    ("hearing_loop", EquipmentKind.HEARING_LOOP, "hearing-loop"),
    ("accessible_toilets", EquipmentKind.ACCESSIBLE_TOILET, "accessible-toilet"),
)
_STEP_FREE_FEATURES: Final = frozenset({"wheelchair_accessible", "step_free_entrance"})


class CatalogueEquipment(BaseModel):
    """One piece of equipment of a facility, and where we know it from."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    equipment_id: str
    kind: EquipmentKind
    name: LocalizedText
    step_free_route: bool
    """Out of service, it leaves no step-free way in (the facility's only step-free route)."""
    source: Provenance
    """The dataset row of the accessibility feature it comes from, or ``estimated``."""


def _provenance(facility: Facility) -> Provenance:
    return facility.sources.get("accessibility", ESTIMATED)


@cache
def _derived(
    facility_id: str, features: tuple[str, ...], source: Provenance
) -> tuple[CatalogueEquipment, ...]:
    return tuple(
        CatalogueEquipment(
            equipment_id=equipment_id,
            kind=kind,
            name=KIND_NAMES[kind],
            step_free_route=kind in ROUTE_KINDS,
            source=source,
        )
        for feature, kind, equipment_id in _FROM_FEATURE
        if feature in features
    )


def equipment_of(facility: Facility) -> tuple[CatalogueEquipment, ...]:
    """The facility's equipment (see the module docstring), in a stable order."""
    return _derived(facility.id, tuple(facility.accessibility), _provenance(facility))


def find_equipment(facility: Facility, equipment_id: str) -> CatalogueEquipment | None:
    """The facility's equipment of that id, None when it has none."""
    return next((e for e in equipment_of(facility) if e.equipment_id == equipment_id), None)


def baseline_step_free(facility: Facility) -> StepFree:
    """Step-free access as the catalogue says, every equipment working: ``yes`` when a feature
    says the facility can be entered without steps, ``unknown`` otherwise (no dataset says
    ``no``: the absence of a feature is not a fact)."""
    return "yes" if _STEP_FREE_FEATURES.intersection(facility.accessibility) else "unknown"
