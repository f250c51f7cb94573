"""Self-contained JSON Schema (2020-12) documents of the contract's models."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter
from pydantic.json_schema import JsonSchemaMode

from schemas.events import EVENT_CLASS, EventType

__all__ = ["JSON_SCHEMA_DIALECT", "SCHEMA_ID_BASE", "document_schema", "event_json_schema"]

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID_BASE = "https://schemas.paris-live.paris.fr/v1/"


def event_json_schema(event_type: EventType) -> dict[str, Any]:
    """Self-contained JSON Schema (2020-12) of one event type: envelope with ``type`` pinned."""
    schema = EVENT_CLASS[event_type].model_json_schema(mode="validation")
    schema["properties"]["type"] = {"const": event_type.value, "title": "Type", "type": "string"}
    schema["title"] = event_type.value
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{SCHEMA_ID_BASE}events/{event_type}", **schema}


def document_schema(name: str, adapter: TypeAdapter[Any], mode: JsonSchemaMode) -> dict[str, Any]:
    """JSON Schema of the document ``name``, validated (or serialised) by ``adapter``."""
    schema = adapter.json_schema(mode=mode)
    return {"$schema": JSON_SCHEMA_DIALECT, "$id": f"{SCHEMA_ID_BASE}{name}", **schema}
