"""Reading a feedback body: JSON, or the pages' HTML form (no JavaScript needed), bounded in
size, validated by a pydantic model, with errors tied to fields that never echo the input."""

from __future__ import annotations

from typing import Any, TypeVar
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from api.feedback.errors import MAX_BODY, InvalidInput, TooLarge
from api.i18n import N_, bilingual
from schemas.text import ascii_int

__all__ = ["FIELD_MESSAGES", "field_errors", "is_form", "parse", "read_body"]

M = TypeVar("M", bound=BaseModel)

FIELD_MESSAGES: dict[str, str] = {
    "missing": N_("champ obligatoire"),
    "string_too_short": N_("trop court"),
    "string_too_long": N_("trop long"),
    "less_than_equal": N_("valeur trop grande"),
    "greater_than_equal": N_("valeur trop petite"),
    "extra_forbidden": N_("champ inconnu"),
    "enum": N_("valeur non proposée"),
    "literal_error": N_("valeur non proposée"),
    "string_pattern_mismatch": N_("format invalide"),
    "int_parsing": N_("nombre attendu"),
    "int_type": N_("nombre attendu"),
    "string_type": N_("texte attendu"),
}
"""The message (msgid) of each pydantic error type; a field's message is « français / English »."""
INVALID = N_("valeur invalide")


def field_errors(exc: ValidationError) -> dict[str, str]:
    """Messages per field that never echo the input (it may hold personal data)."""
    fields: dict[str, str] = {}
    for error in exc.errors(include_input=False, include_url=False):
        name = ".".join(str(p) for p in error["loc"]) or "body"
        if error["type"] == "value_error":  # the validator's own « fr / en » message
            text = str(error.get("ctx", {}).get("error", bilingual(INVALID)))
        else:
            text = bilingual(FIELD_MESSAGES.get(error["type"], INVALID))
        fields.setdefault(name, text)
    return fields


def is_form(request: Request) -> bool:
    """Whether the body is the pages' HTML form (then errors answer a page, not JSON)."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return kind == "application/x-www-form-urlencoded"


async def _bounded_body(request: Request) -> bytes:
    """The body, refused past :data:`MAX_BODY` bytes (declared or streamed)."""
    declared = request.headers.get("content-length")
    size = ascii_int(declared) if declared is not None else 0
    if size is None or size > MAX_BODY:
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
        raise InvalidInput({"body": bilingual("formulaire illisible")}) from None
    doc: dict[str, Any] = {}
    for name, value in pairs:
        if not value.strip():
            continue
        target = doc
        *parents, leaf = name.split(".")
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise InvalidInput({name: bilingual("champ en double")})
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
        raise InvalidInput({"body": bilingual("JSON invalide")}) from None
    if not isinstance(value, dict):
        raise InvalidInput({"body": bilingual("objet JSON attendu")})
    return value


def parse(model: type[M], doc: dict[str, Any]) -> M:
    """``doc`` validated by ``model``; :class:`InvalidInput` names every bad field."""
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        raise InvalidInput(field_errors(exc)) from None
