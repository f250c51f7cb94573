"""Live accessibility as the pages and documents put it (pure, no services): the words of an
outage in French and English, the directory filter « accessible en fauteuil maintenant », the
ops list (oldest first, overdue alerted) and the JSON-LD live values."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson

from api.jsonld import facility_jsonld
from api.pages.directory import Filters
from api.pages.equipment import outage_lines
from api.pages.ops import summarize
from schemas.catalogue import load_catalogue
from schemas.clock import PARIS
from tests.dashboards.test_ops_summary import sample

NOW = datetime(2026, 12, 3, 11, 0, tzinfo=PARIS)
LIFT = {"fr": "Ascenseur", "en": "Lift"}
LINE_FR_FALLBACK = (
    r"<strong>Ascenseur hors service depuis \d{2}:\d{2} — retour prévu [^<]+</strong>"
)


def lift(status: str = "out_of_service", **fields: Any) -> dict[str, Any]:
    return {
        "equipment_id": "lift",
        "kind": "lift",
        "name": LIFT,
        "status": status,
        "since": NOW.replace(hour=10, minute=42).isoformat(),
        "expected_back_at": (NOW + timedelta(days=1)).replace(hour=9, minute=0).isoformat(),
        "message": {"fr": "Ascenseur hors service.", "en": "Lift out of order."},
        "overdue": False,
        "step_free_route": True,
        **fields,
    }


def item(*equipment: dict[str, Any], step: str = "no", **fields: Any) -> dict[str, Any]:
    return {
        "facility_id": "mairie-paris-centre",
        "name": "Mairie de Paris Centre",
        "type": "town_hall",
        "arrondissement": 3,
        "open_state": "open",
        "live": True,
        "accessibility": {"step_free_access": step, "equipment": list(equipment)},
        **fields,
    }


def test_an_outage_in_words_french_and_english() -> None:
    """The issue's words, in both languages; today, another day, no return time, degraded."""
    assert outage_lines(item(lift()), "fr", NOW) == (
        "Ascenseur hors service depuis 10:42 — retour prévu demain 9 h",
    )
    assert outage_lines(item(lift()), "en", NOW) == (
        "Lift out of order since 10:42 — expected back tomorrow 9:00",
    )
    later = lift(expected_back_at=NOW.replace(hour=15, minute=30).isoformat())
    assert outage_lines(item(later), "fr", NOW) == (
        "Ascenseur hors service depuis 10:42 — retour prévu à 15 h 30",
    )
    unknown = lift("degraded", expected_back_at=None, since=(NOW - timedelta(days=2)).isoformat())
    assert outage_lines(item(unknown), "fr", NOW) == (
        "Ascenseur en service réduit depuis le 01/12 à 11:00 — retour non connu",
    )
    assert outage_lines(item(lift("in_service")), "fr", NOW) == ()


def test_an_overdue_return_and_the_area_are_said() -> None:
    """A return time already passed does not read as still to come, and the part of the building
    is named (the review of issue 20: both were missing from the directory and the alerts)."""
    late = lift(
        expected_back_at=NOW.replace(hour=10, minute=15).isoformat(), overdue=True, area="RDC"
    )
    assert outage_lines(item(late), "fr", NOW) == (
        "Ascenseur (RDC) hors service depuis 10:42 — retour prévu à 10 h 15 (dépassé)",
    )
    assert outage_lines(item(late), "en", NOW) == (
        "Lift (RDC) out of order since 10:42 — expected back at 10:15 (passed)",
    )


def test_the_wheelchair_now_filter_reads_the_live_state() -> None:
    """Kept only when the live state says step-free now: a broken lift, an unknown access, a
    « yes » no source confirms (a typical profile: the card says « non confirmé ») or a facility
    without live status is left out."""
    wanted = Filters(wheelchair_now=True)
    assert wanted.matches(item(step="yes"))
    estimated = item(step="yes")
    estimated["accessibility"]["estimated"] = True
    assert not wanted.matches(estimated)
    assert not wanted.matches(item(lift(), step="no"))
    assert not wanted.matches(item(step="unknown"))
    assert not wanted.matches(item(step="yes", live=False))
    assert Filters().matches(item(lift(), step="no"))


def test_ops_lists_outages_city_wide_oldest_first_and_alerts_the_overdue() -> None:
    """Every equipment out of service, oldest first; an overdue one raises an alert naming it."""
    old = lift(since=NOW.replace(hour=8).isoformat(), overdue=True)
    statuses = {
        "b-hall": {**item(lift()), "facility_id": "b-hall", "name": "B"},
        "a-hall": {**item(old), "facility_id": "a-hall", "name": "A"},
        "c-hall": {**item(step="yes"), "facility_id": "c-hall", "name": "C"},
    }
    s = sample([])
    body = summarize(statuses, {}, s, [s], kafka_error=None, clients=0)
    assert [(o["facility_id"], o["overdue"]) for o in body["equipment_outages"]] == [
        ("a-hall", True),
        ("b-hall", False),
    ]
    overdue = [a for a in body["alerts"] if a["code"] == "overdue_equipment"]
    assert len(overdue) == 1 and "Ascenseur, A" in overdue[0]["messages"]["fr"]


def test_json_ld_carries_the_live_accessibility() -> None:
    """amenityFeature: a reported lift with its live value and words; the step-free features of
    a facility whose data is sourced turn false while step-free access is no."""
    catalogue = load_catalogue()
    facility = next(
        f
        for f in catalogue
        if "wheelchair_accessible" in f.accessibility
        and not isinstance(f.sources.get("accessibility"), str)
    )
    status = item(lift(), step="no")
    doc = facility_jsonld(facility, status, base_url="https://live.paris.fr", now=NOW)
    features = {f["name"]: f for f in doc["amenityFeature"]}
    assert features["wheelchair_accessible"]["value"] is False
    assert features["lift"]["value"] is False
    assert features["lift"]["description"] == "Ascenseur hors service."
    assert features["lift"]["validThrough"] == lift()["expected_back_at"]
    back = facility_jsonld(
        facility, item(lift("in_service"), step="yes"), base_url="https://x", now=NOW
    )
    live = {f["name"]: f for f in back["amenityFeature"]}
    assert live["wheelchair_accessible"]["value"] is True and live["lift"]["value"] is True
    never = facility_jsonld(facility, item(step="yes"), base_url="https://x", now=NOW)
    assert "lift" not in {f["name"] for f in never["amenityFeature"]}


def test_the_card_without_javascript_says_the_outage() -> None:
    """The server-rendered fallback of the card names the outage in words, in each language."""
    from api.pages.views import fallback_html
    from api.views import render_item

    facility = load_catalogue().get("mairie-paris-centre")
    status = {**item(lift(since=datetime.now(PARIS).isoformat())), "seq": 3}
    raw = orjson.dumps({**status, "updated_at": NOW.isoformat(), "today_hours": []})
    full = orjson.loads(render_item(raw, facility, full=True, now=NOW))
    assert re.search(LINE_FR_FALLBACK, fallback_html(facility, full, "fr"))
    assert "Lift out of order since" in fallback_html(facility, full, "en")
