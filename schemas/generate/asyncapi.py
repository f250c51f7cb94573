"""The AsyncAPI 3.0 document: every Kafka topic with its messages, and the ``/v1/live`` WebSocket.

Message payloads reference the pydantic models' JSON Schemas under ``components.schemas``;
each event message carries its sample event as an example.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from schemas import topics
from schemas.events import EVENT_CLASS, DeadLetter, EventType
from schemas.generate.samples import sample_event
from schemas.status import FacilityStatus
from schemas.ws import (
    ErrorMessage,
    ForecastMessage,
    HeartbeatMessage,
    SnapshotMessage,
    SubscribeMessage,
    UnsubscribeMessage,
    UpdateMessage,
)

__all__ = ["CONTRACT_VERSION", "KAFKA_BINDING", "asyncapi_document"]

CONTRACT_VERSION = "1.0.0"

KAFKA_BINDING = "0.5.0"


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
        (ForecastMessage, "serialization"),
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
        "forecast": ForecastMessage,
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
