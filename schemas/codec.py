"""Bytes ⇄ models on the hot path: events in, statuses out.

Choice of decoder: pydantic-core's ``validate_json`` over the discriminated union
:data:`schemas.events.AnyEvent` — the one definition in :mod:`schemas.events`, no second copy.

Measured on this machine (2 shared cores, one core pinned), same bytes, same run:

* ``python -m bench.decode`` (200,000 events, 80 % passages): ``decode_event`` ≈ 190–245k events/s
  against ``orjson.loads`` ≈ 1.15M events/s (ratio ≈ 0.2); refusals ≈ 110k events/s;
* a msgspec 0.20 Struct mirror of the passage/headcount envelopes (probe outside the project venv):
  ≈ 1.06M events/s against pydantic's 0.34M on the same 100,000 events.

msgspec is ~3× faster, but pydantic already clears the ≥ 100,000 events/s target by > 2× and a
msgspec mirror would be a second definition to keep in lock-step (and a second JSON Schema story),
so the hot path stays on pydantic. Revisit if the target rises past ~200k events/s per core.
Validation errors are rare; they are translated to :class:`~schemas.errors.InvalidEvent` with a
precise reason and dotted field.
"""

from __future__ import annotations

from collections.abc import Container

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from schemas.errors import InvalidEvent, InvalidStatus, Reason
from schemas.events import ANY_EVENT, CloudEvent, EventType
from schemas.status import FacilityStatus

__all__ = [
    "decode_event",
    "decode_status",
    "encode_event",
    "encode_status",
    "invalid_event_from",
]

_EVENT_TYPES = frozenset(EventType)
_validate_event = ANY_EVENT.validate_json
_validate_status = FacilityStatus.model_validate_json

_SCOPE_KINDS = frozenset({"facility", "area", "service"})
_TIME_ERRORS = frozenset(
    {"datetime_parsing", "datetime_type", "datetime_from_date_parsing", "datetime_object_invalid"}
)


def decode_event(raw: bytes | str, *, facilities: Container[str] | None = None) -> CloudEvent:
    """Decode and validate one structured-mode CloudEvent.

    With ``facilities``, an event whose ``subject`` is not in it is refused (``unknown_facility``).
    Raises :class:`~schemas.errors.InvalidEvent` with ``reason`` and dotted ``field``.
    """
    try:
        event: CloudEvent = _validate_event(raw)
    except ValidationError as exc:
        raise invalid_event_from(exc, discriminated=True) from None
    if facilities is not None and event.subject not in facilities:
        raise InvalidEvent(
            Reason.UNKNOWN_FACILITY,
            "subject",
            f"subject: {event.subject!r} is not a facility of the catalogue",
        )
    return event


def encode_event(event: CloudEvent) -> bytes:
    """Structured-mode JSON bytes of an event (what producers write to Kafka)."""
    return event.to_json()


def encode_status(status: FacilityStatus) -> bytes:
    """JSON bytes of a status (Redis value, ``facility-status`` record, REST/WS payload)."""
    return status.to_json()


def decode_status(raw: bytes | str) -> FacilityStatus:
    """Decode a status written by :func:`encode_status`; raises :class:`InvalidStatus`."""
    try:
        return _validate_status(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = ".".join(str(part) for part in error["loc"]) or None
        raise InvalidStatus(field, f"{field or 'status'}: {error['msg']}") from None


def invalid_event_from(exc: ValidationError, *, discriminated: bool) -> InvalidEvent:
    """Translate pydantic's first error into an :class:`InvalidEvent` (reason, dotted field).

    ``discriminated`` is true when the error comes from the union keyed by ``type``: the first
    element of a field error's location is then the tag, not a field.
    """
    errors = exc.errors(include_url=False)
    error = errors[0]
    reason, field, text = _describe(error, discriminated)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return InvalidEvent(reason, field, f"{field or 'event'}: {text}{more}")


def _describe(error: ErrorDetails, discriminated: bool) -> tuple[Reason, str | None, str]:
    kind = error["type"]
    if kind == "json_invalid":
        return Reason.BAD_JSON, None, f"not valid JSON ({error['ctx']['error']})"
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        document = error["input"]
        if not isinstance(document, dict):
            return Reason.BAD_JSON, None, "an event must be a JSON object"
        if kind == "union_tag_not_found":
            return Reason.MISSING_FIELD, "type", "required attribute missing"
        return (
            Reason.UNKNOWN_TYPE,
            "type",
            f"{document.get('type')!r} is not an event type of the contract",
        )
    field = _dotted(error["loc"][1:] if discriminated else error["loc"])
    if kind in {"model_attributes_type", "model_type", "dict_type"} and field is None:
        return Reason.BAD_JSON, None, "an event must be a JSON object"
    if kind == "missing":
        return Reason.MISSING_FIELD, field, "required field missing"
    if kind == "extra_forbidden":
        return Reason.UNKNOWN_FIELD, field, "field not defined by the contract"
    if kind == "timezone_aware":
        return Reason.NAIVE_TIME, field, "timestamp without UTC offset (RFC 3339 requires one)"
    if kind in _TIME_ERRORS:
        return Reason.BAD_TIME, field, f"not an RFC 3339 date-time ({error['msg']})"
    return Reason.INVALID_VALUE, field, f"{error['msg']} (got {error['input']!r})"


def _dotted(loc: tuple[int | str, ...]) -> str | None:
    """``('data', 'scope', 'area', 'name')`` → ``'data.scope.name'`` (drop the scope's tag)."""
    parts = [
        str(part)
        for i, part in enumerate(loc)
        if not (i > 0 and loc[i - 1] == "scope" and part in _SCOPE_KINDS)
    ]
    return ".".join(parts) or None
