"""Agent status button → ``closure.declared`` / ``closure.ended`` through the same publisher.

``POST /button`` ``{"facility_id", "reason", "minutes"?, "scope"?, "message"?: {"fr", "en"?},
"agent"?}`` declares an exceptional closure starting now (``minutes`` = expected duration; absent
means until further notice); the French/English message defaults to the reason's standard text.
Answers ``201 {"closure_id", "facility_id", "starts_at", "expected_reopening_at"}``.
``POST /button/end`` ``{"facility_id", "closure_id", "agent"?}`` ends it (``202``).
With ``token`` set, both require ``Authorization: Bearer <token>`` (401 otherwise).
"""

from __future__ import annotations

import datetime as dt
import hmac
import uuid
from collections.abc import Container
from typing import Any

from aiohttp import web

from producers import metrics
from producers.adapters.http import base_app, error_response, json_response, read_json
from producers.errors import MalformedInput, SpoolFull
from producers.publisher import Publisher
from producers.simulator import CLOSURE_MESSAGES
from schemas.errors import InvalidEvent
from schemas.events import CloudEvent, EventType, make_event


class ButtonAdapter:
    name = "button"

    def __init__(
        self,
        publisher: Publisher,
        facilities: Container[str] | None = None,
        token: str | None = None,
    ) -> None:
        self.publisher = publisher
        self.facilities = facilities
        self.token = token

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/button", self.post_button)
        app.router.add_post("/button/end", self.post_end)
        return app

    def _authorized(self, request: web.Request) -> bool:
        if self.token is None:
            return True
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {self.token}".encode())

    def _facility(self, body: dict[str, Any]) -> str:
        facility_id = body.get("facility_id")
        if not isinstance(facility_id, str):
            raise MalformedInput("missing_field", "facility_id is required")
        if self.facilities is not None and facility_id not in self.facilities:
            raise MalformedInput("unknown_facility", f"{facility_id!r} is not in the catalogue")
        return facility_id

    def declare(self, body: Any, now: dt.datetime) -> CloudEvent:
        """The closure.declared event of a button press; raises MalformedInput/InvalidEvent."""
        if not isinstance(body, dict):
            raise MalformedInput("bad_json", "expected a JSON object")
        facility_id = self._facility(body)
        reason = body.get("reason", "other")
        if reason not in CLOSURE_MESSAGES:
            raise MalformedInput(
                "invalid_value", f"reason must be one of {', '.join(CLOSURE_MESSAGES)}"
            )
        minutes = body.get("minutes")
        if minutes is not None and (
            not isinstance(minutes, int) or not 1 <= minutes <= 60 * 24 * 30
        ):
            raise MalformedInput("invalid_value", "minutes must be an integer within 1..43200")
        fr, en = CLOSURE_MESSAGES[reason]
        agent = str(body.get("agent") or "bouton-agent")
        return make_event(
            EventType.CLOSURE_DECLARED,
            facility_id,
            {
                "closure_id": f"btn-{uuid.uuid4().hex[:12]}",
                "scope": body.get("scope") or {"kind": "facility"},
                "reason": reason,
                "message": body.get("message") or {"fr": fr, "en": en},
                "starts_at": now,
                "expected_reopening_at": now + dt.timedelta(minutes=minutes) if minutes else None,
                "declared_by": agent,
            },
            source=f"/agents/{facility_id}/{agent}",
            time=now,
        )

    async def _publish(self, event: CloudEvent) -> web.Response | None:
        try:
            await self.publisher.publish(event)
        except SpoolFull as exc:
            return error_response(503, "spool_full", str(exc))
        metrics.INPUT_ACCEPTED.labels(self.name).inc()
        return None

    async def post_button(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return error_response(401, "unauthorized", "a valid agent token is required")
        body = await read_json(request, self.name)
        try:
            event = self.declare(body, dt.datetime.now(dt.UTC))
        except (MalformedInput, InvalidEvent) as exc:
            reason = getattr(exc, "reason", "invalid")
            metrics.INPUT_REJECTED.labels(self.name, reason).inc()
            return error_response(400, reason, exc.message)
        failed = await self._publish(event)
        if failed is not None:
            return failed
        data = event.data
        return json_response(
            {
                "closure_id": data.closure_id,  # type: ignore[attr-defined]
                "facility_id": event.subject,
                "starts_at": data.starts_at.isoformat(),  # type: ignore[attr-defined]
                "expected_reopening_at": (
                    data.expected_reopening_at.isoformat()  # type: ignore[attr-defined]
                    if data.expected_reopening_at  # type: ignore[attr-defined]
                    else None
                ),
            },
            201,
        )

    async def post_end(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            return error_response(401, "unauthorized", "a valid agent token is required")
        body = await read_json(request, self.name)
        try:
            if not isinstance(body, dict):
                raise MalformedInput("bad_json", "expected a JSON object")
            facility_id = self._facility(body)
            agent = str(body.get("agent") or "bouton-agent")
            event = make_event(
                EventType.CLOSURE_ENDED,
                facility_id,
                {"closure_id": body.get("closure_id"), "ended_by": agent},
                source=f"/agents/{facility_id}/{agent}",
            )
        except (MalformedInput, InvalidEvent) as exc:
            reason = getattr(exc, "reason", "invalid")
            metrics.INPUT_REJECTED.labels(self.name, reason).inc()
            return error_response(400, reason, exc.message)
        failed = await self._publish(event)
        return failed or json_response({"closure_id": body["closure_id"], "ended": True}, 202)
