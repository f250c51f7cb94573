"""The facility catalogue: real data, consistent models, and the lookups the platform uses."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from datetime import date
from importlib import resources
from typing import Any

import pytest
from pydantic import ValidationError

from schemas import events
from schemas.catalogue import (
    FACILITY_TYPES,
    LEVEL_THRESHOLDS,
    TYPE_LABELS,
    WEEKDAYS,
    Catalogue,
    Facility,
    LocalizedText,
    UnknownFacility,
    load_catalogue,
    normalize_text,
    occupancy_level,
)
from schemas.data.build_catalogue import render_all
from schemas.errors import ContractError
from schemas.hours import Label, OpeningHours, day_schedule
from schemas.provenance import DATASETS, SourceRef

SLUG = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"


def _raw_files() -> dict[str, list[dict[str, Any]]]:
    folder = resources.files("schemas").joinpath("data", "facilities")
    return {
        t: json.loads(folder.joinpath(f"{t}.json").read_text(encoding="utf-8"))
        for t in FACILITY_TYPES
    }


SEASONED = "piscine-marjorie-gestring"
"""A pool the open datasets give no hours for: typical hours with a summer season and eves."""


def _facility_json(facility_id: str = "piscine-pontoise") -> dict[str, Any]:
    document: dict[str, Any] = json.loads(
        load_catalogue().get(facility_id).model_dump_json(by_alias=True)
    )
    return document


def _validate(document: dict[str, Any]) -> Facility:
    return Facility.model_validate_json(json.dumps(document))


# ── Size and shape of the data ────────────────────────────────────────────────────────────────


def test_catalogue_has_at_least_150_facilities_across_8_types() -> None:
    """The catalogue covers at least 150 real facilities of at least 8 types."""
    catalogue = load_catalogue()
    per_type = Counter(f.type for f in catalogue)
    assert len(catalogue) >= 150
    assert len(per_type) >= 8
    assert per_type["town_hall"] == 17
    assert per_type["pool"] >= 35
    assert per_type["library"] >= 40


def test_catalogue_is_city_scale_with_at_least_1000_facilities_across_12_types() -> None:
    """The open-data catalogue holds at least 1,000 real facilities of at least 12 types."""
    catalogue = load_catalogue()
    per_type = Counter(f.type for f in catalogue)
    assert len(catalogue) >= 1000
    assert len(per_type) >= 12
    for added in ("museum", "bath_house", "gymnasium", "park", "cemetery", "community_centre"):
        assert per_type[added] >= 10, added


def test_ids_are_unique_lowercase_slugs_across_all_files() -> None:
    """No id appears twice, even across type files, and every id is a lowercase slug."""
    ids = [row["id"] for rows in _raw_files().values() for row in rows]
    assert len(ids) == len(set(ids)) == len(load_catalogue())
    import re

    assert all(re.match(SLUG, fid) for fid in ids)


def test_named_facilities_of_the_brief_are_present() -> None:
    """Well-known facilities citizens look for are in the catalogue under stable ids."""
    catalogue = load_catalogue()
    for fid in (
        "piscine-pontoise",
        "piscine-josephine-baker",
        "piscine-georges-vallerey",
        "piscine-butte-aux-cailles",
        "piscine-suzanne-berlioux",
        "piscine-keller",
        "mairie-15",
        "mairie-paris-centre",
        "bibliotheque-buffon",
        "bibliotheque-vaclav-havel",
        "mediatheque-marguerite-duras",
        "bibliotheque-forney",
    ):
        assert fid in catalogue
    assert catalogue.get("piscine-pontoise").address.street == "19 rue de Pontoise"


def test_coordinates_are_inside_paris() -> None:
    """Every facility sits inside Paris' bounding box, so maps never show one elsewhere."""
    for facility in load_catalogue():
        assert 48.81 <= facility.location.lat <= 48.91, facility.id
        assert 2.22 <= facility.location.lon <= 2.47, facility.id


def test_arrondissement_matches_postcode_for_every_facility() -> None:
    """The arrondissement shown agrees with the postcode (75116 belongs to the 16e)."""
    for facility in load_catalogue():
        postcode = facility.address.postcode
        expected = 16 if postcode == "75116" else int(postcode) - 75000
        assert facility.arrondissement == expected, facility.id
        assert facility.address.city == "Paris"


@pytest.mark.parametrize(
    ("postcode", "arrondissement"), [("75001", 1), ("75020", 20), ("75116", 16)]
)
def test_a_facility_whose_arrondissement_contradicts_its_postcode_is_refused(
    postcode: str, arrondissement: int
) -> None:
    """Data with a postcode in another arrondissement fails to load instead of misplacing it."""
    document = _facility_json()
    document["address"]["postcode"] = postcode
    document["arrondissement"] = arrondissement
    assert _validate(document).arrondissement == arrondissement
    document["arrondissement"] = arrondissement % 20 + 1
    with pytest.raises(ValidationError, match="does not match postcode"):
        _validate(document)


def test_a_postcode_outside_paris_is_refused() -> None:
    """A suburban postcode is not accepted as a Paris address."""
    document = _facility_json()
    document["address"]["postcode"] = "92100"
    with pytest.raises(ValidationError):
        _validate(document)


# ── Opening hours ─────────────────────────────────────────────────────────────────────────────


def test_every_facility_lists_all_seven_weekdays_explicitly() -> None:
    """The committed JSON spells out every weekday, in weekly hours and in every season."""
    for rows in _raw_files().values():
        for row in rows:
            hours = row["hours"]
            assert list(hours["weekly"]) == list(WEEKDAYS), row["id"]
            for season in hours["seasons"]:
                assert list(season["weekly"]) == list(WEEKDAYS), row["id"]
            assert hours["public_holidays"] in {"closed", "open", "sunday"}


def test_every_facility_opens_at_least_one_day_a_week() -> None:
    """No facility is listed as closed all year round."""
    for facility in load_catalogue():
        assert any(facility.hours.weekly.on_weekday(day) for day in range(7)), facility.id


def test_a_missing_weekday_is_refused() -> None:
    """Hours without Sunday are refused rather than read as 'closed on Sunday'."""
    document = _facility_json()
    del document["hours"]["weekly"]["sun"]
    with pytest.raises(ValidationError, match=r"hours\.weekly has no sun"):
        _validate(document)


def _drop_season_saturday(hours: dict[str, Any]) -> None:
    del hours["seasons"][0]["weekly"]["sat"]


def _drop_public_holidays(hours: dict[str, Any]) -> None:
    del hours["public_holidays"]


def _capitalise_season_name(hours: dict[str, Any]) -> None:
    hours["seasons"][0]["name"] = "Summer"


def _drop_season_label(hours: dict[str, Any]) -> None:
    del hours["seasons"][0]["label"]


def _french_only_special_label(hours: dict[str, Any]) -> None:
    hours["special"][0]["label"] = {"fr": "Veille de fête"}


@pytest.mark.parametrize(
    ("spoil", "message"),
    [
        (_drop_season_saturday, r"hours\.seasons\[summer\]\.weekly has no sat"),
        (_drop_public_holidays, "public_holidays is missing"),
        (_capitalise_season_name, "not a lowercase slug"),
        (_drop_season_label, r"hours\.seasons\[summer\] has no label"),
        (_french_only_special_label, r"special\[2026-12-24\]: the label has no English text"),
    ],
)
def test_catalogue_refuses_hours_the_engine_would_accept(
    spoil: Callable[[dict[str, Any]], None], message: str
) -> None:
    """Loose hours the engine reads (defaults, French-only labels) are refused as catalogue data."""
    document = _facility_json(SEASONED)
    spoil(document["hours"])
    OpeningHours.model_validate(document["hours"])
    with pytest.raises(ValidationError, match=message):
        _validate(document)


def test_catalogue_text_is_the_event_text_with_english_required() -> None:
    """Catalogue text is the events' French-first text, except that English may not be left out."""
    assert issubclass(LocalizedText, events.LocalizedText)
    assert LocalizedText(fr="Piscine", en="Swimming pool").en == "Swimming pool"
    document = _facility_json()
    document["services"][0]["name"] = {"fr": "Bassin"}
    with pytest.raises(ValidationError, match=r"services\.0\.name\.en\s+Field required"):
        _validate(document)


@pytest.mark.parametrize(
    "periods",
    [
        [["12:00", "09:00"]],
        [["09:00", "09:00"]],
        [["24:00", "24:00"]],
        [["9:00", "12:00"]],
        [["09:00", "12:00"], ["11:00", "14:00"]],
        [["09:00", "12:00"], ["12:00", "14:00"]],
        [["13:00", "14:00"], ["09:00", "12:00"]],
    ],
)
def test_malformed_periods_are_refused(periods: list[list[str]]) -> None:
    """Reversed, empty, badly written, overlapping or unsorted periods do not load."""
    document = _facility_json()
    document["hours"]["weekly"]["mon"] = periods
    with pytest.raises(ValidationError):
        _validate(document)


def test_a_period_may_close_at_midnight() -> None:
    """``24:00`` closes a period at the end of the day (late-night pool sessions)."""
    document = _facility_json()
    document["hours"]["weekly"]["fri"] = [["07:00", "08:30"], ["20:00", "24:00"]]
    assert _validate(document).hours.weekly.fri == [("07:00", "08:30"), ("20:00", "24:00")]


def test_overlapping_seasons_are_refused() -> None:
    """Two seasons covering the same date would make the schedule ambiguous, so they fail."""
    document = _facility_json(SEASONED)
    summer = document["hours"]["seasons"][0]
    document["hours"]["seasons"].append({**summer, "name": "late-summer", "from": "08-15"})
    with pytest.raises(ValidationError, match="overlap"):
        _validate(document)


def test_pontoise_hours_are_the_citys_own() -> None:
    """Piscine Pontoise opens on Monday as the City's open data says, with that row as source."""
    pool = load_catalogue().get("piscine-pontoise")
    assert pool.hours.weekly.mon == [("06:30", "07:45"), ("11:45", "19:45"), ("20:00", "22:45")]
    assert pool.hours.weekly.sat == [("09:00", "18:45")]
    source = pool.sources["hours"]
    assert isinstance(source, SourceRef)
    assert (source.dataset, source.record) == ("ilots-equipements", "PI13")
    assert (source.valid_from, source.valid_until) == (date(2025, 9, 1), date(2026, 7, 5))
    # Tuesday and Thursday are cut in the source ("… / 20"): marked, never completed by guess.
    assert pool.sources["hours.tue"] == pool.sources["hours.thu"] == "estimated"
    assert pool.hours.weekly.tue == [("06:30", "07:45"), ("11:45", "13:45"), ("16:30", "19:45")]
    assert pool.hours_confidence == "estimated"


def test_estimated_pool_hours_have_several_periods_and_a_summer_season() -> None:
    """Pools without official hours keep typical periods and summer hours, marked estimated."""
    pool = load_catalogue().get(SEASONED)
    assert pool.sources["hours"] == "estimated"
    assert pool.hours_confidence == "estimated"
    assert len(pool.hours.weekly.mon) >= 2
    summer = pool.hours.seasons[0]
    assert (summer.from_, summer.to) == ("07-01", "08-31")
    assert summer.label == Label(fr="Horaires d'été", en="Summer hours")


def test_town_halls_open_late_on_thursday_outside_summer() -> None:
    """Town halls open 08:30–17:00 on weekdays (estimated: until 19:30 on Thursdays)."""
    for mairie in load_catalogue().by_type("town_hall"):
        assert mairie.hours.weekly.mon == [("08:30", "17:00")]
        if mairie.hours_confidence == "estimated":
            assert mairie.hours.weekly.thu == [("08:30", "19:30")]
        assert mairie.hours.weekly.sun == []
        assert mairie.hours.public_holidays == "closed"


def test_every_facility_hours_drive_the_schedule_engine_as_loaded() -> None:
    """A facility's hours are the engine's model: a plain Tuesday shows that day's regular hours."""
    tuesday = date(2026, 3, 10)
    for facility in load_catalogue():
        assert isinstance(facility.hours, OpeningHours), facility.id
        season = facility.hours.season_on(tuesday)
        weekly = facility.hours.weekly if season is None else season.weekly
        periods = day_schedule(facility.hours, tuesday).periods
        assert [p.as_hhmm() for p in periods] == weekly.tue, facility.id


def test_hours_round_trip_through_json_with_the_from_key() -> None:
    """Serialised hours use the contract's ``from`` key and load back unchanged."""
    hours = load_catalogue().get("bibliotheque-buffon").hours
    dumped = hours.model_dump_json()
    assert '"from":"07-15"' in dumped
    assert OpeningHours.model_validate_json(dumped) == hours


# ── Services, procedures, contacts ────────────────────────────────────────────────────────────


def test_bookable_and_queue_services_are_reachable() -> None:
    """A bookable service has a booking contact; a queue service has an information contact."""
    for facility in load_catalogue():
        for service in facility.services:
            if service.bookable:
                assert facility.contacts_for("booking"), (facility.id, service.service_id)
            if service.queue:
                assert facility.contacts_for("information"), (facility.id, service.service_id)


def test_every_procedure_is_handled_by_a_service_and_every_reference_resolves() -> None:
    """No procedure is orphaned and no service points at a procedure the facility lacks."""
    for facility in load_catalogue():
        handled = {p for s in facility.services for p in s.procedures}
        declared = {p.procedure_id for p in facility.procedures}
        assert handled == declared, facility.id


def test_a_service_listing_an_unknown_procedure_is_refused() -> None:
    """A service cannot promise a procedure that the facility does not declare."""
    document = _facility_json("mairie-15")
    document["services"][0]["procedures"].append("driving-licence")
    with pytest.raises(ValidationError, match="unknown procedures"):
        _validate(document)


def test_duplicate_service_ids_are_refused() -> None:
    """Two services with one id would make ticket and slot events ambiguous."""
    document = _facility_json()
    document["services"].append(document["services"][0])
    with pytest.raises(ValidationError, match="listed twice"):
        _validate(document)


def test_town_halls_handle_the_identity_and_civil_status_procedures() -> None:
    """Every town hall handles identity cards, passports, civil status and marriage files."""
    for mairie in load_catalogue().by_type("town_hall"):
        assert mairie.service("identity-documents").bookable
        assert {"identity-card", "passport"} <= set(mairie.service("identity-documents").procedures)
        for procedure_id in (
            "civil-status-certificate",
            "marriage-file",
            "first-residential-parking",
        ):
            assert mairie.procedure(procedure_id).name.fr


def test_contacts_for_lists_local_services_before_central_ones() -> None:
    """The competent service nearest the user comes first."""
    mairie = load_catalogue().get("mairie-15")
    follow_up = mairie.contacts_for("case_follow_up")
    assert [c.level for c in follow_up] == ["local", "central"]
    assert mairie.contacts_for("booking")[0].level == "central"


def test_a_contact_without_any_way_to_reach_it_is_refused() -> None:
    """A contact with no phone, e-mail or url helps nobody, so it does not load."""
    document = _facility_json()
    document["contacts"][0].update(phone=None, email=None, url=None)
    with pytest.raises(ValidationError, match="no phone, email or url"):
        _validate(document)


def test_library_contacts_carry_the_real_phone_and_email() -> None:
    """Library information contacts give the library's own phone and e-mail."""
    buffon = load_catalogue().get("bibliotheque-buffon")
    information = buffon.contacts_for("information")[0]
    assert information.phone == "01 55 43 25 25"
    assert information.email == "bibliotheque.buffon@paris.fr"


# ── Provenance ────────────────────────────────────────────────────────────────────────────────


def test_estimated_figures_are_marked() -> None:
    """Non-official figures are flagged: estimated capacities, approximate locations, délais."""
    for facility in load_catalogue():
        flagged = set(facility.illustrative)
        if facility.capacity is not None:
            assert facility.sources["capacity"] == "estimated", facility.id
        for procedure in facility.procedures:
            if procedure.illustrative:
                assert f"procedures.{procedure.procedure_id}" in flagged, facility.id
    assert "location" not in load_catalogue().get("piscine-pontoise").illustrative
    # mairie-15's approximate coordinates were replaced by the City's own (îlots dataset).
    assert isinstance(load_catalogue().get("mairie-15").sources["location"], SourceRef)
    approximate = [f for f in load_catalogue() if f.sources["location"] == "estimated"]
    assert all("location" in f.illustrative for f in approximate)


def test_a_sources_entry_must_name_a_field() -> None:
    """A typo in ``sources`` is caught rather than silently sourcing nothing."""
    document = _facility_json()
    document["sources"]["capacty"] = "estimated"
    with pytest.raises(ValidationError, match="does not name a facility field"):
        _validate(document)


def test_every_source_is_a_known_dataset() -> None:
    """Each sourced value and merged row names a dataset of the registry."""
    for facility in load_catalogue():
        for source in [*facility.sources.values(), *facility.records]:
            if isinstance(source, SourceRef):
                assert source.dataset in DATASETS, facility.id


# ── Generator ─────────────────────────────────────────────────────────────────────────────────


def test_committed_json_equals_generator_output() -> None:
    """The committed facility files are exactly what build_catalogue.py writes."""
    folder = resources.files("schemas").joinpath("data")
    for name, content in render_all().items():
        assert folder.joinpath(name).read_text(encoding="utf-8") == content, (
            f"{name} is stale: run python -m schemas.data.build_catalogue"
        )


# ── Catalogue lookups ─────────────────────────────────────────────────────────────────────────


def test_load_catalogue_is_read_once() -> None:
    """Every caller shares one catalogue object."""
    assert load_catalogue() is load_catalogue()


def test_get_unknown_facility_raises_a_keyerror_with_the_id() -> None:
    """An unknown id raises UnknownFacility, both a KeyError and a ContractError."""
    with pytest.raises(UnknownFacility) as caught:
        load_catalogue().get("piscine-atlantide")
    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, ContractError)
    assert caught.value.facility_id == "piscine-atlantide"
    assert "piscine-atlantide" in str(caught.value)


def test_by_type_and_by_arrondissement_partition_the_catalogue() -> None:
    """Filtering by type or by arrondissement finds every facility exactly once."""
    catalogue = load_catalogue()
    assert sum(len(catalogue.by_type(t)) for t in FACILITY_TYPES) == len(catalogue)
    assert sum(len(catalogue.by_arrondissement(n)) for n in range(1, 21)) == len(catalogue)
    fifteenth = {f.id for f in catalogue.by_arrondissement(15)}
    assert {"mairie-15", "piscine-keller", "piscine-armand-massard"} <= fifteenth
    assert all(f.type == "pool" for f in catalogue.by_type("pool"))
    assert {f.id for f in catalogue.by_type("museum")} >= {"musee-carnavalet", "musee-bourdelle"}
    assert catalogue.types() == list(FACILITY_TYPES)


def test_duplicate_ids_are_refused_by_the_catalogue() -> None:
    """Two facilities with one id cannot both be loaded."""
    pool = load_catalogue().get("piscine-pontoise")
    with pytest.raises(ValueError, match="listed twice"):
        Catalogue([pool, pool])


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("Pontoise", "piscine-pontoise"),
        ("piscine pontoise", "piscine-pontoise"),
        ("PISCINE  Pontoise", "piscine-pontoise"),
        ("Mairie du 15e", "mairie-15"),
        ("mairie 15e", "mairie-15"),
        ("vaclav havel", "bibliotheque-vaclav-havel"),
        ("Joséphine Baker", "piscine-josephine-baker"),
        ("josephine", "piscine-josephine-baker"),
        ("rue Péclet", "mairie-15"),
        ("Paris Centre mairie", "mairie-paris-centre"),
    ],
)
def test_search_is_case_and_accent_insensitive(query: str, first: str) -> None:
    """Search finds facilities however the user types their name or address."""
    results = load_catalogue().search(query)
    assert results, query
    assert results[0].id == first


def test_search_puts_exact_names_first_and_matches_type_labels() -> None:
    """An exact name ranks before partial matches; a type label finds that type."""
    catalogue = load_catalogue()
    results = catalogue.search("Piscine Keller")
    assert results[0].name == "Piscine Keller"
    pools_13e = catalogue.search("piscine 13e")
    assert {f.id for f in pools_13e} == {
        f.id for f in catalogue.by_arrondissement(13) if f.type == "pool"
    }
    assert catalogue.search("  ") == []
    assert catalogue.search("atlantide") == []


def test_normalize_text_folds_case_accents_and_punctuation() -> None:
    """Apostrophes, hyphens and accents do not prevent a match."""
    assert normalize_text("Piscine d'Auteuil – Bassin 25 m") == "piscine d auteuil bassin 25 m"
    assert normalize_text("Émile ANTHOINE") == "emile anthoine"


# ── Type configuration ────────────────────────────────────────────────────────────────────────


def test_type_labels_cover_every_type_french_first() -> None:
    """Every facility type has a French and an English label."""
    assert set(TYPE_LABELS) == set(FACILITY_TYPES)
    assert TYPE_LABELS["pool"].fr == "Piscine"
    assert TYPE_LABELS["town_hall"].fr == "Mairie d'arrondissement"
    assert TYPE_LABELS["legal_advice"].fr == "Point d'accès au droit"
    assert all(label.fr and label.en for label in TYPE_LABELS.values())


def test_level_thresholds_are_increasing_ratios_for_every_type() -> None:
    """Each type has moderate < high < full thresholds between 0 and 1."""
    assert set(LEVEL_THRESHOLDS) == set(FACILITY_TYPES)
    for moderate, high, full in LEVEL_THRESHOLDS.values():
        assert 0 < moderate < high < full <= 1


@pytest.mark.parametrize(
    ("ratio", "level"),
    [(0.0, "low"), (0.49, "low"), (0.5, "moderate"), (0.8, "high"), (0.95, "full"), (1.3, "full")],
)
def test_pool_occupancy_levels(ratio: float, level: str) -> None:
    """A pool at 80 % of its capacity shows 'high', at 95 % 'full'."""
    assert occupancy_level(ratio, "pool") == level


def test_facilities_are_frozen() -> None:
    """A facility read from the catalogue cannot be changed by one of its users."""
    pool = load_catalogue().get("piscine-pontoise")
    with pytest.raises(ValidationError):
        pool.name = "Piscine modifiée"
