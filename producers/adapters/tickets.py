"""Queue-ticket machine adapter → ``ticket.issued|called|served|abandoned``.

Input: ticket lines (:mod:`producers.lineproto`) over TCP or stdin, or ``POST /tickets`` with JSON
``{"facility_id", "service_id", "ticket_id", "action", "time"?}`` or a list of them (all or
nothing: ``202 {"accepted": n}``, ``400`` naming the first bad item, ``503`` spool full).
With the catalogue, the service must exist at the facility and have a ticket queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from aiohttp import web

from producers import metrics
from producers.adapters.http import base_app, error_response, json_response, read_json
from producers.adapters.lines import LineAdapter
from producers.errors import MalformedInput, SpoolFull
from producers.lineproto import TicketLine, parse_ticket_line, ticket_event
from producers.publisher import Publisher
from schemas.catalogue import Catalogue
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent


class TicketAdapter(LineAdapter):
    name = "tickets"

    def __init__(
        self, publisher: Publisher, catalogue: Catalogue | None = None, **kwargs: Any
    ) -> None:
        super().__init__(publisher, **kwargs)
        self.catalogue = catalogue
        self._pending: list[CloudEvent] = []

    def _check(self, line: TicketLine) -> None:
        if self.catalogue is None:
            return
        if line.facility_id not in self.catalogue:
            raise MalformedInput(
                "unknown_facility", f"{line.facility_id!r} is not in the catalogue"
            )
        facility = self.catalogue.get(line.facility_id)
        queues = {s.service_id for s in facility.services if s.queue}
        if line.service_id not in queues:
            raise MalformedInput(
                "unknown_service",
                f"{line.facility_id} has no ticket queue {line.service_id!r} "
                f"(queues: {', '.join(sorted(queues)) or 'none'})",
            )

    def on_line(self, line: str, now: dt.datetime) -> None:
        parsed = parse_ticket_line(line)
        if parsed is not None:
            self._check(parsed)
            self._pending.append(ticket_event(parsed, now))

    def ready_events(self, now: dt.datetime, *, final: bool) -> list[CloudEvent]:
        events, self._pending = self._pending, []
        return events

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/tickets", self.post_tickets)
        return app

    async def post_tickets(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        items = body if isinstance(body, list) else [body]
        now = dt.datetime.now(dt.UTC)
        events: list[CloudEvent] = []
        for index, item in enumerate(items):
            try:
                if not isinstance(item, dict):
                    raise MalformedInput("bad_json", "each ticket must be a JSON object")
                line = TicketLine(
                    str(item.get("facility_id", "")),
                    str(item.get("service_id", "")),
                    str(item.get("ticket_id", "")),
                    str(item.get("action", "")),
                    None,
                )
                text = " ".join([line.facility_id, line.service_id, line.ticket_id, line.action])
                if item.get("time") is not None:
                    text += f" {item['time']}"
                parsed = parse_ticket_line(text)
                if parsed is None:
                    raise MalformedInput("field_count", "empty ticket")
                self._check(parsed)
                events.append(ticket_event(parsed, now))
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
