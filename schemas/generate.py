"""Write the contract's generated artefacts from the models — ``python -m schemas.generate``.

* ``schemas/generated/events/<type>.schema.json`` — JSON Schema (2020-12) of each event type,
  envelope and data;
* ``schemas/generated/facility-status.schema.json``, ``dead-letter.schema.json``,
  ``ws-client-message.schema.json``, ``ws-server-message.schema.json``;
* ``schemas/generated/asyncapi.yaml`` — AsyncAPI 3.0: every Kafka topic with its messages, and
  the ``/v1/live`` WebSocket channel;
* ``schemas/samples/<type>.json`` — one valid sample event per type (plus ``facility-status.json``).

``--check`` writes nothing and exits 1 when a file is missing, different or left over.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from schemas import topics
from schemas.clock import PARIS
from schemas.events import (
    EVENT_CLASS,
    AnyEvent,
    CloudEvent,
    DeadLetter,
    EventType,
    make_event,
)
from schemas.status import FacilityStatus
from schemas.ws import (
    ClientMessage,
    ErrorMessage,
    HeartbeatMessage,
    ServerMessage,
    SnapshotMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    UpdateMessage,
)

SCHEMAS_DIR = Path(__file__).resolve().parent
GENERATED_DIR = SCHEMAS_DIR / "generated"
SAMPLES_DIR = SCHEMAS_DIR / "samples"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://schemas.paris-live.paris.fr/v1/"
CONTRACT_VERSION = "1.0.0"

KAFKA_BINDING = "0.5.0"


# ---------------------------------------------------------------------------------------------
# sample events — deterministic, realistic


def _at(hour: int, minute: int, second: int = 0) -> dt.datetime:
    return dt.datetime(2025, 6, 14, hour, minute, second, tzinfo=PARIS)


_SAMPLES: dict[EventType, tuple[str, str, dict[str, Any]]] = {
    EventType.PASSAGE_COUNTED: (
        "piscine-pontoise",
        "/turnstiles/piscine-pontoise/tripode-1",
        {"gate_id": "tripode-1", "direction": "in", "count": 1},
    ),
    EventType.HEADCOUNT_MEASURED: (
        "piscine-pontoise",
        "/sensors/piscine-pontoise/camera-hall",
        {"sensor_id": "camera-hall", "headcount": 87},
    ),
    EventType.TICKET_ISSUED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_CALLED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_SERVED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A042", "service_id": "etat-civil"},
    ),
    EventType.TICKET_ABANDONED: (
        "mairie-11",
        "/queue-machines/mairie-11/borne-1",
        {"ticket_id": "A043", "service_id": "etat-civil"},
    ),
    EventType.SLOTS_PUBLISHED: (
        "mairie-11",
        "/booking/mairie-11",
        {
            "service_id": "titres-identite",
            "next_available_at": _at(9, 30).replace(day=19),
            "free_slots_7d": 12,
        },
    ),
    EventType.CLOSURE_DECLARED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {
            "closure_id": "clo-5f1c",
            "scope": {"kind": "area", "name": "Bassin 25 m"},
            "reason": "water_quality",
            "message": {
                "fr": "Bassin fermé pour analyse de l'eau.",
                "en": "Pool closed for water testing.",
            },
            "starts_at": _at(9, 0),
            "expected_reopening_at": _at(14, 0),
            "declared_by": "agent-4821",
        },
    ),
    EventType.CLOSURE_UPDATED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {
            "closure_id": "clo-5f1c",
            "scope": {"kind": "area", "name": "Bassin 25 m"},
            "reason": "water_quality",
            "message": {
                "fr": "Analyse prolongée : réouverture prévue à 16 h.",
                "en": "Testing extended: expected to reopen at 4 pm.",
            },
            "starts_at": _at(9, 0),
            "expected_reopening_at": _at(16, 0),
            "declared_by": "agent-4821",
        },
    ),
    EventType.CLOSURE_ENDED: (
        "piscine-pontoise",
        "/agents/agent-4821",
        {"closure_id": "clo-5f1c", "ended_by": "agent-4821"},
    ),
    EventType.CASE_OPENED: (
        "mairie-11",
        "/procedures/mairie-11",
        {"procedure_id": "carte-identite", "case_id": "CNI-2025-118734"},
    ),
    EventType.CASE_CLOSED: (
        "mairie-11",
        "/procedures/mairie-11",
        {"procedure_id": "carte-identite", "case_id": "CNI-2025-118734"},
    ),
    EventType.SURVEY_SUBMITTED: (
        "mairie-11",
        "/feedback/web",
        {
            "response_id": "srv-9d2e",
            "service_id": "etat-civil",
            "channel": "web",
            "rating": 4,
            "rules_not_kept": ["delays"],
            "comment": "Accueil très aimable, mais 40 minutes d'attente.",
            "language": "fr",
            "rule_ratings": {"information": 4, "delays": 2, "orientation": 5, "welcome": 5},
        },
    ),
    EventType.COMPLAINT_FILED: (
        "mairie-11",
        "/feedback/web",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "rule": "orientation",
            "channel": "web",
            "text": "On m'a envoyé au mauvais guichet deux fois.",
            "contact": "usager@example.org",
            "language": "fr",
            "topic": "wrong_service",
            "answer_due_at": _at(23, 59, 59).replace(day=29),
        },
    ),
    EventType.COMPLAINT_ACKNOWLEDGED: (
        "mairie-11",
        "/complaints/etat-civil",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "acknowledged_by": "agent-1207",
            "answer_due_at": _at(18, 0).replace(day=28),
        },
    ),
    EventType.COMPLAINT_ANSWERED: (
        "mairie-11",
        "/complaints/etat-civil",
        {
            "complaint_id": "rec-2025-00417",
            "service_id": "etat-civil",
            "answered_by": "agent-1207",
            "answer": {
                "fr": "Nous avons revu la signalétique de l'accueil. Merci de votre signalement.",
                "en": "We have reviewed the reception signage. Thank you for reporting this.",
            },
        },
    ),
}


def sample_event(event_type: EventType) -> CloudEvent:
    """The documented sample event of ``event_type`` (deterministic id and time)."""
    subject, source, data = _SAMPLES[event_type]
    index = list(EventType).index(event_type)
    return make_event(
        event_type,
        subject,
        data,
        source=source,
        time=_at(10, 42, index),
        id=f"00000000-0000-4000-8000-{index:012d}",
    )


# ---------------------------------------------------------------------------------------------
# JSON Schema


def event_json_schema(event_type: EventType) -> dict[str, Any]:
    """Self-contained JSON Schema (2020-12) of one event type: envelope with ``type`` pinned."""
    schema = EVENT_CLASS[event_type].model_json_schema(mode="validation")
    schema["properties"]["type"] = {"const": event_type.value, "title": "Type", "type": "string"}
    schema["title"] = event_type.value
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{SCHEMA_ID_BASE}events/{event_type}", **schema}


def _document_schema(name: str, adapter: TypeAdapter[Any], mode: JsonSchemaMode) -> dict[str, Any]:
    schema = adapter.json_schema(mode=mode)
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{SCHEMA_ID_BASE}{name}", **schema}


# ---------------------------------------------------------------------------------------------
# AsyncAPI


def _message_name(event_type: EventType) -> str:
    noun, verb = event_type.value.split(".")[-2:]
    return noun + verb.capitalize()


def _channel_name(topic_name: str) -> str:
    first, *rest = topic_name.split("-")
    return first + "".join(part.capitalize() for part in rest)


def _asyncapi_schema(schema: Any) -> Any:
    """Pydantic JSON Schema → AsyncAPI Schema Object (``discriminator`` is a property name)."""
    if isinstance(schema, dict):
        out = {key: _asyncapi_schema(value) for key, value in schema.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(schema, list):
        return [_asyncapi_schema(item) for item in schema]
    return schema


def _component_schemas() -> dict[str, Any]:
    models: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        *((cls, "validation") for cls in dict.fromkeys(EVENT_CLASS.values())),
        (SubscribeMessage, "validation"),
        (UnsubscribeMessage, "validation"),
        (FacilityStatus, "serialization"),
        (DeadLetter, "serialization"),
        (SnapshotMessage, "serialization"),
        (UpdateMessage, "serialization"),
        (HeartbeatMessage, "serialization"),
        (ErrorMessage, "serialization"),
    ]
    _, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = _asyncapi_schema(top["$defs"])
    return dict(sorted(schemas.items()))


def _kafka_key(description: str) -> dict[str, Any]:
    return {
        "kafka": {
            "key": {"type": "string", "description": description},
            "bindingVersion": KAFKA_BINDING,
        }
    }


def asyncapi_document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document of every Kafka topic and the ``/v1/live`` WebSocket."""
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}

    for event_type, cls in EVENT_CLASS.items():
        name = _message_name(event_type)
        messages[name] = {
            "name": event_type.value,
            "title": cls.__name__,
            "summary": (cls.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {
                "allOf": [
                    {"$ref": f"#/components/schemas/{cls.__name__}"},
                    {"type": "object", "properties": {"type": {"const": event_type.value}}},
                ]
            },
            "examples": [
                {
                    "name": f"sample-{name}",
                    "payload": json.loads(sample_event(event_type).to_json()),
                }
            ],
        }
    messages["facilityStatus"] = {
        "name": "FacilityStatus",
        "title": "FacilityStatus",
        "summary": "Latest status of a facility (the record key is the facility id).",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/FacilityStatus"},
        "examples": [
            {
                "name": "piscine-pontoise",
                "payload": FacilityStatus.example().model_dump(mode="json"),
            }
        ],
    }
    messages["deadLetter"] = {
        "name": "DeadLetter",
        "title": "DeadLetter",
        "summary": "A record that could not be decoded or validated, with the reason.",
        "contentType": "application/json",
        "payload": {"$ref": "#/components/schemas/DeadLetter"},
    }

    for topic in topics.TOPICS.values():
        channel = _channel_name(topic.name)
        key = "competent service id" if topic.key == "service_id" else "facility id"
        if topic.name == topics.STATUS:
            names = ["facilityStatus"]
        elif topic.name == topics.DEAD_LETTERS:
            names = ["deadLetter"]
        else:
            names = [_message_name(EventType(t)) for t in topic.event_types]
        configuration: dict[str, Any] = {"cleanup.policy": [topic.cleanup_policy]}
        if topic.retention_ms is not None:
            configuration["retention.ms"] = topic.retention_ms
        channels[channel] = {
            "address": topic.name,
            "title": topic.name,
            "description": (
                f"Kafka topic `{topic.name}`, keyed by the {key} (UTF-8)."
                + (
                    " Co-partitioned with the other facility input topics."
                    if topic.co_partitioned
                    else ""
                )
            ),
            "servers": [{"$ref": "#/servers/kafka"}],
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in names},
            "bindings": {
                "kafka": {
                    "topic": topic.name,
                    "topicConfiguration": configuration,
                    "bindingVersion": KAFKA_BINDING,
                }
            },
        }
        for name in names:
            messages[name].setdefault("bindings", _kafka_key(f"the {key}"))
        action: Literal["send", "receive"]
        action = (
            "send"
            if topic.name in {topics.STATUS, topics.DEAD_LETTERS, topics.COMPLAINTS_ROUTED}
            else "receive"
        )
        operations[f"{action}{channel[0].upper()}{channel[1:]}"] = {
            "action": action,
            "channel": {"$ref": f"#/channels/{channel}"},
            "messages": [{"$ref": f"#/channels/{channel}/messages/{name}"} for name in names],
        }

    live_client = {"subscribe": SubscribeMessage, "unsubscribe": UnsubscribeMessage}
    live_server = {
        "snapshot": SnapshotMessage,
        "update": UpdateMessage,
        "heartbeat": HeartbeatMessage,
        "error": ErrorMessage,
    }
    for op, model in {**live_client, **live_server}.items():
        messages[f"live{op.capitalize()}"] = {
            "name": op,
            "title": model.__name__,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": f"#/components/schemas/{model.__name__}"},
        }
    channels["live"] = {
        "address": "/v1/live",
        "title": "Live facility status",
        "description": (
            "WebSocket, JSON text frames. Subscribe to facilities (or a filter); the server "
            "answers "
            "a snapshot, then an update on every change and a heartbeat at least every 15 s. "
            "A client keeps the highest `seq` per facility and ignores anything older."
        ),
        "servers": [{"$ref": "#/servers/live"}],
        "messages": {
            f"live{op.capitalize()}": {"$ref": f"#/components/messages/live{op.capitalize()}"}
            for op in {**live_client, **live_server}
        },
    }
    operations["receiveLiveClientMessages"] = {
        "action": "receive",
        "channel": {"$ref": "#/channels/live"},
        "messages": [
            {"$ref": f"#/channels/live/messages/live{op.capitalize()}"} for op in live_client
        ],
    }
    operations["sendLiveServerMessages"] = {
        "action": "send",
        "channel": {"$ref": "#/channels/live"},
        "messages": [
            {"$ref": f"#/channels/live/messages/live{op.capitalize()}"} for op in live_server
        ],
    }

    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Paris Live",
            "version": CONTRACT_VERSION,
            "description": (
                "Real-time status of the City of Paris facilities (« Vous simplifier Paris »). "
                "Input events are CloudEvents 1.0 in structured JSON mode; every Kafka key is the "
                "facility id, except on `complaints-routed` (competent service id)."
            ),
            "license": {"name": "EUPL-1.2", "url": "https://eupl.eu/1.2/fr/"},
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "127.0.0.1:19092",
                "protocol": "kafka",
                "description": "Apache Kafka; topic names are prefixed per deployment.",
            },
            "live": {
                "host": "127.0.0.1:8000",
                "protocol": "ws",
                "description": "The Paris Live API.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _component_schemas()},
    }


# ---------------------------------------------------------------------------------------------
# files


def _json(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _yaml(document: Mapping[str, Any]) -> str:
    header = "# Generated by `python -m schemas.generate` — do not edit.\n"
    return header + yaml.safe_dump(
        document, sort_keys=False, allow_unicode=True, width=100, default_flow_style=False
    )


def artefacts() -> dict[Path, str]:
    """Every generated file and its content."""
    files: dict[Path, str] = {}
    for event_type in EventType:
        files[GENERATED_DIR / "events" / f"{event_type}.schema.json"] = _json(
            event_json_schema(event_type)
        )
        event = sample_event(event_type)
        files[SAMPLES_DIR / f"{event_type}.json"] = _json(json.loads(event.to_json()))
    files[SAMPLES_DIR / "facility-status.json"] = _json(
        FacilityStatus.example().model_dump(mode="json")
    )
    files[GENERATED_DIR / "cloudevent.schema.json"] = _json(
        _document_schema("cloudevent", TypeAdapter(AnyEvent), "validation")
    )
    files[GENERATED_DIR / "facility-status.schema.json"] = _json(
        _document_schema("facility-status", TypeAdapter(FacilityStatus), "serialization")
    )
    files[GENERATED_DIR / "dead-letter.schema.json"] = _json(
        _document_schema("dead-letter", TypeAdapter(DeadLetter), "serialization")
    )
    files[GENERATED_DIR / "ws-client-message.schema.json"] = _json(
        _document_schema("ws-client-message", TypeAdapter(ClientMessage), "validation")
    )
    files[GENERATED_DIR / "ws-server-message.schema.json"] = _json(
        _document_schema("ws-server-message", TypeAdapter(ServerMessage), "serialization")
    )
    files[GENERATED_DIR / "asyncapi.yaml"] = _yaml(asyncapi_document())
    return files


def stale_files(files: Mapping[Path, str]) -> list[Path]:
    """Files that differ from ``files``, are missing, or are generated leftovers."""
    stale = [
        path for path, text in files.items() if not path.exists() or path.read_text("utf-8") != text
    ]
    for directory in (GENERATED_DIR, SAMPLES_DIR):
        if directory.exists():
            stale += [
                path
                for path in sorted(directory.rglob("*"))
                if path.is_file() and path.suffix in {".json", ".yaml"} and path not in files
            ]
    return stale


def main(argv: list[str] | None = None) -> int:
    """Write (or ``--check``) the generated artefacts; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m schemas.generate", description=__doc__)
    parser.add_argument("--check", action="store_true", help="exit 1 if any file is stale")
    args = parser.parse_args(argv)
    files = artefacts()
    stale = stale_files(files)
    if args.check:
        for path in stale:
            print(f"stale: {path.relative_to(SCHEMAS_DIR.parent)}", file=sys.stderr)
        if stale:
            print("run `python -m schemas.generate` and commit the result", file=sys.stderr)
        return 1 if stale else 0
    for path in stale:
        if path in files:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(files[path], encoding="utf-8")
            print(f"wrote {path.relative_to(SCHEMAS_DIR.parent)}")
        else:
            path.unlink()
            print(f"removed {path.relative_to(SCHEMAS_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
