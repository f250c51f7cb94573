"""The complaint routing table: complete, unambiguous, most specific route first, Paris délais."""

from __future__ import annotations

import datetime as dt

import pytest

from schemas.catalogue import FACILITY_TYPES, load_catalogue
from schemas.clock import PARIS
from schemas.events import GoldenRule
from schemas.routing import RoutingError, RoutingTable, _TableFile, due_at, load_routing


def test_every_facility_type_and_rule_and_topic_has_a_competent_service() -> None:
    """The coverage table has a service and a délai for each type × rule × topic."""
    table = load_routing()
    cells = table.coverage()
    assert set(cells) == {(t, r) for t in FACILITY_TYPES for r in GoldenRule}
    for (facility_type, rule), routes in cells.items():
        assert set(routes) == set(table.topics[rule]), (facility_type, rule)
        for route in routes.values():
            assert route.service.service_id in table.services
            assert 1 <= route.answer_days <= 90
            assert route.acknowledge_days <= route.answer_days
    print("\n" + table.coverage_markdown())


def test_every_catalogue_facility_resolves_for_every_rule() -> None:
    """A complaint about any facility of the catalogue, on any rule, finds its service."""
    table = load_routing()
    for facility in load_catalogue():
        for rule in GoldenRule:
            assert table.resolve(facility.type, rule, None).topic == "other"


def test_the_most_specific_route_wins() -> None:
    """A city-wide topic route beats a type's catch-all; a type's topic route beats both."""
    table = load_routing()
    assert table.resolve("pool", "welcome", "staff_behaviour").service.service_id == "djs-piscines"
    online = table.resolve("pool", "information", "online_info")
    assert online.service.service_id == "dicom-information"
    safety = table.resolve("pool", "welcome", "safety")
    assert (safety.service.service_id, safety.answer_days) == ("djs-piscines", 5)
    assert table.resolve("library", "welcome", "safety").answer_days == 15


def test_a_topic_of_another_rule_is_refused() -> None:
    """« queue » is a topic of the délais rule, not of the welcome rule."""
    with pytest.raises(RoutingError, match="not a topic of rule 'welcome'"):
        load_routing().resolve("pool", "welcome", "queue")


def _raw(routes: list[dict[str, object]]) -> _TableFile:
    base = load_routing()
    return _TableFile.model_validate(
        {
            "version": "t",
            "note": "t",
            "topics": {
                r.value: {k: v.model_dump() for k, v in base.topics[r].items()} for r in GoldenRule
            },
            "services": {
                sid: s.model_dump(exclude={"service_id"}) for sid, s in base.services.items()
            },
            "routes": routes,
        }
    )


def test_a_table_with_a_gap_or_a_tie_is_refused_when_it_loads() -> None:
    """A missing facility type, or two equally specific routes, stop the table from loading."""
    every_type = [
        {"facility_type": t, "rule": "*", "topic": "*", "service": "ddct-mairies"}
        for t in FACILITY_TYPES
    ]
    RoutingTable(_raw(every_type))
    with pytest.raises(RoutingError, match=f"no route for {FACILITY_TYPES[-1]}"):
        RoutingTable(_raw(every_type[:-1]))
    tie = [
        *every_type,
        {"facility_type": "pool", "rule": "delays", "topic": "*", "service": "djs-piscines"},
        {"facility_type": "pool", "rule": "delays", "topic": "*", "service": "dicom-information"},
    ]
    with pytest.raises(RoutingError, match="equally specific"):
        RoutingTable(_raw(tie))
    with pytest.raises(RoutingError, match="unknown service"):
        RoutingTable(_raw([*every_type, {"facility_type": "pool", "rule": "*", "topic": "*",
                                         "service": "nobody"}]))  # fmt: skip


def test_due_dates_are_end_of_paris_day_across_dst() -> None:
    """Fifteen days after 20 March 23:30 (UTC+1) ends 4 April 23:59:59 Paris time (UTC+2)."""
    filed = dt.datetime(2025, 3, 20, 23, 30, tzinfo=PARIS)
    due = due_at(filed, 15)
    assert due == dt.datetime(2025, 4, 4, 23, 59, 59, tzinfo=PARIS)
    assert due.utcoffset() == dt.timedelta(hours=2)
    utc_late = dt.datetime(2025, 3, 20, 23, 30, tzinfo=dt.UTC)  # already 21 March in Paris
    assert due_at(utc_late, 1).date() == dt.date(2025, 3, 22)
    with pytest.raises(ValueError, match="naive"):
        due_at(dt.datetime(2025, 3, 20), 1)
