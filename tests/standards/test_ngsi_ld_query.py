"""The NGSI-LD ``q`` subset, pure: what each term selects, and what is refused."""

from __future__ import annotations

import pytest

from api.ngsi_ld.errors import BadRequestData, OperationNotSupported
from api.ngsi_ld.query import Query, parse_q, parse_query

POOL = {
    "id": "urn:ngsi-ld:PointOfInterest:piscine-pontoise",
    "type": "PointOfInterest",
    "name": "Piscine Pontoise; « 5e | Quartier latin »",
    "category": ["pool"],
    "address": {"postalCode": "75005"},
    "capacity": 250,
    "openState": "open",
}


def _matches(q: str) -> bool:
    return Query(q=parse_q(q)).matches(POOL)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ('category=="pool"', True),
        ('category=="library","pool"', True),
        ('category!="library","museum"', True),
        ('category!="pool"', False),
        ('address[postalCode]=="75005"', True),
        ('address[city]=="Paris"', False),
        ("capacity>200;capacity<=250", True),
        ("capacity==100..200", False),
        ("capacity==200..300", True),
        ('openState=="closed"|capacity>=250', True),
        ('openState=="closed";capacity>=250', False),
        ('name=="Piscine Pontoise; « 5e | Quartier latin »"', True),
        ("openState", True),
        ("peopleCount", False),
        ('capacity>"a"', False),
    ],
)
def test_each_term_selects_what_it_says(q: str, expected: bool) -> None:
    """== any, != none, ranges, compound keys, ; before |, quoted separators kept whole."""
    assert _matches(q) is expected


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"q": "category=pool"}, BadRequestData),
        ({"q": 'category=="pool'}, BadRequestData),
        ({"q": "capacity>1,2"}, BadRequestData),
        ({"q": "(capacity>1)"}, OperationNotSupported),
        ({"q": "x" * 501}, BadRequestData),
        ({"limit": "1001"}, BadRequestData),
        ({"limit": "-1"}, BadRequestData),
        ({"attrs": "name,na me"}, BadRequestData),
        ({"georel": "near;maxDistance==100"}, OperationNotSupported),
    ],
)
def test_unusable_queries_are_refused(params: dict[str, str], error: type[Exception]) -> None:
    """Each unusable parameter is refused with its NGSI-LD error type."""
    with pytest.raises(error):
        parse_query(params, list(params))


def test_types_accept_their_iris_and_options_their_forms() -> None:
    """A type's IRI is its short name; keyValues and format=simplified both simplify."""
    query = parse_query(
        {
            "type": "https://smartdatamodels.org/dataModel.PointOfInterest/PointOfInterest",
            "options": "keyValues",
        },
        ["type", "options"],
    )
    assert query.wants_type("PointOfInterest") and not query.wants_type("CrowdFlowObserved")
    assert query.key_values
    assert parse_query({"format": "simplified"}, ["format"]).key_values
