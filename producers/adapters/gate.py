"""Turnstile / gate controller adapter → ``passage.counted``, batched per gate and second.

Input: the line protocol of :mod:`producers.lineproto` over TCP, stdin, or ``POST /passages``
(``text/plain``, one line per passage; or JSON ``{"facility_id", "gate_id", "direction",
"count"?, "time"?}`` or a list of them). HTTP answers after the events are in Kafka or the spool:
``202 {"accepted": n, "events": k, "rejected": [{"line": i, "reason": ..., "message": ...}]}``,
``400`` when nothing was accepted, ``503`` when the spool is full.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Container
from typing import Any

from aiohttp import web

from producers import metrics
from producers.adapters.http import base_app, error_response, json_response, read_json
from producers.adapters.lines import LineAdapter
from producers.errors import MalformedInput, SpoolFull
from producers.lineproto import PassageBatcher, parse_passage_line
from producers.publisher import Publisher
from schemas.events import CloudEvent


class GateAdapter(LineAdapter):
    name = "gate"

    def __init__(
        self, publisher: Publisher, facilities: Container[str] | None = None, **kwargs: Any
    ) -> None:
        super().__init__(publisher, **kwargs)
        self.facilities = facilities
        self.batcher = PassageBatcher()

    def on_line(self, line: str, now: dt.datetime) -> None:
        parsed = parse_passage_line(line, facilities=self.facilities)
        if parsed is not None:
            self.batcher.add(parsed, now)

    def ready_events(self, now: dt.datetime, *, final: bool) -> list[CloudEvent]:
        return self.batcher.flush_all() if final else self.batcher.due(now)

    # -- HTTP --------------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/passages", self.post_passages)
        return app

    async def post_passages(self, request: web.Request) -> web.Response:
        if request.content_type == "application/json":
            body = await read_json(request, self.name)
            items = body if isinstance(body, list) else [body]
            lines = [_json_to_line(item) for item in items]
        else:
            lines = (await request.text()).splitlines()
        now = dt.datetime.now(dt.UTC)
        batch = PassageBatcher()
        rejected: list[dict[str, Any]] = []
        accepted = 0
        for number, line in enumerate(lines, start=1):
            try:
                parsed = parse_passage_line(line, facilities=self.facilities)
            except MalformedInput as exc:
                metrics.INPUT_REJECTED.labels(self.name, exc.reason).inc()
                rejected.append({"line": number, "reason": exc.reason, "message": exc.message})
                continue
            if parsed is not None:
                batch.add(parsed, now)
                accepted += 1
        if rejected and not accepted:
            return error_response(
                400, "malformed_input", "no line could be read", rejected=rejected
            )
        events = batch.flush_all()
        try:
            await self.publisher.publish_many(events)
        except SpoolFull as exc:
            return error_response(503, "spool_full", str(exc))
        metrics.INPUT_ACCEPTED.labels(self.name).inc(accepted)
        return json_response(
            {"accepted": accepted, "events": len(events), "rejected": rejected}, 202
        )


def _json_to_line(item: Any) -> str:
    """A JSON passage as a protocol line (so both inputs share one parser and its errors)."""
    if not isinstance(item, dict):
        return "<not an object>"
    fields = [item.get("facility_id"), item.get("gate_id"), item.get("direction")]
    if item.get("count") is not None:
        fields.append(item["count"])
    if item.get("time") is not None:
        fields.append(item["time"])
    return " ".join(str(f).replace(" ", "_") if f is not None else "" for f in fields)
