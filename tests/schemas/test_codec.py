"""Decoding and encoding on the hot path: every refusal names its reason and field."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.clock import PARIS
from schemas.codec import decode_event, decode_status, encode_event, encode_status
from schemas.errors import ContractError, InvalidEvent, InvalidStatus, Reason
from schemas.events import (
    ClosureData,
    ClosureDeclared,
    EventType,
    PassageCounted,
    PassageData,
    make_event,
)
from schemas.generate.samples import sample_event
from schemas.status import FacilityStatus


def passage() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sample_event(EventType.PASSAGE_COUNTED).to_json())
    return document


def closure() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(sample_event(EventType.CLOSURE_DECLARED).to_json())
    return document


def refusal(document: dict[str, Any] | bytes, **kwargs: Any) -> InvalidEvent:
    raw = document if isinstance(document, bytes) else orjson.dumps(document)
    with pytest.raises(InvalidEvent) as caught:
        decode_event(raw, **kwargs)
    return caught.value


def mutated(
    base: Callable[[], dict[str, Any]], change: Callable[[dict[str, Any]], object]
) -> dict[str, Any]:
    document = base()
    change(document)
    return document


# --- one test per refusal named in the contract -------------------------------------------------


def test_unknown_type_is_refused_with_reason_unknown_type() -> None:
    """An event whose type is not in the contract is refused as unknown_type on field type."""
    error = refusal(mutated(passage, lambda d: d.update(type="fr.paris.facilities.door.opened")))
    assert (error.reason, error.field) == (Reason.UNKNOWN_TYPE, "type")
    assert "fr.paris.facilities.door.opened" in error.message


def test_missing_type_is_refused_as_missing_field() -> None:
    """An event without type is refused as missing_field on field type."""
    error = refusal(mutated(passage, lambda d: d.pop("type")))
    assert (error.reason, error.field) == (Reason.MISSING_FIELD, "type")


def test_missing_subject_is_refused_as_missing_field() -> None:
    """An event without subject (the facility id) is refused as missing_field on subject."""
    error = refusal(mutated(passage, lambda d: d.pop("subject")))
    assert (error.reason, error.field) == (Reason.MISSING_FIELD, "subject")
    assert error.message.startswith("subject:")


def test_naive_time_is_refused_as_naive_time() -> None:
    """A time without UTC offset is refused as naive_time on field time."""
    error = refusal(mutated(passage, lambda d: d.update(time="2025-06-14T10:42:00")))
    assert (error.reason, error.field) == (Reason.NAIVE_TIME, "time")


def test_naive_time_inside_data_names_the_data_field() -> None:
    """A naive timestamp inside data is refused with its dotted path."""
    error = refusal(mutated(closure, lambda d: d["data"].update(starts_at="2025-06-14T09:00:00")))
    assert (error.reason, error.field) == (Reason.NAIVE_TIME, "data.starts_at")


def test_unparsable_time_is_refused_as_bad_time() -> None:
    """A time that is not an RFC 3339 date-time is refused as bad_time on field time."""
    error = refusal(mutated(passage, lambda d: d.update(time="hier à 10 h")))
    assert (error.reason, error.field) == (Reason.BAD_TIME, "time")


def test_epoch_number_time_is_refused() -> None:
    """A Unix timestamp number is not accepted as an RFC 3339 time."""
    error = refusal(mutated(passage, lambda d: d.update(time=1_749_890_520)))
    assert (error.reason, error.field) == (Reason.BAD_TIME, "time")


def test_negative_count_is_refused_as_invalid_value() -> None:
    """A passage with a negative count is refused as invalid_value on data.count."""
    error = refusal(mutated(passage, lambda d: d["data"].update(count=-3)))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "data.count")
    assert "-3" in error.message


def test_zero_count_is_refused() -> None:
    """A passage counts at least one person."""
    error = refusal(mutated(passage, lambda d: d["data"].update(count=0)))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "data.count")


def test_count_as_string_is_not_coerced() -> None:
    """A count sent as a JSON string is refused rather than silently converted."""
    error = refusal(mutated(passage, lambda d: d["data"].update(count="2")))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "data.count")


def test_bad_direction_is_refused_as_invalid_value() -> None:
    """A passage direction other than in/out is refused on data.direction."""
    error = refusal(mutated(passage, lambda d: d["data"].update(direction="up")))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "data.direction")


def test_unknown_closure_reason_is_refused_as_invalid_value() -> None:
    """A closure reason outside the list is refused on data.reason."""
    error = refusal(mutated(closure, lambda d: d["data"].update(reason="aliens")))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "data.reason")


def test_unknown_facility_is_refused_when_the_catalogue_is_given() -> None:
    """An event about a facility outside the catalogue is refused as unknown_facility."""
    error = refusal(passage(), facilities=frozenset({"mairie-11"}))
    assert (error.reason, error.field) == (Reason.UNKNOWN_FACILITY, "subject")
    assert "piscine-pontoise" in error.message


def test_known_facility_is_accepted_when_the_catalogue_is_given() -> None:
    """An event about a catalogued facility decodes."""
    event = decode_event(orjson.dumps(passage()), facilities={"piscine-pontoise"})
    assert event.subject == "piscine-pontoise"


def test_unknown_data_field_is_refused_as_unknown_field() -> None:
    """A data field the contract does not define is refused on its dotted path."""
    error = refusal(mutated(passage, lambda d: d["data"].update(temperature=21)))
    assert (error.reason, error.field) == (Reason.UNKNOWN_FIELD, "data.temperature")


def test_unknown_envelope_attribute_is_refused_as_unknown_field() -> None:
    """An envelope attribute the contract does not define is refused."""
    error = refusal(mutated(passage, lambda d: d.update(partitionkey="x")))
    assert (error.reason, error.field) == (Reason.UNKNOWN_FIELD, "partitionkey")


def test_data_of_another_type_is_refused() -> None:
    """Headcount data under a passage type is refused, naming the first wrong data field."""
    error = refusal(mutated(passage, lambda d: d.update(data={"sensor_id": "s", "headcount": 3})))
    assert error.field is not None and error.field.startswith("data.")


def test_wrong_specversion_is_refused() -> None:
    """Only CloudEvents 1.0 is accepted."""
    error = refusal(mutated(passage, lambda d: d.update(specversion="0.3")))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "specversion")


def test_subject_must_be_a_facility_slug() -> None:
    """A subject that is not a lowercase slug is refused on subject."""
    error = refusal(mutated(passage, lambda d: d.update(subject="Piscine Pontoise")))
    assert (error.reason, error.field) == (Reason.INVALID_VALUE, "subject")


def test_bytes_that_are_not_json_are_refused_as_bad_json() -> None:
    """Garbage bytes are refused as bad_json with no field."""
    error = refusal(b"\x00\xff{not json")
    assert (error.reason, error.field) == (Reason.BAD_JSON, None)


@pytest.mark.parametrize("raw", [b"[]", b"42", b'"event"', b"null"])
def test_json_that_is_not_an_object_is_refused_as_bad_json(raw: bytes) -> None:
    """A JSON document that is not an object is refused as bad_json."""
    error = refusal(raw)
    assert (error.reason, error.field) == (Reason.BAD_JSON, None)


def test_several_errors_are_counted_in_the_message() -> None:
    """When several fields are wrong the first is reported and the others are counted."""
    document = mutated(passage, lambda d: d["data"].update(count=-1, direction="up"))
    assert "(and 1 more)" in refusal(document).message


def test_invalid_event_is_a_contract_error() -> None:
    """Callers can catch every refusal with the package's base class."""
    with pytest.raises(ContractError):
        decode_event(b"{}")


# --- round trips --------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_every_sample_event_round_trips(event_type: EventType) -> None:
    """Encoding then decoding any event gives back an equal event of the right class."""
    event = sample_event(event_type)
    decoded = decode_event(encode_event(event))
    assert decoded == event
    assert decoded.type is event_type
    assert type(decoded) is type(event)


def test_decode_accepts_text() -> None:
    """A str payload decodes like its UTF-8 bytes."""
    raw = encode_event(sample_event(EventType.CLOSURE_DECLARED))
    assert decode_event(raw.decode()) == decode_event(raw)


def test_decoded_time_keeps_its_offset() -> None:
    """The event time keeps the offset the source wrote (Paris summer time here)."""
    event = decode_event(orjson.dumps(passage()))
    assert event.time.utcoffset() == dt.timedelta(hours=2)
    assert event.time == dt.datetime(2025, 6, 14, 8, 42, tzinfo=dt.UTC)


def test_control_characters_in_event_text_are_refused_naming_the_field() -> None:
    """A NUL in an id or in free text is refused (invalid_value, dotted field); a line break in
    free text is kept."""
    passage = orjson.loads(encode_event(sample_event(EventType.PASSAGE_COUNTED)))
    passage["data"]["gate_id"] = "tri\u0000pode"
    with pytest.raises(InvalidEvent) as refused:
        decode_event(orjson.dumps(passage))
    assert (refused.value.reason, refused.value.field) == ("invalid_value", "data.gate_id")
    survey = orjson.loads(encode_event(sample_event(EventType.SURVEY_SUBMITTED)))
    survey["data"]["liked"] = "a\u0000b"
    with pytest.raises(InvalidEvent) as refused:
        decode_event(orjson.dumps(survey))
    assert (refused.value.reason, refused.value.field) == ("invalid_value", "data.liked")
    survey["data"]["liked"] = "Bassin propre\naccueil souriant"
    assert decode_event(orjson.dumps(survey)).data.liked == "Bassin propre\naccueil souriant"  # type: ignore[attr-defined]


def test_decoded_data_has_the_type_specific_model() -> None:
    """Stream code can match on the data model of the decoded event."""
    event = decode_event(encode_event(sample_event(EventType.CLOSURE_DECLARED)))
    assert isinstance(event, ClosureDeclared)
    assert isinstance(event.data, ClosureData)
    assert event.data.scope.kind == "area"


facility_ids = st.from_regex(r"\A[a-z0-9][a-z0-9-]{0,30}\Z")


@settings(max_examples=200, deadline=None)
@given(
    subject=facility_ids,
    gate=st.text(
        st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=40
    ),  # a valid gate id is one line without control characters (schemas.text)
    direction=st.sampled_from(["in", "out"]),
    count=st.integers(min_value=1, max_value=10_000),
    when=st.datetimes(
        min_value=dt.datetime(2000, 1, 1),
        max_value=dt.datetime(2100, 1, 1),
        timezones=st.just(PARIS),
    ),
)
def test_any_valid_passage_round_trips(
    subject: str, gate: str, direction: str, count: int, when: dt.datetime
) -> None:
    """Any valid passage survives encode → decode unchanged, including its instant."""
    event = make_event(
        EventType.PASSAGE_COUNTED,
        subject,
        PassageData(gate_id=gate, direction=direction, count=count),  # type: ignore[arg-type]
        source=f"/turnstiles/{subject}/{gate}",
        time=when,
    )
    decoded = decode_event(encode_event(event))
    assert isinstance(decoded, PassageCounted)
    assert decoded.data == event.data
    assert decoded.time == when.astimezone(dt.UTC)  # same instant, even in the DST fold
    assert decoded.time.utcoffset() == when.utcoffset()


@settings(max_examples=300, deadline=None)
@given(raw=st.one_of(st.binary(max_size=300), st.text(max_size=300).map(str.encode)))
def test_arbitrary_bytes_never_raise_anything_but_invalid_event(raw: bytes) -> None:
    """Whatever arrives on a topic, the decoder either returns an event or raises InvalidEvent."""
    try:
        decode_event(raw)
    except InvalidEvent as error:
        assert error.reason in set(Reason)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=300, deadline=None)
@given(
    field=st.sampled_from(["id", "source", "type", "subject", "time", "data", "specversion"]),
    value=json_values,
)
def test_any_corrupted_attribute_is_refused_with_a_reason(field: str, value: Any) -> None:
    """Any JSON value in place of an attribute decodes or is refused naming that attribute."""
    document = passage()
    document[field] = value
    try:
        decode_event(orjson.dumps(document))
    except InvalidEvent as error:
        assert error.reason in set(Reason)
        assert error.field is not None and error.field.split(".")[0] == field


# --- statuses -----------------------------------------------------------------------------------


def test_status_round_trips_through_bytes() -> None:
    """A status written to Redis/Kafka reads back equal."""
    status = FacilityStatus.example()
    assert decode_status(encode_status(status)) == status


def test_status_bytes_carry_offsets() -> None:
    """Every timestamp of an encoded status is RFC 3339 with an offset."""
    document = orjson.loads(encode_status(FacilityStatus.example()))
    assert document["updated_at"] == "2025-06-14T10:42:07+02:00"
    assert document["occupancy"]["measured_at"].endswith("+02:00")


def test_corrupted_status_raises_invalid_status_naming_the_field() -> None:
    """A status with a bad field is refused with its dotted path."""
    document = orjson.loads(encode_status(FacilityStatus.example()))
    document["occupancy"]["count"] = -1
    with pytest.raises(InvalidStatus) as caught:
        decode_status(orjson.dumps(document))
    assert caught.value.field == "occupancy.count"


def test_status_that_is_not_json_raises_invalid_status() -> None:
    """Garbage in Redis is reported as an InvalidStatus, not a pydantic error."""
    with pytest.raises(InvalidStatus):
        decode_status(b"not json")
