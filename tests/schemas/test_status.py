"""FacilityStatus and the WebSocket messages that carry it to browsers and screens."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest
from pydantic import ValidationError

from schemas.clock import PARIS
from schemas.errors import ContractError, InvalidClientMessage
from schemas.events import AreaScope, ClosureReason
from schemas.status import (
    FacilityStatus,
    Occupancy,
    OccupancyLevel,
    OpenState,
    TimeRange,
    Trend,
)
from schemas.ws import (
    HeartbeatMessage,
    SnapshotMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    UpdateMessage,
    parse_client_message,
    snapshot_frame,
    update_frame,
)


def example(**overrides: Any) -> dict[str, Any]:
    return FacilityStatus.example().model_dump(mode="json") | overrides


# --- FacilityStatus -----------------------------------------------------------------------------


def test_documented_example_is_a_valid_status() -> None:
    """The OpenAPI example parses into the typed model."""
    status = FacilityStatus.example()
    assert status.open_state is OpenState.PARTIALLY_CLOSED
    assert status.occupancy is not None and status.occupancy.level is OccupancyLevel.MODERATE
    assert status.closures[0].reason is ClosureReason.WATER_QUALITY
    assert isinstance(status.closures[0].scope, AreaScope)


def test_example_is_published_in_the_json_schema() -> None:
    """API docs show a realistic example status."""
    schema = FacilityStatus.model_json_schema(mode="serialization")
    assert schema["examples"][0]["facility_id"] == "piscine-pontoise"
    assert set(schema["required"]) == set(FacilityStatus.model_fields)


def test_enumerations_follow_the_contract() -> None:
    """Open states, levels and trends are the words of DESIGN.md."""
    assert {s.value for s in OpenState} == {
        "open",
        "closing_soon",
        "closed",
        "exceptionally_closed",
        "partially_closed",
        "unknown",
    }
    assert [level.value for level in OccupancyLevel] == ["low", "moderate", "high", "full"]
    assert {t.value for t in Trend} == {"rising", "steady", "falling"}


def test_serialised_datetimes_keep_their_offset() -> None:
    """A Paris-time datetime is written with +01:00 in winter, UTC with Z."""
    status = FacilityStatus.model_validate(
        example(
            updated_at=dt.datetime(2025, 1, 10, 9, 0, tzinfo=PARIS),
            last_data_at=dt.datetime(2025, 1, 10, 8, 0, tzinfo=dt.UTC),
        )
    )
    document = orjson.loads(status.to_json())
    assert document["updated_at"] == "2025-01-10T09:00:00+01:00"
    assert document["last_data_at"] == "2025-01-10T08:00:00Z"


def test_naive_datetime_is_refused() -> None:
    """A status with a naive timestamp is a bug and is refused."""
    with pytest.raises(ValidationError, match="timezone"):
        FacilityStatus.model_validate(example(updated_at="2025-01-10T09:00:00"))


def test_unknown_open_state_is_refused() -> None:
    """open_state is one of the six values."""
    with pytest.raises(ValidationError):
        FacilityStatus.model_validate(example(open_state="maybe"))


def test_arrondissement_is_one_to_twenty() -> None:
    """Paris has twenty arrondissements."""
    for bad in (0, 21):
        with pytest.raises(ValidationError):
            FacilityStatus.model_validate(example(arrondissement=bad))


def test_fields_added_by_a_newer_writer_are_ignored() -> None:
    """A reader keeps working while a newer writer adds fields (extend, never rename)."""
    status = FacilityStatus.model_validate(example(wheelchair_lane={"open": True}))
    assert "wheelchair_lane" not in orjson.loads(status.to_json())


def test_every_field_is_written_even_when_empty() -> None:
    """Clients can rely on every key being present, null or empty list when unknown."""
    minimal = FacilityStatus(
        facility_id="mairie-11",
        name="Mairie du 11e",
        type="town_hall",
        arrondissement=11,
        seq=0,
        updated_at=dt.datetime(2025, 6, 14, 8, 0, tzinfo=PARIS),
        open_state=OpenState.UNKNOWN,
    )
    document = orjson.loads(minimal.to_json())
    assert set(document) == set(FacilityStatus.model_fields)
    assert document["occupancy"] is None and document["queues"] == []


def test_time_range_accepts_midnight_close_and_refuses_inverted_ranges() -> None:
    """Hours are HH:MM, may close at 24:00, and open before they close."""
    assert TimeRange(opens="07:00", closes="24:00").closes == "24:00"
    for opens, closes in (("20:00", "08:00"), ("7:00", "20:00"), ("07:00", "25:00")):
        with pytest.raises(ValidationError):
            TimeRange(opens=opens, closes=closes)


def test_occupancy_without_capacity_has_no_level() -> None:
    """A count without a known capacity is still a valid occupancy."""
    occupancy = Occupancy(
        count=12,
        measured_at=dt.datetime(2025, 6, 14, 8, 0, tzinfo=PARIS),
        source="passages",
    )
    assert (occupancy.capacity, occupancy.ratio, occupancy.level) == (None, None, None)
    assert occupancy.trend is Trend.STEADY


# --- WebSocket /v1/live -------------------------------------------------------------------------


def test_subscribe_by_facilities_with_since() -> None:
    """A reconnecting client subscribes to its facilities with the last seq it saw."""
    message = parse_client_message(
        b'{"op": "subscribe", "facilities": ["piscine-pontoise"],'
        b' "since": {"piscine-pontoise": 41}}'
    )
    assert isinstance(message, SubscribeMessage)
    assert message.facilities == ["piscine-pontoise"]
    assert message.since == {"piscine-pontoise": 41}


def test_subscribe_by_filter() -> None:
    """A screen can subscribe to every pool of an arrondissement."""
    message = parse_client_message(
        '{"op": "subscribe", "filter": {"type": "pool", "arrondissement": 5}}'
    )
    assert isinstance(message, SubscribeMessage) and message.filter is not None
    assert (message.filter.type, message.filter.arrondissement) == ("pool", 5)


def test_unsubscribe_without_facilities_means_everything() -> None:
    """Unsubscribe with no list drops every subscription."""
    message = parse_client_message('{"op": "unsubscribe"}')
    assert isinstance(message, UnsubscribeMessage) and message.facilities is None


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("{oops", "bad_json"),
        ("[1, 2]", "bad_json"),
        ('{"op": "publish"}', "unknown_op"),
        ('{"facilities": ["a"]}', "unknown_op"),
        ('{"op": "subscribe"}', "invalid_message"),
        ('{"op": "subscribe", "facilities": ["a"], "filter": {"type": "pool"}}', "invalid_message"),
        ('{"op": "subscribe", "facilities": []}', "invalid_message"),
        ('{"op": "subscribe", "filter": {}}', "invalid_message"),
        ('{"op": "subscribe", "facilities": ["a"], "since": {"a": -1}}', "invalid_message"),
        ('{"op": "subscribe", "facilities": ["a"], "extra": 1}', "invalid_message"),
    ],
)
def test_bad_client_frames_get_an_error_code(raw: str, code: str) -> None:
    """A frame the server cannot act on raises a ContractError with the code to send back."""
    with pytest.raises(InvalidClientMessage) as caught:
        parse_client_message(raw)
    assert caught.value.code == code
    assert isinstance(caught.value, ContractError) and caught.value.message


def test_update_frame_is_the_update_message() -> None:
    """The pre-encoded fast path produces the same JSON as the UpdateMessage model."""
    status = FacilityStatus.example()
    assert orjson.loads(update_frame(status.to_json())) == orjson.loads(
        UpdateMessage(facility=status).to_json()
    )


def test_snapshot_frame_is_the_snapshot_message() -> None:
    """The pre-encoded snapshot equals the SnapshotMessage model, in order."""
    statuses = [
        FacilityStatus.example(),
        FacilityStatus.model_validate(example(facility_id="b", seq=1)),
    ]
    assert orjson.loads(snapshot_frame([s.to_json() for s in statuses])) == orjson.loads(
        SnapshotMessage(facilities=statuses).to_json()
    )


def test_heartbeat_carries_an_aware_time() -> None:
    """Heartbeats say when they were sent, with an offset."""
    frame = orjson.loads(
        HeartbeatMessage(at=dt.datetime(2025, 6, 14, 8, 0, tzinfo=dt.UTC)).to_json()
    )
    assert frame == {"op": "heartbeat", "at": "2025-06-14T08:00:00Z"}


def test_hours_confidence_defaults_to_unknown_for_older_writers() -> None:
    """A status written before hours_confidence existed still decodes, as ``unknown``."""
    document = FacilityStatus.example().model_dump(mode="json")
    assert document["hours_confidence"] == "official"
    del document["hours_confidence"]
    assert FacilityStatus.model_validate(document).hours_confidence == "unknown"
