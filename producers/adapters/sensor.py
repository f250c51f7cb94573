"""Counting sensor adapter (HTTP push) → ``headcount.measured``.

``POST /headcounts`` with JSON ``{"facility_id", "sensor_id", "headcount", "time"?}`` or a list
of them; all or nothing: ``202 {"accepted": n}``, ``400 {"error": {"code", "message", "index"}}``
for the first bad item (codes of :class:`schemas.errors.Reason`), ``503`` when the spool is full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container

from aiohttp import web

from producers import metrics
from producers.adapters.http import base_app, error_response, json_response, read_json
from producers.errors import MalformedInput, SpoolFull
from producers.lineproto import parse_time
from producers.publisher import Publisher
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent, EventType, make_event


class SensorAdapter:
    name = "sensor"

    def __init__(self, publisher: Publisher, facilities: Container[str] | None = None) -> None:
        self.publisher = publisher
        self.facilities = facilities

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/headcounts", self.post_headcounts)
        return app

    def event(self, item: object, now: dt.datetime) -> CloudEvent:
        """The event of one JSON reading; raises MalformedInput or InvalidEvent."""
        if not isinstance(item, dict):
            raise MalformedInput("bad_json", "each reading must be a JSON object")
        facility_id = item.get("facility_id")
        if self.facilities is not None and facility_id not in self.facilities:
            raise MalformedInput("unknown_facility", f"{facility_id!r} is not in the catalogue")
        when = item.get("time")
        sensor_id = item.get("sensor_id")
        return make_event(
            EventType.HEADCOUNT_MEASURED,
            str(facility_id),
            {"sensor_id": sensor_id, "headcount": item.get("headcount")},
            source=f"/sensors/{facility_id}/{sensor_id}",
            time=parse_time(when) if isinstance(when, str) else now,
        )

    async def post_headcounts(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        items = body if isinstance(body, list) else [body]
        now = dt.datetime.now(dt.UTC)
        events: list[CloudEvent] = []
        for index, item in enumerate(items):
            try:
                events.append(self.event(item, now))
            except (MalformedInput, InvalidEvent) as exc:
                reason = getattr(exc, "reason", "invalid")
                metrics.INPUT_REJECTED.labels(self.name, reason).inc()
                return error_response(400, reason, exc.message, index=index)
        try:
            await self.publisher.publish_many(events)
        except SpoolFull as exc:
            return error_response(503, "spool_full", str(exc))
        metrics.INPUT_ACCEPTED.labels(self.name).inc(len(events))
        return json_response({"accepted": len(events)}, 202)
