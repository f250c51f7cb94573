"""Generated artefacts: up to date, valid AsyncAPI (official parser), samples valid everywhere."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from cloudevents.http import from_json
from cloudevents.kafka import KafkaMessage, from_structured
from jsonschema import Draft202012Validator

from schemas import generate, topics
from schemas.codec import decode_event
from schemas.errors import InvalidEvent
from schemas.events import EventType
from schemas.ws import update_frame

ROOT = Path(__file__).resolve().parents[2]
VALIDATOR = ROOT / "schemas" / "validate_asyncapi.mjs"
ASYNCAPI = generate.GENERATED_DIR / "asyncapi.yaml"


def load(path: Path) -> Any:
    return json.loads(path.read_text("utf-8"))


def validator(path: Path) -> Draft202012Validator:
    schema = load(path)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def event_schema(event_type: EventType) -> Draft202012Validator:
    return validator(generate.GENERATED_DIR / "events" / f"{event_type}.schema.json")


def sample(event_type: EventType) -> dict[str, Any]:
    document: dict[str, Any] = load(generate.SAMPLES_DIR / f"{event_type}.json")
    return document


# --- freshness ----------------------------------------------------------------------------------


def test_generated_files_are_up_to_date() -> None:
    """The committed schemas, AsyncAPI and samples match the models (`--check` passes)."""
    stale = generate.stale_files(generate.artefacts())
    assert stale == [], "run `python -m schemas.generate`: stale " + ", ".join(map(str, stale))
    assert generate.main(["--check"]) == 0


def test_check_detects_changed_missing_and_leftover_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` fails on any drift and a plain run repairs it."""
    monkeypatch.setattr(generate, "GENERATED_DIR", tmp_path / "generated")
    monkeypatch.setattr(generate, "SAMPLES_DIR", tmp_path / "samples")
    monkeypatch.setattr(generate, "SCHEMAS_DIR", tmp_path)
    assert generate.main(["--check"]) == 1  # nothing written yet
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0

    edited = tmp_path / "generated" / "facility-status.schema.json"
    edited.write_text("{}", encoding="utf-8")
    leftover = tmp_path / "samples" / "fr.paris.facilities.door.opened.json"
    leftover.write_text("{}", encoding="utf-8")
    capsys.readouterr()
    assert generate.main(["--check"]) == 1
    err = capsys.readouterr().err
    assert "facility-status.schema.json" in err and "door.opened" in err

    assert generate.main([]) == 0
    assert not leftover.exists() and edited.read_text("utf-8") != "{}"
    assert generate.main(["--check"]) == 0


# --- AsyncAPI -----------------------------------------------------------------------------------


def run_official_parser(path: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: cannot run the official @asyncapi/parser")
    if not (ROOT / "node_modules" / "@asyncapi" / "parser").is_dir():
        pytest.fail("@asyncapi/parser is missing: run `npm ci` at the repository root")
    return subprocess.run(
        [node, str(VALIDATOR), str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )


def test_asyncapi_document_is_valid_for_the_official_parser() -> None:
    """@asyncapi/parser accepts the document with no error and no warning."""
    result = run_official_parser(ASYNCAPI)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VALID" in result.stdout and "0 errors, 0 warnings" in result.stdout


def test_official_parser_rejects_a_broken_document(tmp_path: Path) -> None:
    """The validation step can fail: a dangling message reference is reported."""
    document = yaml.safe_load(ASYNCAPI.read_text("utf-8"))
    del document["components"]["messages"]["passageCounted"]
    broken = tmp_path / "asyncapi.yaml"
    broken.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run_official_parser(broken)
    assert result.returncode == 1
    assert "INVALID" in result.stdout and "passageCounted" in result.stdout


def test_asyncapi_describes_every_topic_every_event_and_the_websocket() -> None:
    """Every Kafka topic, event type and /v1/live message is documented."""
    document = yaml.safe_load(ASYNCAPI.read_text("utf-8"))
    assert document["asyncapi"].startswith("3.0")
    addresses = {channel["address"] for channel in document["channels"].values()}
    assert addresses == set(topics.TOPICS) | {"/v1/live"}
    names = {message["name"] for message in document["components"]["messages"].values()}
    assert {event_type.value for event_type in EventType} <= names
    assert {"subscribe", "unsubscribe", "snapshot", "update", "heartbeat", "error"} <= names
    passages = document["channels"]["facilityPassages"]["bindings"]["kafka"]
    assert passages["topicConfiguration"]["cleanup.policy"] == ["delete"]


# --- samples ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_sample_is_a_valid_cloudevent_for_the_sdk(event_type: EventType) -> None:
    """The CloudEvents SDK reads each sample (HTTP structured and Kafka structured modes)."""
    raw = (generate.SAMPLES_DIR / f"{event_type}.json").read_bytes()
    for event in (
        from_json(raw),
        from_structured(KafkaMessage(headers={}, key=b"piscine-pontoise", value=raw)),
    ):
        assert event["specversion"] == "1.0"
        assert event["type"] == event_type.value
        assert event["subject"] == sample(event_type)["subject"]
        assert event.data == sample(event_type)["data"]


@pytest.mark.parametrize("event_type", list(EventType), ids=str)
def test_sample_validates_against_its_json_schemas(event_type: EventType) -> None:
    """Each sample passes its own type's schema and the any-event schema, and decodes."""
    document = sample(event_type)
    event_schema(event_type).validate(document)
    validator(generate.GENERATED_DIR / "cloudevent.schema.json").validate(document)
    assert decode_event(json.dumps(document)).type is event_type


def test_type_schema_refuses_a_sample_of_another_type() -> None:
    """A per-type schema pins its type: a ticket.called sample fails the ticket.issued schema."""
    assert not event_schema(EventType.TICKET_ISSUED).is_valid(sample(EventType.TICKET_CALLED))


MUTATIONS: dict[str, tuple[EventType, Any]] = {
    "negative count": (EventType.PASSAGE_COUNTED, lambda d: d["data"].update(count=-1)),
    "bad direction": (EventType.PASSAGE_COUNTED, lambda d: d["data"].update(direction="up")),
    "count as string": (EventType.PASSAGE_COUNTED, lambda d: d["data"].update(count="1")),
    "naive time": (EventType.PASSAGE_COUNTED, lambda d: d.update(time="2025-06-14T10:00:00")),
    "epoch time": (EventType.PASSAGE_COUNTED, lambda d: d.update(time=1749890520)),
    "missing subject": (EventType.HEADCOUNT_MEASURED, lambda d: d.pop("subject")),
    "slug subject": (EventType.HEADCOUNT_MEASURED, lambda d: d.update(subject="Mairie 11")),
    "unknown data field": (EventType.TICKET_SERVED, lambda d: d["data"].update(desk=3)),
    "unknown attribute": (EventType.TICKET_SERVED, lambda d: d.update(traceparent="00-ab")),
    "unknown type": (EventType.CASE_OPENED, lambda d: d.update(type="fr.paris.x")),
    "unknown reason": (EventType.CLOSURE_DECLARED, lambda d: d["data"].update(reason="aliens")),
    "area without name": (
        EventType.CLOSURE_DECLARED,
        lambda d: d["data"].update(scope={"kind": "area"}),
    ),
    "message without fr": (
        EventType.CLOSURE_UPDATED,
        lambda d: d["data"].update(message={"en": "Closed"}),
    ),
    "rating 6": (EventType.SURVEY_SUBMITTED, lambda d: d["data"].update(rating=6)),
    "slots negative": (EventType.SLOTS_PUBLISHED, lambda d: d["data"].update(free_slots_7d=-1)),
}


@pytest.mark.parametrize("case", list(MUTATIONS))
def test_json_schema_and_decoder_refuse_the_same_mistakes(case: str) -> None:
    """Publishing the schema does not promise more than the decoder accepts, and vice versa."""
    event_type, mutate = MUTATIONS[case]
    document = sample(event_type)
    mutate(document)
    assert not validator(generate.GENERATED_DIR / "cloudevent.schema.json").is_valid(document)
    with pytest.raises(InvalidEvent):
        decode_event(json.dumps(document))


def test_status_sample_and_update_frame_validate_against_their_schemas() -> None:
    """The status example matches facility-status.schema.json; its update frame the WS schema."""
    status = load(generate.SAMPLES_DIR / "facility-status.json")
    validator(generate.GENERATED_DIR / "facility-status.schema.json").validate(status)
    frame = json.loads(update_frame(json.dumps(status).encode()))
    validator(generate.GENERATED_DIR / "ws-server-message.schema.json").validate(frame)
    client = {"op": "subscribe", "facilities": ["piscine-pontoise"]}
    validator(generate.GENERATED_DIR / "ws-client-message.schema.json").validate(client)
