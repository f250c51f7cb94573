"""Every journey names the facilities that serve it, derived from the catalogue at load time."""

from __future__ import annotations

from schemas.catalogue import load_catalogue
from schemas.parcours import load_parcours, with_facilities


def test_no_journey_is_without_facilities_unless_it_is_central_only() -> None:
    """A journey lists the facilities serving it; only one whose steps all happen at a central
    service (online) may list none, and then it names that competent service's phone or url."""
    for parcours in load_parcours():
        if parcours.facility_ids:
            continue
        assert all(step.service.central is not None for step in parcours.steps), parcours
        assert any(c.level == "central" and (c.phone or c.url) for c in parcours.competent_services)
    assert all(p.facility_ids for p in load_parcours())


def test_facilities_are_those_of_the_journeys_types() -> None:
    """Identity documents and marriage at every town hall, the pool journey at the pools,
    lawyers at the legal-advice points; each id once, each in the catalogue."""
    catalogue = load_catalogue()
    by_id = {p.parcours_id: p for p in load_parcours()}
    town_halls = [f.id for f in catalogue.by_type("town_hall")]
    assert by_id["identity-document"].facility_ids == town_halls
    assert by_id["getting-married"].facility_ids == town_halls
    assert by_id["pool-visit"].facility_ids == [f.id for f in catalogue.by_type("pool")]
    assert set(by_id["free-lawyer-consultation"].facility_ids) == {
        f.id for f in catalogue.by_type("legal_advice")
    }
    assert "bibliotheque-forney" not in by_id["library-card"].facility_ids
    for parcours in by_id.values():
        assert len(parcours.facility_ids) == len(set(parcours.facility_ids))
        assert all(
            catalogue.get(fid).type in parcours.facility_types for fid in parcours.facility_ids
        )


def test_facilities_named_in_the_file_come_first_and_stay() -> None:
    """Deriving keeps the ids the file names, then adds the others in catalogue order."""
    catalogue = load_catalogue()
    pool = next(p for p in load_parcours() if p.parcours_id == "pool-visit")
    last = pool.facility_ids[-1]
    named = pool.model_copy(update={"facility_ids": [last]})
    derived = with_facilities(named, catalogue)
    assert derived.facility_ids[0] == last
    assert sorted(derived.facility_ids) == sorted(pool.facility_ids)
