"""History rows in PostgreSQL COPY text format: encoded once on the hot path, decoded when refused.

:func:`event_row` and :func:`status_change_row` give one newline-terminated row of the ``events``
and ``status_changes`` tables (the columns of :data:`EVENT_COLS`, :data:`STATUS_COLS`); the worker
appends them to its history batch and :class:`~streams.sinks.postgres.HistoryWriter` COPYs the
batch. When PostgreSQL refuses a row for good, :func:`event_fields` and :func:`event_document` read
it back into the CloudEvents document its dead letter shows.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import orjson

from schemas.events import CloudEvent
from schemas.status import FacilityStatus

_NULL = b"\\N"
EVENT_COLS = "event_id, time, facility_id, type, source, topic, kafka_partition, kafka_offset, data"
STATUS_COLS = "facility_id, seq, at, open_state, occupancy_count, occupancy_ratio, stale, status"

_needs_escape = re.compile(r"[\\\t\n\r]").search


def copy_text(value: str) -> bytes:
    """A text field in COPY text format (backslash, tab, newline and CR escaped)."""
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = (
            value.replace("\\", "\\\\")
            .replace("\t", "\\t")
            .replace("\n", "\\n")
            .replace("\r", "\\r")
        )
    return value.encode()


def copy_json(value: bytes) -> bytes:
    """A JSON document in COPY text format (JSON has no raw control characters; escape ``\\``)."""
    return value.replace(b"\\", b"\\\\")


def event_row(event: CloudEvent, topic: str, partition: int, offset: int) -> bytes:
    """One ``events`` row (the columns of ``EVENT_COLS``), newline-terminated.

    On the hot path: one f-string, one encode. ``subject`` (a slug), ``type`` (an enum value) and
    ``topic`` never need escaping; ``id`` and ``source`` are free text and are checked.
    """
    eid = event.id
    if _needs_escape(eid):
        eid = copy_text(eid).decode()
    source = event.source
    if _needs_escape(source):
        source = copy_text(source).decode()
    data = event.data.__pydantic_serializer__.to_json(event.data)
    if b"\\" in data:
        data = data.replace(b"\\", b"\\\\")
    line = (
        f"{eid}\t{event.time.isoformat()}\t{event.subject}\t{event.type}\t{source}\t{topic}\t"
        f"{partition}\t{offset}\t"
    )
    return line.encode() + data + b"\n"


def status_change_row(status: FacilityStatus, json: bytes) -> bytes:
    """One ``status_changes`` row (the columns of ``STATUS_COLS``), newline-terminated."""
    occ = status.occupancy
    return (
        b"\t".join(
            (
                copy_text(status.facility_id),
                str(status.seq).encode(),
                status.updated_at.isoformat().encode(),
                str(status.open_state).encode(),
                _NULL if occ is None else str(occ.count).encode(),
                _NULL if occ is None or occ.ratio is None else repr(occ.ratio).encode(),
                b"t" if status.stale else b"f",
                copy_json(json),
            )
        )
        + b"\n"
    )


def rows_of(buffer: bytes | bytearray) -> list[bytes]:
    """The newline-terminated COPY rows of a buffer (a raw newline only ends a row)."""
    return [line + b"\n" for line in bytes(buffer).split(b"\n") if line]


_EVENT_FIELDS = [name.strip() for name in EVENT_COLS.split(",")]
_UNESCAPE = {b"\\\\": b"\\", b"\\t": b"\t", b"\\n": b"\n", b"\\r": b"\r"}
_escaped = re.compile(rb"\\[\\tnr]")


def _copy_unescape(value: bytes) -> str:
    return _escaped.sub(lambda m: _UNESCAPE[m.group()], value).decode("utf-8", "replace")


def event_fields(row: bytes) -> dict[str, str]:
    """The columns of an ``events`` COPY row (text; ``data`` as JSON text)."""
    parts = row.rstrip(b"\n").split(b"\t", len(_EVENT_FIELDS) - 1)
    return {name: _copy_unescape(value) for name, value in zip(_EVENT_FIELDS, parts, strict=False)}


def event_document(fields: dict[str, str]) -> bytes:
    """The stored event as CloudEvents JSON (what a dead letter's payload shows)."""
    try:
        data: Any = orjson.loads(fields.get("data", "null"))
    except orjson.JSONDecodeError:
        data = fields.get("data")
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": fields.get("event_id"),
            "source": fields.get("source"),
            "type": fields.get("type"),
            "subject": fields.get("facility_id"),
            "time": fields.get("time"),
            "datacontenttype": "application/json",
            "data": data,
        }
    )


def utc_iso(moment: dt.datetime) -> str:
    """An aware datetime as an RFC 3339 UTC string (rollup buckets)."""
    return moment.astimezone(dt.UTC).isoformat()
