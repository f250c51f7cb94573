"""The directory's rules (api/pages/directory.py), pure: what a filter keeps, what a search finds,
and where a search for a procedure leads."""

from __future__ import annotations

from typing import Any

from api.pages.directory import Filters, crowd_level, hints_for, procedure_hints, search_text
from schemas.catalogue import load_catalogue

CATALOGUE = load_catalogue()
HINTS = procedure_hints(CATALOGUE)


def item(state: str = "open", level: str | None = "low", **changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "facility_id": "piscine-blomet",
        "name": "Piscine Blomet",
        "type": "pool",
        "arrondissement": 15,
        "open_state": state,
        "occupancy": None if level is None else {"level": level},
        "catalogue": {"address": {"street": "17 rue Blomet", "postcode": "75015", "city": "Paris"}},
    }
    doc.update(changes)
    return doc


def parse(**given: Any) -> Filters:
    fields: dict[str, Any] = {
        "type": None, "arrondissement": None, "q": None,
        "open_now": False, "low_crowd": False, "accessible": False,
    }  # fmt: skip
    fields.update(given)
    return Filters.parse(**fields)


def test_peu_d_affluence_keeps_only_open_facilities_counted_as_quiet() -> None:
    """A closed pool whose last count was quiet, or a pool without a count, is not "peu
    d'affluence"; a closed pool shows no crowd level at all."""
    quiet = parse(low_crowd=True)
    assert quiet.matches(item())
    assert not quiet.matches(item(level="moderate"))
    assert not quiet.matches(item(level=None))
    assert not quiet.matches(item(state="closed"))
    assert not quiet.matches(item(state="exceptionally_closed"))
    assert crowd_level(item(state="closed")) is None
    assert crowd_level(item(state="partially_closed", level="high")) == "high"


def test_a_search_finds_words_beginnings_in_name_address_type_and_arrondissement() -> None:
    """ "piscine 15e", "blomet", "75015", "swimming" find the pool; "passeport" does not."""
    for q in ("piscine 15e", "blomet", "75015", "swimming pool", "Piscine Blomet", "rue blo"):
        assert parse(q=q).matches(item()), q
    for q in ("passeport", "piscine 16e", "lomet"):
        assert not parse(q=q).matches(item()), q
    assert "15e" in search_text(item()).split()


def test_a_procedure_search_names_where_it_is_done() -> None:
    """ "passeport", "carte d'identité", "CNI" lead to the town halls; "inscription" names at most
    three procedures; "encombrants" names none (the general help says where instead)."""
    for q in ("passeport", "Passeports", "carte d'identité", "CNI", "papiers"):
        found = hints_for(HINTS, q)
        assert found and all(h.types == ("town_hall",) for h in found), q
    assert {h.procedure_id for h in hints_for(HINTS, "passeport")} == {"passport"}
    assert len(hints_for(HINTS, "inscription")) == 3
    assert hints_for(HINTS, "encombrants") == [] and hints_for(HINTS, "FPS") == []
    assert hints_for(HINTS, "  ") == []
