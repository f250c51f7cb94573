"""Reading a feedback body: JSON, or the pages' HTML form (no JavaScript needed), bounded in
size, validated by a pydantic model, with errors tied to fields that never echo the input."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.feedback.errors import MAX_BODY, InvalidInput, TooLarge

__all__ = ["FIELD_MESSAGES", "field_errors", "is_form", "parse", "read_body"]

M = TypeVar("M", bound=BaseModel)

FIELD_MESSAGES: dict[str, str] = {
    "missing": "champ obligatoire / required",
    "string_too_short": "trop court / too short",
    "string_too_long": "trop long / too long",
    "less_than_equal": "valeur trop grande / value too large",
    "greater_than_equal": "valeur trop petite / value too small",
    "extra_forbidden": "champ inconnu / unknown field",
    "enum": "valeur non proposée / not one of the choices",
    "literal_error": "valeur non proposée / not one of the choices",
    "string_pattern_mismatch": "format invalide / invalid format",
    "int_parsing": "nombre attendu / a number is expected",
    "int_type": "nombre attendu / a number is expected",
    "string_type": "texte attendu / text is expected",
}
"""The message of each pydantic error type, « français / English »."""


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Messages per field that never echo the input (it may hold personal data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "value_error":
            text = str(error.get("ctx", {}).get("error", "valeur invalide / invalid value"))
        else:
            text = FIELD_MESSAGES.get(error["type"], "valeur invalide / invalid value")
        fields.setdefault(name, text)
    return fields


def is_form(request: Request) -> bool:
    """Whether the body is the pages' HTML form (then errors answer a page, not JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


async def _bounded_body(request: Request) -> bytes:
    """The body, refused past :data:`MAX_BODY` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    if declared is not None and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise TooLarge()
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise TooLarge()
        chunks.append(chunk)
    return b"".join(chunks)


def _form_fields(raw: bytes) -> dict[str, Any]:
    """Form fields as a dict: ``a.b`` names nest, blank values are dropped."""
    try:
        pairs = parse_qsl(raw.decode("utf-8"), keep_blank_values=False, max_num_fields=50)
    except (UnicodeDecodeError, ValueError):
        raise InvalidInput({"body": "formulaire illisible / unreadable form"}) from None
    doc: dict[str, Any] = {}
    for name, value in pairs:
        if not value.strip():
            continue
        target = doc
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise InvalidInput({name: "champ en double / repeated field"})
        target[leaf] = value
    return doc


async def read_body(request: Request) -> dict[str, Any]:
    """The body as a dict: JSON object, or form fields (``a.b`` names nest, blanks dropped)."""
    raw = await _bounded_body(request)
    if is_form(request):
        return _form_fields(raw)
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise InvalidInput({"body": "JSON invalide / invalid JSON"}) from None
    if not isinstance(value, dict):
        raise InvalidInput({"body": "objet JSON attendu / a JSON object is expected"})
    return value


def parse(model: type[M], doc: dict[str, Any]) -> M:
    """``doc`` validated by ``model``; :class:`InvalidInput` names every bad field."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
