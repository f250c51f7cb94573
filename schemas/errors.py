"""Errors raised when something does not honour the Paris Live contract.

One base class; every error carries a machine-readable code and a human message that names the
offending field, so the caller can route it (dead-letter topic, HTTP 4xx, WebSocket error frame)
without parsing text::

    ContractError                      base of everything raised by ``schemas``
    ├── InvalidEvent                   a CloudEvent that cannot be decoded or validated
    │                                  (.reason, .field, .message) → ``dead-letters``
    ├── InvalidStatus                  a FacilityStatus that cannot be decoded (.field, .message)
    ├── InvalidClientMessage           a WebSocket client frame that cannot be understood
    │                                  (.code, .message) → ``{"op": "error", ...}``
    ├── catalogue.UnknownFacility      a facility id the catalogue does not have (also KeyError)
    └── parcours.InvalidParcours       a parcours referring to something the catalogue lacks

``InvalidEvent.reason`` is one of the :class:`Reason` values below; new reasons may be added, none
will be renamed.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    """Why an event was refused (``InvalidEvent.reason``, the ``reason`` of a dead letter)."""

    BAD_JSON = "bad_json"
    """The bytes are not a JSON document (or not a JSON object)."""
    UNKNOWN_TYPE = "unknown_type"
    """``type`` is not one of :class:`schemas.events.EventType`."""
    MISSING_FIELD = "missing_field"
    """A required attribute or data field is absent."""
    UNKNOWN_FIELD = "unknown_field"
    """An attribute or data field the contract does not define."""
    NAIVE_TIME = "naive_time"
    """A timestamp without UTC offset."""
    BAD_TIME = "bad_time"
    """A timestamp that is not an RFC 3339 date-time."""
    INVALID_VALUE = "invalid_value"
    """A field of the wrong type or outside its allowed values."""
    UNKNOWN_FACILITY = "unknown_facility"
    """``subject`` is not a facility of the catalogue."""
    TIME_OUT_OF_RANGE = "time_out_of_range"
    """``time`` more than the allowed skew in the future, or older than the retention."""
    UNKNOWN_EQUIPMENT = "unknown_equipment"
    """``data.equipment_id`` is not an equipment of the facility, or ``data.kind`` not its kind."""
    PERMANENT_ERROR = "permanent_error"
    """A valid-looking record a sink refused for good (e.g. a database ``DataError``)."""


class ContractError(Exception):
    """Base class of every error raised by the ``schemas`` package."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidEvent(ContractError):
    """A CloudEvent that cannot be decoded or does not validate against its type's model.

    ``reason`` is a :class:`Reason` code, ``field`` the dotted path of the offending field
    (``"data.count"``, ``"time"``) or ``None`` when the whole document is at fault.
    """

    def __init__(self, reason: str, field: str | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.field = field

    def __repr__(self) -> str:
        return (
            f"InvalidEvent(reason={self.reason!r}, field={self.field!r}, message={self.message!r})"
        )


class InvalidStatus(ContractError):
    """A FacilityStatus document (Redis, ``facility-status``) that cannot be decoded."""

    def __init__(self, field: str | None, message: str) -> None:
        super().__init__(message)
        self.field = field


class InvalidClientMessage(ContractError):
    """A WebSocket client frame that cannot be understood.

    ``code`` is what the server sends back in ``{"op": "error", "code": ...}``: ``bad_json``,
    ``unknown_op`` or ``invalid_message``.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
