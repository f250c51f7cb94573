"""User journeys ("parcours") of the charter, as data linked to facilities and services.

A parcours is what a citizen goes through to get something done — a passport, a first social
housing application, a swim — as ordered steps, each pointing at the facility type and service
where it happens (or at a central service when it happens online or in a central office), with
the délais to expect and the competent service for each need::

    for parcours in parcours_for_facility("mairie-15"):
        parcours.title.fr, parcours.total_delay.days

Data: ``schemas/data/parcours.json``. :func:`load_parcours` checks every reference against the
catalogue (facility types and ids, services, procedures, contact needs) and raises
:class:`InvalidParcours` on the first one that does not hold. Figures that are not official are
named in each parcours' ``illustrative`` list (dotted paths such as ``"steps.appointment.delay_days"``
or ``"total_delay"``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, field_validator, model_validator

from schemas.catalogue import (
    Catalogue,
    ContactNeed,
    Facility,
    FacilityType,
    LocalizedText,
    ServiceLevel,
    Slug,
    load_catalogue,
)
from schemas.errors import ContractError

__all__ = [
    "CompetentService",
    "InvalidParcours",
    "Parcours",
    "ServiceRef",
    "Step",
    "TotalDelay",
    "check_against_catalogue",
    "load_parcours",
    "parcours_for_facility",
    "with_facilities",
]

_MODEL_CONFIG = ConfigDict(strict=True, frozen=True, extra="forbid")


class InvalidParcours(ContractError):
    """A parcours that refers to something the catalogue does not have."""

    def __init__(self, parcours_id: str, message: str) -> None:
        super().__init__(f"parcours {parcours_id!r}: {message}")
        self.parcours_id = parcours_id


class ServiceRef(BaseModel):
    """Where a step happens: a service of a facility type, or a central service by name."""

    model_config = _MODEL_CONFIG

    facility_type: FacilityType | None = None
    service_id: Slug | None = None
    procedure_id: Slug | None = None
    central: LocalizedText | None = None
    """Name of the central (online, city-wide) service when no facility type is involved."""

    @model_validator(mode="after")
    def _one_place(self) -> ServiceRef:
        if self.facility_type is None:
            if self.central is None or self.service_id is not None:
                raise ValueError("a central step names its service in 'central' only")
        elif self.service_id is None:
            raise ValueError("a step at a facility type names the service_id")
        if self.procedure_id is not None and self.service_id is None:
            raise ValueError("procedure_id needs the service_id that handles it")
        return self


class Step(BaseModel):
    """One step of a parcours."""

    model_config = _MODEL_CONFIG

    step_id: Slug
    title: LocalizedText
    delay_days: int | None = Field(ge=0)
    """Days from this step to the next one (None on the last step, or when unknown)."""
    appointment: bool
    """The step takes place on an appointment."""
    service: ServiceRef


class TotalDelay(BaseModel):
    """Days from the first step to the last: a mean, or a maximum (a legal deadline)."""

    model_config = _MODEL_CONFIG

    kind: Literal["mean", "max"]
    days: int = Field(ge=0)


class CompetentService(BaseModel):
    """The service competent for one need of the parcours (charter rule 3)."""

    model_config = _MODEL_CONFIG

    need: ContactNeed
    service_name: LocalizedText
    level: ServiceLevel
    facility_type: FacilityType | None = None
    facility_ids: list[Slug] = []
    phone: str | None = None
    url: str | None = Field(default=None, pattern=r"^https://")

    @model_validator(mode="after")
    def _located(self) -> CompetentService:
        if self.level == "local" and self.facility_type is None and not self.facility_ids:
            raise ValueError("a local competent service names a facility_type or facility_ids")
        if self.level == "central" and self.phone is None and self.url is None:
            raise ValueError("a central competent service gives a phone or a url")
        return self


class Parcours(BaseModel):
    """A user journey: ordered steps, expected délais and the competent services."""

    model_config = _MODEL_CONFIG

    parcours_id: Slug
    title: LocalizedText
    summary: LocalizedText
    steps: list[Step] = Field(min_length=1)
    total_delay: TotalDelay
    next_step_delay_days: int | None = Field(ge=0)
    """Days between the first step and the second — what to expect right after starting."""
    appointment_delay_days: int | None = Field(ge=0)
    """Usual wait for the appointment the parcours needs; None when it needs none."""
    competent_services: list[CompetentService] = Field(min_length=1)
    facility_types: list[FacilityType] = []
    facility_ids: list[Slug] = []
    illustrative: list[str] = []

    @field_validator("illustrative")
    @classmethod
    def _illustrative_names_fields(cls, value: list[str]) -> list[str]:
        for path in value:
            if path.split(".")[0] not in cls.model_fields:
                raise ValueError(f"illustrative entry {path!r} does not name a parcours field")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Parcours:
        step_ids = [step.step_id for step in self.steps]
        if len(step_ids) != len(set(step_ids)):
            raise ValueError("a step_id is listed twice")
        if self.steps[-1].delay_days is not None:
            raise ValueError("the last step has no next step, so no delay_days")
        first_delay = self.steps[0].delay_days if len(self.steps) > 1 else None
        if self.next_step_delay_days != first_delay:
            raise ValueError(
                f"next_step_delay_days ({self.next_step_delay_days}) differs from the first "
                f"step's delay_days ({first_delay})"
            )
        has_appointment = any(step.appointment for step in self.steps)
        if has_appointment != (self.appointment_delay_days is not None):
            raise ValueError(
                "appointment_delay_days is given exactly when a step is on appointment"
            )
        delays = [step.delay_days for step in self.steps[:-1]]
        known = sum(d for d in delays if d is not None)
        if None not in delays and self.total_delay.days != known:
            raise ValueError(
                f"total_delay ({self.total_delay.days} days) is not the sum of the steps' "
                f"delays ({known} days)"
            )
        if self.total_delay.days < known:
            raise ValueError("total_delay is shorter than the steps' known delays")
        types = set(self.facility_types)
        for step in self.steps:
            where = step.service.facility_type
            if where is not None and where not in types:
                raise ValueError(f"step {step.step_id!r} is at a {where} not in facility_types")
        for competent in self.competent_services:
            if competent.facility_type is not None and competent.facility_type not in types:
                raise ValueError(
                    f"competent service for {competent.need!r} is at a "
                    f"{competent.facility_type} not in facility_types"
                )
        return self

    def applies_to(self, facility: Facility) -> bool:
        """Whether the parcours goes through this facility.

        It does when the facility is named in ``facility_ids``, or when it is of one of the
        ``facility_types`` and offers every service the steps use at that type (a heritage
        library that lends nothing is not proposed the borrowing journey).
        """
        if facility.id in self.facility_ids:
            return True
        if facility.type not in self.facility_types:
            return False
        offered = {service.service_id for service in facility.services}
        return all(
            step.service.service_id in offered
            for step in self.steps
            if step.service.facility_type == facility.type
        )


def check_against_catalogue(parcours: Parcours, catalogue: Catalogue) -> None:
    """Raise :class:`InvalidParcours` unless every reference of ``parcours`` holds.

    Facility ids exist; each facility type has facilities offering the steps' services; at
    every facility the parcours applies to, each step's service handles the step's procedure
    and is bookable when the step is on appointment, and each local competent service has a
    contact for its need.
    """
    pid = parcours.parcours_id
    referenced_ids = list(parcours.facility_ids)
    for competent in parcours.competent_services:
        referenced_ids += competent.facility_ids
    for facility_id in referenced_ids:
        if facility_id not in catalogue:
            raise InvalidParcours(pid, f"unknown facility {facility_id!r}")
    for step in parcours.steps:
        ref = step.service
        if ref.facility_type is None:
            continue
        if not any(
            ref.service_id in {s.service_id for s in facility.services}
            for facility in catalogue.by_type(ref.facility_type)
        ):
            raise InvalidParcours(
                pid, f"step {step.step_id!r}: no {ref.facility_type} offers {ref.service_id!r}"
            )
    applicable = [facility for facility in catalogue if parcours.applies_to(facility)]
    for facility_type in parcours.facility_types:
        if not any(facility.type == facility_type for facility in applicable):
            raise InvalidParcours(pid, f"no {facility_type} in the catalogue fits the parcours")
    for facility in applicable:
        for step in parcours.steps:
            ref = step.service
            if ref.facility_type != facility.type or ref.service_id is None:
                continue
            offered = facility.service(ref.service_id)
            if ref.procedure_id is not None and ref.procedure_id not in offered.procedures:
                raise InvalidParcours(
                    pid,
                    f"step {step.step_id!r}: service {ref.service_id!r} of {facility.id} does "
                    f"not handle {ref.procedure_id!r}",
                )
            if step.appointment and not offered.bookable:
                raise InvalidParcours(
                    pid,
                    f"step {step.step_id!r} is on appointment but {ref.service_id!r} of "
                    f"{facility.id} is not bookable",
                )
        for competent in parcours.competent_services:
            concerned = facility.id in competent.facility_ids or (
                facility.type == competent.facility_type
            )
            if (
                competent.level == "local"
                and concerned
                and not facility.contacts_for(competent.need)
            ):
                raise InvalidParcours(
                    pid, f"{facility.id} has no contact for the {competent.need!r} need"
                )


def with_facilities(parcours: Parcours, catalogue: Catalogue) -> Parcours:
    """The parcours with ``facility_ids`` naming every facility of ``catalogue`` it goes through.

    The data file names facility types, not the 1,000+ facilities: the ids are derived here, at
    load time, by :meth:`Parcours.applies_to` (ids the file names stay; then catalogue order), so
    a facility added to the catalogue is proposed without editing ``parcours.json``.
    """
    named = list(parcours.facility_ids)
    derived = [f.id for f in catalogue if f.id not in named and parcours.applies_to(f)]
    return parcours.model_copy(update={"facility_ids": named + derived})


_PARCOURS = TypeAdapter(list[Parcours])


@cache
def _load() -> tuple[Parcours, ...]:
    raw = resources.files("schemas").joinpath("data", "parcours.json").read_bytes()
    loaded = _PARCOURS.validate_json(raw)
    ids = [parcours.parcours_id for parcours in loaded]
    duplicates = {pid for pid in ids if ids.count(pid) > 1}
    if duplicates:
        raise InvalidParcours(sorted(duplicates)[0], "listed twice")
    catalogue = load_catalogue()
    for parcours in loaded:
        check_against_catalogue(parcours, catalogue)
    return tuple(with_facilities(parcours, catalogue) for parcours in loaded)


def load_parcours() -> list[Parcours]:
    """Every parcours of the charter, checked against the catalogue, ``facility_ids`` filled by
    :func:`with_facilities` (read once, then cached)."""
    return list(_load())


def parcours_for_facility(facility_id: str) -> list[Parcours]:
    """The parcours that go through this facility; :class:`UnknownFacility` for a bad id."""
    facility = load_catalogue().get(facility_id)
    return [p for p in _load() if p.applies_to(facility)]
