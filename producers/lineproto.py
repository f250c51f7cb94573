"""Line protocols of the devices, and the per-gate-and-second batching of passages — pure code.

Turnstile / gate controller, one passage (or a group) per line::

    <facility_id> <gate_id> <in|out> [count] [RFC 3339 time]
    piscine-pontoise porte-1 in
    piscine-pontoise porte-1 out 3 2026-06-02T12:31:07+02:00

Queue-ticket machine, one ticket step per line::

    <facility_id> <service_id> <ticket_id> <issued|called|served|abandoned> [RFC 3339 time]
    mairie-15 etat-civil A042 called 2026-06-02T09:12:40+02:00

Fields are separated by spaces or tabs; empty lines and lines starting with ``#`` are ignored.
``count`` defaults to 1 (1–10,000); a missing time means "now" at the adapter. A time must carry
its UTC offset (``Z`` or ``+02:00``): a naive time is refused. Anything else raises
:class:`~producers.errors.MalformedInput` with a short ``reason`` code, which the adapter logs and
counts before reading the next line.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Container
from dataclasses import dataclass

from producers.errors import MalformedInput
from schemas.events import CloudEvent, EventType, make_event
from schemas.text import ascii_int

MAX_LINE = 1024
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,199}$")
TICKET_ACTIONS: dict[str, EventType] = {
    "issued": EventType.TICKET_ISSUED,
    "called": EventType.TICKET_CALLED,
    "served": EventType.TICKET_SERVED,
    "abandoned": EventType.TICKET_ABANDONED,
}


@dataclass(frozen=True, slots=True)
class PassageLine:
    """One turnstile line: ``count`` people through ``gate_id`` in ``direction``."""

    facility_id: str
    gate_id: str
    direction: str
    count: int
    time: dt.datetime | None


@dataclass(frozen=True, slots=True)
class TicketLine:
    """One ticket-machine line."""

    facility_id: str
    service_id: str
    ticket_id: str
    action: str
    time: dt.datetime | None


def parse_time(text: str) -> dt.datetime:
    """An RFC 3339 date-time with offset; raises MalformedInput (``bad_time`` / ``naive_time``)."""
    try:
        value = dt.datetime.fromisoformat(text.replace("z", "Z"))
    except ValueError:
        raise MalformedInput("bad_time", f"{text!r} is not an RFC 3339 date-time") from None
    if value.tzinfo is None or value.utcoffset() is None:
        raise MalformedInput("naive_time", f"{text!r} has no UTC offset (add Z or +02:00)")
    return value


def _fields(line: str, least: int, most: int, shape: str) -> list[str] | None:
    if len(line) > MAX_LINE:
        raise MalformedInput("too_long", f"line longer than {MAX_LINE} characters")
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    fields = text.split()
    if not least <= len(fields) <= most:
        raise MalformedInput("field_count", f"expected {shape}, got {len(fields)} fields")
    return fields


def _facility(value: str, facilities: Container[str] | None) -> str:
    if not _SLUG.match(value):
        raise MalformedInput("bad_facility", f"{value!r} is not a facility id (lowercase slug)")
    if facilities is not None and value not in facilities:
        raise MalformedInput("unknown_facility", f"{value!r} is not a facility of the catalogue")
    return value


def _identifier(value: str, what: str) -> str:
    if not _ID.match(value):
        raise MalformedInput(f"bad_{what}", f"{value!r} is not a valid {what}")
    return value


def parse_passage_line(
    line: str, *, facilities: Container[str] | None = None
) -> PassageLine | None:
    """A turnstile line, or None for an empty or comment line."""
    fields = _fields(line, 3, 5, "<facility_id> <gate_id> <in|out> [count] [time]")
    if fields is None:
        return None
    facility_id = _facility(fields[0], facilities)
    gate_id = _identifier(fields[1], "gate")
    direction = fields[2].lower()
    if direction not in ("in", "out"):
        raise MalformedInput("bad_direction", f"direction must be in or out, not {fields[2]!r}")
    count, when = 1, None
    rest = fields[3:]
    if rest and rest[0].isdecimal():  # « ² » or « ３ » too: refused as a count, not crashed on
        written = rest.pop(0)
        count = ascii_int(written) or 0
        if not 1 <= count <= 10_000:
            raise MalformedInput("bad_count", f"count must be within 1..10000, not {written}")
    elif rest and (len(rest) == 2 or "T" not in rest[0].upper()):
        raise MalformedInput("bad_count", f"count must be a positive integer, not {rest[0]!r}")
    if rest:
        when = parse_time(rest[0])
    return PassageLine(facility_id, gate_id, direction, count, when)


def parse_ticket_line(line: str, *, facilities: Container[str] | None = None) -> TicketLine | None:
    """A ticket-machine line, or None for an empty or comment line."""
    fields = _fields(line, 4, 5, "<facility_id> <service_id> <ticket_id> <action> [time]")
    if fields is None:
        return None
    facility_id = _facility(fields[0], facilities)
    service_id = _identifier(fields[1], "service")
    ticket_id = _identifier(fields[2], "ticket")
    action = fields[3].lower()
    if action not in TICKET_ACTIONS:
        raise MalformedInput(
            "bad_action", f"action must be one of {', '.join(TICKET_ACTIONS)}, not {fields[3]!r}"
        )
    when = parse_time(fields[4]) if len(fields) == 5 else None
    return TicketLine(facility_id, service_id, ticket_id, action, when)


def ticket_event(line: TicketLine, now: dt.datetime) -> CloudEvent:
    """The ``ticket.*`` event of a ticket line."""
    return make_event(
        TICKET_ACTIONS[line.action],
        line.facility_id,
        {"service_id": line.service_id, "ticket_id": line.ticket_id},
        source=f"/tickets/{line.facility_id}/{line.service_id}",
        time=line.time or now,
    )


@dataclass(slots=True)
class _Bucket:
    count: int
    last: dt.datetime


class PassageBatcher:
    """Sums passages per facility, gate, direction and second; one event per bucket.

    ``add`` files a line under the second of its time (or of its arrival); ``due(now)`` returns
    the events of the buckets whose second is over (``grace`` later, for stragglers) and forgets
    them; ``flush_all`` returns everything (shutdown). The event time is the last passage's.
    """

    def __init__(self, grace: dt.timedelta = dt.timedelta(milliseconds=250)) -> None:
        self.grace = grace
        self._buckets: dict[tuple[str, str, str, int], _Bucket] = {}

    def __len__(self) -> int:
        return len(self._buckets)

    def add(self, line: PassageLine, received_at: dt.datetime) -> None:
        when = line.time or received_at
        key = (line.facility_id, line.gate_id, line.direction, int(when.timestamp()))
        bucket = self._buckets.get(key)
        if bucket is None:
            self._buckets[key] = _Bucket(line.count, when)
        else:
            bucket.count = min(10_000, bucket.count + line.count)
            bucket.last = max(bucket.last, when)

    def due(self, now: dt.datetime) -> list[CloudEvent]:
        """Events of the seconds that ended at least ``grace`` before ``now``."""
        limit = (now - self.grace).timestamp()
        ready = [key for key in self._buckets if key[3] + 1 <= limit]
        return [self._event(key, self._buckets.pop(key)) for key in sorted(ready, key=_by_time)]

    def flush_all(self) -> list[CloudEvent]:
        keys = sorted(self._buckets, key=_by_time)
        return [self._event(key, self._buckets.pop(key)) for key in keys]

    @staticmethod
    def _event(key: tuple[str, str, str, int], bucket: _Bucket) -> CloudEvent:
        facility_id, gate_id, direction, _ = key
        return make_event(
            EventType.PASSAGE_COUNTED,
            facility_id,
            {"gate_id": gate_id, "direction": direction, "count": bucket.count},
            source=f"/turnstiles/{facility_id}/{gate_id}",
            time=bucket.last,
            id=str(uuid.uuid4()),
        )


def _by_time(key: tuple[str, str, str, int]) -> tuple[int, str, str, str]:
    return (key[3], key[0], key[1], key[2])
