"""« Près de moi »: where distances are measured from, from what a person gives (pure)."""

from __future__ import annotations

import pytest

from api.nearby import distance_m
from api.pages.near import by_distance, distance_words, origin_from
from schemas.catalogue import Location, load_catalogue

CATALOGUE = load_catalogue()
HALL_15 = next(f for f in CATALOGUE.by_type("town_hall") if f.arrondissement == 15)
CENTRE = next(f for f in CATALOGUE.by_type("town_hall") if f.arrondissement == 3)


@pytest.mark.parametrize(
    "typed", ["15", "15e", "15E", "15eme", "15ème", "75015", "Paris 15", "15e arrondissement"]
)
def test_an_arrondissement_in_any_written_form_is_its_town_hall(typed: str) -> None:
    origin = origin_from(CATALOGUE, at=None, near=typed)
    assert origin is not None and origin.kind == "arrondissement"
    assert origin.location == HALL_15.location and origin.name == HALL_15.name


@pytest.mark.parametrize("typed", ["1er", "2e", "75003", "4"])
def test_the_four_central_arrondissements_share_the_paris_centre_town_hall(typed: str) -> None:
    origin = origin_from(CATALOGUE, at=None, near=typed)
    assert origin is not None and origin.name == CENTRE.name


def test_a_street_of_the_catalogue_is_the_middle_of_its_facilities() -> None:
    origin = origin_from(CATALOGUE, at=None, near="12 Rue de Vaugirard")
    assert origin is not None and origin.kind == "street"
    assert origin.name.lower() == "rue de vaugirard"
    along = [f for f in CATALOGUE if "rue de vaugirard" in f.address.street.lower()]
    assert along and all(distance_m(origin.location, f.location) < 3_000 for f in along)


@pytest.mark.parametrize("typed", ["", "  ", "rue", "rue de la", "21e", "75021", "Lyon", "zzz"])
def test_what_cannot_be_placed_is_not_guessed(typed: str) -> None:
    assert origin_from(CATALOGUE, at=None, near=typed) is None


def test_a_position_is_used_as_given_and_refused_outside_paris() -> None:
    origin = origin_from(CATALOGUE, at="48.8566,2.3522", near="15e")
    assert origin is not None and origin.kind == "position"
    assert origin.location == Location(lat=48.8566, lon=2.3522)
    for outside in ("45.76,4.83", "48.8566", "north", "48.85;2.35", "1e9,2"):
        assert origin_from(CATALOGUE, at=outside, near=None) is None, outside


def test_nearest_first_with_ties_by_name() -> None:
    here = Location(lat=48.8566, lon=2.3522)
    items = [
        {"name": f.name, "catalogue": {"location": f.location.model_dump()}}
        for f in CATALOGUE.by_type("pool")
    ]
    origin = origin_from(CATALOGUE, at=f"{here.lat},{here.lon}", near=None)
    assert origin is not None
    ordered = by_distance(items, origin)
    metres = [m for _, m in ordered]
    assert metres == sorted(metres) and len(ordered) == len(items)
    nearest = min(CATALOGUE.by_type("pool"), key=lambda f: distance_m(here, f.location))
    assert ordered[0][0]["name"] == nearest.name


def test_distances_read_as_people_say_them() -> None:
    assert distance_words(547, "fr") == "550 m"
    assert distance_words(1234, "fr") == "1,2 km"
    assert distance_words(1234, "en") == "1.2 km"
    assert distance_words(4, "fr") == "10 m"
