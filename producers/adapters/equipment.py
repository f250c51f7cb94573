"""Lift controllers (and any accessibility equipment that reports itself) → the API's equipment
outage routes — the same audited, idempotent path as the agents' console and the status button.

``POST /equipment`` ``{"facility_id", "equipment_id", "kind", "status": "in_service" |
"out_of_service" | "degraded", "expected_back_at"?, "message"?: {"fr", "en"?}, "report_id"?}``:

* ``out_of_service`` / ``degraded`` → ``POST {api_url}/v1/facilities/{facility_id}/equipment-outages``
  (201 new outage, 200 the outage in force updated);
* ``in_service`` → ``POST {api_url}/v1/facilities/{facility_id}/equipment-outages/end``; the API's
  409 ``no_outage`` (the lift already worked) answers 200 ``{"unchanged": true}``: a controller
  repeating « in service » is not an error.

A controller reports its state again and again; only a *change* is forwarded (the adapter keeps
the last accepted status of each equipment), the rest answers 200 ``{"unchanged": true}``. Each
forwarded report carries an ``Idempotency-Key`` (from ``report_id`` when given): a retried report
is one change. The token is the controller's **device** JWT (``paris-live token --role device
--facility …``): the API accepts it for that facility's equipment only (403 otherwise, relayed).
Other answers are the API's, relayed as they are (422 naming an unknown equipment or kind);
503 ``api_unreachable`` when the API cannot be reached.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from aiohttp import web

from producers.adapters.button import ButtonAdapter, Press, _object, _press_id, _text
from producers.adapters.http import json_response, read_json
from producers.errors import MalformedInput

__all__ = ["EquipmentAdapter", "report"]

_FACILITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_EQUIPMENT_ID = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,99}")
_STATUSES = ("in_service", "out_of_service", "degraded")


def report(body: Any) -> Press:
    """The API request a controller's report makes; raises MalformedInput. Kind, message and
    expected return are the API's to validate (its 422 is relayed)."""
    body = _object(body)
    facility_id = _text(body, "facility_id", _FACILITY_ID)
    equipment_id = _text(body, "equipment_id", _EQUIPMENT_ID)
    status = body.get("status")
    if status not in _STATUSES:
        raise MalformedInput("invalid_value", f"status must be one of {', '.join(_STATUSES)}")
    base = f"/v1/facilities/{quote(facility_id, safe='')}/equipment-outages"
    if status == "in_service":
        out: dict[str, Any] = {"equipment_id": equipment_id}
        if body.get("message") is not None:
            out["message"] = body["message"]
        return Press("equipment-end", f"{base}/end", facility_id, out, _press_id(_ids(body)))
    out = {"equipment_id": equipment_id, "kind": body.get("kind"), "status": status}
    for field in ("expected_back_at", "message", "area"):
        if body.get(field) is not None:
            out[field] = body[field]
    return Press("equipment", base, facility_id, out, _press_id(_ids(body)))


def _ids(body: dict[str, Any]) -> dict[str, Any]:
    return {"press_id": body.get("report_id")}


class EquipmentAdapter(ButtonAdapter):
    """The button's forwarding (idempotency keys, relayed answers, 503) for equipment reports."""

    name = "equipment"

    def __init__(self, api_url: str, token: str | None = None, **options: Any) -> None:
        super().__init__(api_url, token, **options)
        self._last: dict[tuple[str, str], str] = {}

    def app(self) -> web.Application:
        app = super().app()
        app.router.add_post("/equipment", self.post_equipment)
        return app

    async def post_equipment(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        try:
            press = report(body)
        except MalformedInput as exc:
            return self._refused(exc)
        which = (press.target, str(press.body["equipment_id"]))
        status = "in_service" if press.action == "equipment-end" else str(press.body["status"])
        if self._last.get(which) == status and press.press_id is None:
            return json_response({"unchanged": True, "status": status})
        answer = await self._press(request, press)
        if answer.status == 409 and press.action == "equipment-end":
            self._last[which] = status
            return json_response({"unchanged": True, "status": status})
        if answer.status < 300:
            self._last[which] = status
        return answer
