"""Booking system adapter → ``slots.published``, only when availability changes.

Three inputs, one format after parsing — (facility, service, next free slot, free slots in 7 days):

* **poll JSON** (``--poll URL``): ``GET`` answers ``{"facility_id": ..., "services": [{"service_id",
  "next_available_at" (RFC 3339 or null), "free_slots_7d"}]}`` or a list of such objects;
* **poll iCal** (``--ical URL --facility F --service S``): an ``text/calendar`` feed whose
  ``VEVENT`` s are the *free* slots; the next one starting after now is ``next_available_at`` and
  the count of those starting within 7 days is ``free_slots_7d``;
* **webhook**: ``POST /slots`` with the JSON format above (``202 {"published": n}``).

A booking system repeats itself: :class:`SlotsTracker` remembers what was last published per
(facility, service) and lets through changes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from collections.abc import Container
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from aiohttp import web
from icalendar import Calendar

from producers import metrics
from producers.adapters.http import base_app, error_response, json_response, read_json
from producers.errors import MalformedInput, SpoolFull
from producers.lineproto import parse_time
from producers.publisher import Publisher
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent, EventType, make_event

log = structlog.get_logger("producers.adapters.booking")


@dataclass(frozen=True, slots=True)
class Availability:
    facility_id: str
    service_id: str
    next_available_at: dt.datetime | None
    free_slots_7d: int


class SlotsTracker:
    """Lets an availability through only when it differs from the last one published."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str], tuple[dt.datetime | None, int]] = {}

    def changed(self, availability: Availability) -> bool:
        key = (availability.facility_id, availability.service_id)
        value = (availability.next_available_at, availability.free_slots_7d)
        if self._last.get(key) == value:
            return False
        self._last[key] = value
        return True


def parse_json_availability(payload: Any) -> list[Availability]:
    """Availabilities of the JSON format; raises MalformedInput naming the bad field."""
    documents = payload if isinstance(payload, list) else [payload]
    found: list[Availability] = []
    for document in documents:
        if not isinstance(document, dict) or not isinstance(document.get("services"), list):
            raise MalformedInput("bad_json", "expected {facility_id, services: [...]}")
        facility_id = document.get("facility_id")
        if not isinstance(facility_id, str):
            raise MalformedInput("missing_field", "facility_id is required")
        for service in document["services"]:
            if not isinstance(service, dict) or not isinstance(service.get("service_id"), str):
                raise MalformedInput("missing_field", "services[].service_id is required")
            raw_next = service.get("next_available_at")
            free = service.get("free_slots_7d")
            if not isinstance(free, int) or isinstance(free, bool) or free < 0:
                raise MalformedInput("invalid_value", "free_slots_7d must be an integer ≥ 0")
            if raw_next is not None and not isinstance(raw_next, str):
                raise MalformedInput("bad_time", "next_available_at must be RFC 3339 or null")
            next_at = parse_time(raw_next) if raw_next is not None else None
            found.append(Availability(facility_id, service["service_id"], next_at, free))
    return found


def parse_ical_availability(
    raw: bytes, facility_id: str, service_id: str, now: dt.datetime
) -> Availability:
    """Availability from an iCal feed of free slots (one VEVENT per free slot)."""
    try:
        calendar = Calendar.from_ical(raw)
    except ValueError as exc:
        raise MalformedInput("bad_ical", f"not an iCalendar feed: {exc}") from None
    starts: list[dt.datetime] = []
    for component in calendar.walk("VEVENT"):
        value = component.decoded("DTSTART", None)
        if isinstance(value, dt.datetime):
            if value.tzinfo is None:
                raise MalformedInput("naive_time", "DTSTART without time zone in the feed")
            starts.append(value)
    upcoming = sorted(s for s in starts if s >= now)
    week = now + dt.timedelta(days=7)
    return Availability(
        facility_id,
        service_id,
        upcoming[0] if upcoming else None,
        sum(1 for s in upcoming if s < week),
    )


class BookingAdapter:
    name = "booking"

    def __init__(self, publisher: Publisher, facilities: Container[str] | None = None) -> None:
        self.publisher = publisher
        self.facilities = facilities
        self.tracker = SlotsTracker()

    def events(self, availabilities: list[Availability], now: dt.datetime) -> list[CloudEvent]:
        """Events for the availabilities that changed (validated; InvalidEvent if not)."""
        events = []
        for a in availabilities:
            if self.facilities is not None and a.facility_id not in self.facilities:
                raise MalformedInput(
                    "unknown_facility", f"{a.facility_id!r} is not in the catalogue"
                )
        for a in availabilities:
            if not self.tracker.changed(a):
                continue
            events.append(
                make_event(
                    EventType.SLOTS_PUBLISHED,
                    a.facility_id,
                    {
                        "service_id": a.service_id,
                        "next_available_at": a.next_available_at,
                        "free_slots_7d": a.free_slots_7d,
                    },
                    source=f"/booking/{a.facility_id}/{a.service_id}",
                    time=now,
                )
            )
        return events

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/slots", self.post_slots)
        return app

    async def post_slots(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        try:
            events = self.events(parse_json_availability(body), dt.datetime.now(dt.UTC))
        except (MalformedInput, InvalidEvent) as exc:
            reason = getattr(exc, "reason", "invalid")
            metrics.INPUT_REJECTED.labels(self.name, reason).inc()
            return error_response(400, reason, exc.message)
        try:
            await self.publisher.publish_many(events)
        except SpoolFull as exc:
            return error_response(503, "spool_full", str(exc))
        metrics.INPUT_ACCEPTED.labels(self.name).inc()
        return json_response({"published": len(events)}, 202)

    async def poll(
        self,
        url: str,
        interval_s: float,
        stop: asyncio.Event,
        *,
        ical: tuple[str, str] | None = None,
    ) -> None:
        """Poll ``url`` every ``interval_s`` until ``stop``; a failed poll is logged, not fatal."""
        async with httpx.AsyncClient(timeout=10.0) as client:
            while not stop.is_set():
                try:
                    response = await client.get(url)
                    response.raise_for_status()
                    now = dt.datetime.now(dt.UTC)
                    if ical is not None:
                        found = [parse_ical_availability(response.content, *ical, now)]
                    else:
                        found = parse_json_availability(response.json())
                    events = self.events(found, now)
                    if events:
                        await self.publisher.publish_many(events)
                    metrics.INPUT_ACCEPTED.labels(self.name).inc()
                except (
                    httpx.HTTPError,
                    ValueError,
                    MalformedInput,
                    InvalidEvent,
                    SpoolFull,
                ) as exc:
                    reason = getattr(exc, "reason", type(exc).__name__)
                    metrics.INPUT_REJECTED.labels(self.name, str(reason)).inc()
                    log.warning("poll_failed", url=url, reason=reason, error=str(exc))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), interval_s)
