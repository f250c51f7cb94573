"""Event models, ``make_event`` and the topic table: what producers and stream workers rely on."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas import topics
from schemas.clock import PARIS
from schemas.codec import decode_event
from schemas.errors import InvalidEvent, Reason
from schemas.events import (
    DATA_MODEL,
    EVENT_CLASS,
    AreaScope,
    ClosureData,
    ClosureEndData,
    ClosureReason,
    DeadLetter,
    EventType,
    FacilityScope,
    HeadcountData,
    LocalizedText,
    PassageData,
    ServiceScope,
    SurveyData,
    TicketData,
    make_event,
)


def closure_fields(**overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "closure_id": "clo-1",
        "scope": {"kind": "facility"},
        "reason": "staff_shortage",
        "message": {"fr": "Fermé faute de personnel."},
        "starts_at": dt.datetime(2025, 3, 30, 9, 0, tzinfo=PARIS),
        "declared_by": "agent-1",
    }
    return fields | overrides


# --- make_event ---------------------------------------------------------------------------------


def test_make_event_fills_a_uuid_and_an_aware_utc_time() -> None:
    """A producer gets a unique UUID4 id and the current UTC time with an offset by default."""
    before = dt.datetime.now(dt.UTC)
    event = make_event(
        EventType.PASSAGE_COUNTED,
        "piscine-pontoise",
        {"gate_id": "g1", "direction": "in", "count": 1},
        source="/turnstiles/piscine-pontoise/g1",
    )
    assert uuid.UUID(event.id).version == 4
    assert event.time.utcoffset() == dt.timedelta(0)
    assert before <= event.time <= dt.datetime.now(dt.UTC)
    assert event.specversion == "1.0" and event.datacontenttype == "application/json"


def test_make_event_ids_are_unique() -> None:
    """Two events built back to back never share an idempotency key."""
    events = [
        make_event(
            EventType.HEADCOUNT_MEASURED,
            "piscine-pontoise",
            HeadcountData(sensor_id="s", headcount=3),
            source="/sensors/s",
        )
        for _ in range(100)
    ]
    assert len({event.id for event in events}) == 100


def test_make_event_accepts_the_data_model_and_keeps_given_id_and_time() -> None:
    """Explicit id and time are kept; the data model instance is carried as is."""
    at = dt.datetime(2025, 6, 14, 10, 0, tzinfo=PARIS)
    data = TicketData(ticket_id="A042", service_id="etat-civil")
    event = make_event(
        EventType.TICKET_CALLED, "mairie-11", data, source="/queue/mairie-11", time=at, id="ev-1"
    )
    assert (event.id, event.time, event.data) == ("ev-1", at, data)
    assert orjson.loads(event.to_json())["time"] == "2025-06-14T10:00:00+02:00"


def test_make_event_refuses_a_naive_time() -> None:
    """Producers cannot emit a naive datetime: it is a bug, reported as naive_time."""
    with pytest.raises(InvalidEvent) as caught:
        make_event(
            EventType.PASSAGE_COUNTED,
            "piscine-pontoise",
            {"gate_id": "g1", "direction": "in", "count": 1},
            source="/turnstiles/x",
            time=dt.datetime(2025, 6, 14, 10, 0),
        )
    assert (caught.value.reason, caught.value.field) == (Reason.NAIVE_TIME, "time")


def test_make_event_refuses_data_of_another_type() -> None:
    """Ticket data cannot be sent as a passage event."""
    with pytest.raises(InvalidEvent) as caught:
        make_event(
            EventType.PASSAGE_COUNTED,
            "mairie-11",
            TicketData(ticket_id="A1", service_id="s"),
            source="/x",
        )
    assert caught.value.field == "data"


def test_make_event_refuses_invalid_data_like_the_decoder() -> None:
    """make_event reports the same reason and field as decode_event for the same mistake."""
    with pytest.raises(InvalidEvent) as caught:
        make_event(
            EventType.CLOSURE_DECLARED,
            "piscine-pontoise",
            closure_fields(scope={"kind": "area"}),
            source="/agents/agent-1",
        )
    assert (caught.value.reason, caught.value.field) == (
        Reason.MISSING_FIELD,
        "data.scope.name",
    )


def test_make_event_refuses_an_unknown_type() -> None:
    """A type string outside the contract cannot be built."""
    with pytest.raises(ValueError, match="not a valid EventType"):
        make_event("fr.paris.facilities.door.opened", "x", {}, source="/x")  # type: ignore[arg-type]


def test_events_are_immutable() -> None:
    """A decoded event cannot be modified by one consumer behind another's back."""
    event = make_event(
        EventType.HEADCOUNT_MEASURED,
        "piscine-pontoise",
        {"sensor_id": "s", "headcount": 3},
        source="/s",
    )
    with pytest.raises(ValidationError):
        event.subject = "mairie-11"  # type: ignore[misc]


# --- data models --------------------------------------------------------------------------------


def test_every_event_type_has_an_envelope_class_and_a_data_model() -> None:
    """Each type of the contract is decodable into its own class with its own data model."""
    assert set(EVENT_CLASS) == set(EventType)
    assert DATA_MODEL[EventType.PASSAGE_COUNTED] is PassageData
    assert DATA_MODEL[EventType.TICKET_ABANDONED] is TicketData
    assert DATA_MODEL[EventType.CLOSURE_UPDATED] is ClosureData
    assert DATA_MODEL[EventType.CLOSURE_ENDED] is ClosureEndData


def test_event_type_values_follow_the_contract() -> None:
    """Type strings are the reverse-DNS names of DESIGN.md."""
    assert EventType("fr.paris.facilities.passage.counted") is EventType.PASSAGE_COUNTED
    assert EventType("fr.paris.feedback.survey.submitted") is EventType.SURVEY_SUBMITTED
    assert EventType("fr.paris.feedback.complaint.filed") is EventType.COMPLAINT_FILED
    assert all(t.startswith(("fr.paris.facilities.", "fr.paris.feedback.")) for t in EventType)


def test_closure_scope_is_discriminated_on_kind() -> None:
    """facility / area / service scopes become their own models."""
    scopes = [
        ClosureData.model_validate(closure_fields(scope=scope)).scope
        for scope in (
            {"kind": "facility"},
            {"kind": "area", "name": "Bassin 50 m"},
            {"kind": "service", "service_id": "etat-civil"},
        )
    ]
    assert [type(s) for s in scopes] == [FacilityScope, AreaScope, ServiceScope]


def test_closure_reasons_are_the_nine_of_the_contract() -> None:
    """The reason list is exactly the one agents choose from."""
    assert {r.value for r in ClosureReason} == {
        "staff_shortage",
        "technical_failure",
        "water_quality",
        "weather",
        "security",
        "works",
        "strike",
        "event",
        "other",
    }


def test_closure_message_needs_french() -> None:
    """Citizen text is French first: a message without fr is refused."""
    with pytest.raises(ValidationError):
        LocalizedText.model_validate({"en": "Closed"})
    assert LocalizedText(fr="Fermé").en is None


def test_closure_end_needs_only_the_closure_id() -> None:
    """Ending a closure needs nothing but its id."""
    assert ClosureEndData.model_validate({"closure_id": "clo-1"}).ended_by is None


def test_headcount_may_be_zero_but_not_negative() -> None:
    """An empty facility is a valid headcount; a negative one is not."""
    assert HeadcountData(sensor_id="s", headcount=0).headcount == 0
    with pytest.raises(ValidationError):
        HeadcountData(sensor_id="s", headcount=-1)


def test_survey_rating_is_between_one_and_five() -> None:
    """A survey answer rates 1 to 5 and names only charter rules."""
    survey = SurveyData.model_validate(
        {"response_id": "r", "channel": "web", "rating": 5, "rules_not_kept": ["welcome"]}
    )
    assert survey.rules_not_kept == ["welcome"]
    for bad in ({"rating": 6}, {"rating": 0}, {"rules_not_kept": ["speed"]}):
        with pytest.raises(ValidationError):
            SurveyData.model_validate({"response_id": "r", "channel": "web", "rating": 3} | bad)


# --- topics -------------------------------------------------------------------------------------


def test_every_event_type_has_exactly_one_producer_topic() -> None:
    """topic_for_type sends each type to a topic that declares it."""
    for event_type in EventType:
        topic = topics.TOPICS[topics.topic_for_type(event_type)]
        assert event_type in topic.event_types
    assert topics.topic_for_type(EventType.COMPLAINT_FILED) == topics.COMPLAINTS


def test_topic_for_an_unknown_type_is_refused() -> None:
    """An unknown type has no topic and is reported as unknown_type."""
    with pytest.raises(InvalidEvent) as caught:
        topics.topic_for_type("fr.paris.facilities.door.opened")
    assert caught.value.reason == Reason.UNKNOWN_TYPE


def test_input_topics_are_the_co_partitioned_facility_topics() -> None:
    """The stream worker joins the six facility input topics, all keyed by facility id."""
    assert topics.INPUT_TOPICS == (
        topics.PASSAGES,
        topics.HEADCOUNTS,
        topics.TICKETS,
        topics.SLOTS,
        topics.CLOSURES,
        topics.CASES,
        topics.EQUIPMENT,
    )
    assert all(topics.TOPICS[name].key == "facility_id" for name in topics.INPUT_TOPICS)


def test_topic_names_and_policies_follow_the_contract() -> None:
    """Names are DESIGN.md's; the status topic is compacted and kept, inputs expire."""
    assert set(topics.TOPICS) == {
        "facility-passages",
        "facility-headcounts",
        "facility-tickets",
        "facility-slots",
        "facility-closures",
        "facility-cases",
        "facility-equipment",
        "feedback-surveys",
        "feedback-complaints",
        "complaints-routed",
        "facility-status",
        "dead-letters",
    }
    status = topics.TOPICS[topics.STATUS]
    assert (status.cleanup_policy, status.retention_ms) == ("compact", None)
    assert topics.TOPICS[topics.COMPLAINTS_ROUTED].key == "service_id"
    assert all(
        t.retention_ms and t.cleanup_policy == "delete"
        for t in topics.TOPICS.values()
        if t.name != topics.STATUS
    )


# --- dead letters -------------------------------------------------------------------------------


def test_dead_letter_keeps_reason_origin_and_payload() -> None:
    """A refused record becomes a dead letter an operator can act on."""
    raw = b'{"specversion": "1.0", "type": "nope"}'
    with pytest.raises(InvalidEvent) as caught:
        decode_event(raw)
    letter = DeadLetter.from_error(
        caught.value,
        topic="facility-passages",
        partition=3,
        offset=1207,
        key=b"piscine-pontoise",
        payload=raw,
    )
    document = orjson.loads(letter.to_json())
    assert document["reason"] == "unknown_type" and document["field"] == "type"
    assert (document["topic"], document["partition"], document["offset"]) == (
        "facility-passages",
        3,
        1207,
    )
    assert document["key"] == "piscine-pontoise" and document["payload"] == raw.decode()
    assert document["received_at"].endswith("Z")


def test_dead_letter_survives_bytes_that_are_not_utf8() -> None:
    """Binary garbage still produces a readable dead letter."""
    error = InvalidEvent(Reason.BAD_JSON, None, "event: not valid JSON")
    letter = DeadLetter.from_error(
        error, topic="t", partition=0, offset=0, key=None, payload=b"\xff\xfe{"
    )
    assert letter.payload == "\ufffd\ufffd{" and letter.key is None
