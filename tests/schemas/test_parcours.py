"""The charter's user journeys: linked to real facilities, services and competent contacts."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pydantic import ValidationError

from schemas.catalogue import UnknownFacility, load_catalogue
from schemas.parcours import (
    InvalidParcours,
    Parcours,
    check_against_catalogue,
    load_parcours,
    parcours_for_facility,
)

CHARTER_PARCOURS = {
    "bulky-items",
    "residential-parking",
    "identity-document",
    "change-of-use",
    "pool-visit",
    "leisure-centre-holidays",
    "conservatory-beginner",
    "municipal-financial-aid",
    "social-housing-application",
    "free-lawyer-consultation",
    "getting-married",
    "apa",
    "association-grant",
    "parking-fine-appeal",
}
OTHER_PARCOURS = {"library-card", "sports-booking"}


def _by_id(parcours_id: str) -> Parcours:
    return next(p for p in load_parcours() if p.parcours_id == parcours_id)


def _json(parcours_id: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(_by_id(parcours_id).model_dump_json())
    return document


def _validate(document: dict[str, Any]) -> Parcours:
    return Parcours.model_validate_json(json.dumps(document))


def test_every_charter_parcours_is_described() -> None:
    """The fourteen journeys of the charter are all there, each once."""
    ids = [p.parcours_id for p in load_parcours()]
    assert set(ids) == CHARTER_PARCOURS | OTHER_PARCOURS
    assert len(ids) == len(set(ids))


def test_titles_and_summaries_are_french_first_and_bilingual() -> None:
    """Each parcours and each step has a French and an English title."""
    for parcours in load_parcours():
        assert parcours.title.fr and parcours.title.en
        assert parcours.summary.fr and parcours.summary.en
        for step in parcours.steps:
            assert step.title.fr and step.title.en


def test_steps_point_at_services_every_facility_of_the_type_offers() -> None:
    """A step at a facility type names a service (and procedure) that each such facility has."""
    catalogue = load_catalogue()
    checked = 0
    for parcours in load_parcours():
        for step in parcours.steps:
            ref = step.service
            if ref.facility_type is None:
                assert ref.central is not None
                continue
            assert ref.facility_type in parcours.facility_types
            assert ref.service_id is not None
            applicable = [f for f in catalogue.by_type(ref.facility_type) if parcours.applies_to(f)]
            assert applicable
            for facility in applicable:
                service = facility.service(ref.service_id)
                if ref.procedure_id is not None:
                    assert ref.procedure_id in service.procedures
                    assert facility.procedure(ref.procedure_id)
                if step.appointment:
                    assert service.bookable
                checked += 1
    assert checked > 100


def test_every_local_competent_service_exists_at_each_facility() -> None:
    """For each need a parcours sends users to a local service for, every facility has it."""
    catalogue = load_catalogue()
    for parcours in load_parcours():
        assert {c.need for c in parcours.competent_services} >= {"complaint"}
        for competent in parcours.competent_services:
            if competent.level == "local":
                assert competent.facility_type is not None
                for facility in catalogue.by_type(competent.facility_type):
                    if not parcours.applies_to(facility):
                        continue
                    assert facility.contacts_for(competent.need), (
                        parcours.parcours_id,
                        facility.id,
                        competent.need,
                    )
            else:
                assert competent.phone or competent.url


def test_parcours_referencing_a_missing_service_is_rejected() -> None:
    """A parcours naming a service the pools do not offer fails the catalogue check."""
    document = _json("pool-visit")
    document["steps"][1]["service"]["service_id"] = "sauna"
    with pytest.raises(InvalidParcours, match="no pool offers 'sauna'"):
        check_against_catalogue(_validate(document), load_catalogue())


def test_parcours_referencing_an_unknown_facility_is_rejected() -> None:
    """A parcours pointing at an id absent from the catalogue fails the catalogue check."""
    document = _json("pool-visit")
    document["facility_ids"] = ["piscine-atlantide"]
    with pytest.raises(InvalidParcours, match="unknown facility 'piscine-atlantide'"):
        check_against_catalogue(_validate(document), load_catalogue())


def test_parcours_needing_a_contact_the_facilities_lack_is_rejected() -> None:
    """Sending users to a local 'billing' desk that pools do not have is caught."""
    document = _json("pool-visit")
    document["competent_services"][0]["need"] = "case_follow_up"
    with pytest.raises(InvalidParcours, match="no contact for the 'case_follow_up' need"):
        check_against_catalogue(_validate(document), load_catalogue())


def test_parcours_with_an_appointment_at_a_non_bookable_service_is_rejected() -> None:
    """An appointment step at a service that publishes no slots is an inconsistency."""
    document = _json("pool-visit")
    document["steps"][1]["appointment"] = True
    document["appointment_delay_days"] = 1
    with pytest.raises(InvalidParcours, match="not bookable"):
        check_against_catalogue(_validate(document), load_catalogue())


def test_delays_add_up() -> None:
    """The total délai is the sum of the step délais; the next-step délai is the first one."""
    for parcours in load_parcours():
        delays = [s.delay_days for s in parcours.steps[:-1]]
        if None not in delays:
            assert parcours.total_delay.days == sum(d for d in delays if d is not None)
        assert parcours.next_step_delay_days == parcours.steps[0].delay_days
        assert parcours.steps[-1].delay_days is None


def test_inconsistent_delays_are_refused() -> None:
    """A total, next-step or appointment délai that contradicts the steps does not load."""
    document = _json("identity-document")
    document["total_delay"]["days"] = 10
    with pytest.raises(ValidationError, match="sum of the steps"):
        _validate(document)
    document = _json("identity-document")
    document["next_step_delay_days"] = 3
    with pytest.raises(ValidationError, match="next_step_delay_days"):
        _validate(document)
    document = _json("pool-visit")
    document["appointment_delay_days"] = 2
    with pytest.raises(ValidationError, match="appointment_delay_days"):
        _validate(document)


def test_legal_deadlines_are_maxima_and_not_illustrative() -> None:
    """Deadlines set by law are shown as maxima and not flagged as illustrative."""
    assert _by_id("parking-fine-appeal").total_delay.model_dump() == {"kind": "max", "days": 60}
    assert _by_id("apa").total_delay.model_dump() == {"kind": "max", "days": 60}
    housing = _by_id("social-housing-application")
    assert housing.total_delay.model_dump() == {"kind": "max", "days": 30}
    for parcours_id in ("parking-fine-appeal", "apa", "social-housing-application"):
        assert "total_delay" not in _by_id(parcours_id).illustrative


def test_illustrative_entries_name_existing_steps() -> None:
    """Each illustrative step délai refers to a step of the same parcours."""
    for parcours in load_parcours():
        step_ids = {s.step_id for s in parcours.steps}
        for path in parcours.illustrative:
            parts = path.split(".")
            if parts[0] == "steps":
                assert parts[1] in step_ids, (parcours.parcours_id, path)


def test_an_illustrative_entry_must_name_a_field() -> None:
    """A typo in ``illustrative`` is refused."""
    document = _json("apa")
    document["illustrative"] = ["total_dleay"]
    with pytest.raises(ValidationError, match="does not name a parcours field"):
        _validate(document)


def test_parcours_for_a_pool_is_going_to_the_pool() -> None:
    """A pool's card proposes the 'going to the pool' journey and nothing unrelated."""
    assert [p.parcours_id for p in parcours_for_facility("piscine-pontoise")] == ["pool-visit"]


def test_parcours_for_a_town_hall_include_identity_and_marriage() -> None:
    """A town hall's card proposes identity documents, marriage and social housing."""
    ids = {p.parcours_id for p in parcours_for_facility("mairie-15")}
    assert {"identity-document", "getting-married", "social-housing-application"} <= ids
    assert "pool-visit" not in ids


def test_every_facility_type_has_at_least_one_parcours() -> None:
    """Every kind of facility of the charter's démarches leads to at least one journey."""
    catalogue = load_catalogue()
    charter_types = ("pool", "town_hall", "library", "conservatory", "sports_centre")
    charter_types += ("leisure_centre", "social_services", "legal_advice")
    for facility_type in charter_types:
        facility = catalogue.by_type(facility_type)[0]
        assert parcours_for_facility(facility.id), facility_type


def test_borrowing_is_not_proposed_at_a_library_that_does_not_lend() -> None:
    """The heritage Forney library gets no borrowing journey; a lending library does."""
    assert "library-card" not in {
        p.parcours_id for p in parcours_for_facility("bibliotheque-forney")
    }
    assert [p.parcours_id for p in parcours_for_facility("bibliotheque-buffon")] == ["library-card"]


def test_parcours_for_an_unknown_facility_raises() -> None:
    """Asking for the journeys of an unknown facility is an UnknownFacility error."""
    with pytest.raises(UnknownFacility):
        parcours_for_facility("mairie-21")


def test_a_central_step_cannot_also_name_a_facility_service() -> None:
    """A step is either at a facility type's service or at a named central service."""
    document = _json("bulky-items")
    document["steps"][0]["service"]["service_id"] = "reception"
    with pytest.raises(ValidationError, match="central"):
        _validate(document)


def test_load_parcours_returns_a_fresh_list_each_time() -> None:
    """Callers may sort or filter the list they get without affecting others."""
    first = load_parcours()
    first.clear()
    assert len(load_parcours()) == len(CHARTER_PARCOURS | OTHER_PARCOURS)
