"""Agent status button → the API's closure routes (the same path as the agent console).

A press is forwarded, never published here: the API checks the agent's token against the
facility, validates, writes the closure, its audit row and its event in one transaction and
publishes through its outbox. This adapter only turns a press into that request and relays the
answer.

``POST /button`` ``{"facility_id", "reason"?, "minutes"?, "scope"?, "message"?: {"fr", "en"?},
"press_id"?}`` → ``POST {api_url}/v1/facilities/{facility_id}/closures`` with the body of
``DeclareClosure``: ``scope``, ``reason`` (default ``other``), ``message`` (absent: the reason's
template) and ``expected_reopening_at`` = now + ``minutes`` (absent: until further notice).
``POST /button/end`` ``{"closure_id", "message"?, "press_id"?}`` →
``POST {api_url}/v1/closures/{closure_id}/end``. Any other field (``agent``, ``facility_id`` on
end) is ignored: the author is the token's subject.

Token: the press's own ``Authorization: Bearer <agent JWT>`` when it has one, else the adapter's
``token`` (``paris-live token --agent … --facility …``); without either the API answers 401.

Idempotency: each press is sent with an ``Idempotency-Key``, and the same press again is sent
with the same key and the very same body (a ``minutes`` press keeps its first reopening time), so
the API replays its first answer (``Idempotent-Replayed: true``) instead of closing twice:

* with ``press_id`` (1–64 printable ASCII characters), the key is derived from the action, the
  facility (or closure) and that id; the press is remembered 24 h (the API's key lifetime), so a
  retried press is one closure whenever it comes;
* without it, a press (token, action, target and fields) is remembered ``dedup_s`` seconds (10 by
  default) from its first arrival: a double press within that window is one closure, a press
  after it is a new one.

That memory is the process's own: after a restart, a retried ``minutes`` press gets a new reopening
time and the API refuses it (422 ``idempotency_key_reused``, relayed) rather than closing twice.

Answers: the API's status and body as they are (201 / 200 with the closure, 4xx
``{"error": {"code", "message"}}``); the adapter's own 400 for a body it cannot forward
(``bad_json``, ``missing_field``, ``invalid_value``); 503 ``api_unreachable`` (« API injoignable,
réessayez / API unreachable, try again ») when the API cannot be reached or does not answer in
time — the press is then retried by the button with the same key, never dropped silently.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from aiohttp import web

from producers import metrics
from producers.adapters.http import base_app, error_response, read_json
from producers.errors import MalformedInput

DEDUP_S = 10.0
"""Seconds during which the same press without ``press_id`` is the same closure."""
KEY_TTL_S = 24 * 3600.0
"""How long the API replays an idempotent answer; a press id is remembered as long."""
MAX_MINUTES = 60 * 24 * 30
MAX_REMEMBERED = 4096
"""Presses remembered at most (the oldest are forgotten first)."""
UNREACHABLE = "API injoignable, réessayez / API unreachable, try again"

_FACILITY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,99}")
_CLOSURE_ID = re.compile(r"[A-Za-z0-9_:-][A-Za-z0-9._:-]{0,199}")
_PRESS_ID = re.compile(r"[\x21-\x7e]{1,64}")
_RELAYED_HEADERS = (
    "Content-Type",
    "Cache-Control",
    "Idempotent-Replayed",
    "X-Request-ID",
    "Retry-After",
    "WWW-Authenticate",
)


@dataclass(frozen=True)
class Forward:
    """One request to the API: where, what, and under which idempotency key."""

    path: str
    body: dict[str, Any]
    key: str


class _Presses:
    """Recent presses: identity → (first seen, the request sent), for ``window_s`` seconds."""

    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self._seen: OrderedDict[str, tuple[float, Forward]] = OrderedDict()

    def recall(self, identity: str, fresh: Forward, now: float) -> Forward:
        """The request of the same press within the window, else ``fresh`` (remembered)."""
        while self._seen:
            oldest, (at, _) = next(iter(self._seen.items()))
            if now - at < self.window_s and len(self._seen) < MAX_REMEMBERED:
                break
            del self._seen[oldest]
        known = self._seen.get(identity)
        if known is not None:
            return known[1]
        self._seen[identity] = (now, fresh)
        return fresh


def _text(body: dict[str, Any], field: str, pattern: re.Pattern[str]) -> str:
    value = body.get(field)
    if value is None:
        raise MalformedInput("missing_field", f"{field} is required")
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedInput("invalid_value", f"{field} is not a valid identifier")
    return value


def _press_id(body: dict[str, Any]) -> str | None:
    value = body.get("press_id")
    if value is None:
        return None
    if not isinstance(value, str) or not _PRESS_ID.fullmatch(value):
        raise MalformedInput("invalid_value", "press_id must be 1-64 printable ASCII characters")
    return value


def _object(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise MalformedInput("bad_json", "expected a JSON object")
    return body


@dataclass(frozen=True)
class Press:
    """What a press asks, before its time is applied (the same press is the same value)."""

    action: str
    path: str
    target: str
    """The facility (declare) or closure (end) id."""
    body: dict[str, Any]
    press_id: str | None
    minutes: int | None = None

    def identity(self, authorization: str | None) -> str:
        raw = orjson.dumps(
            [authorization, self.path, self.body, self.minutes, self.press_id],
            option=orjson.OPT_SORT_KEYS,
        )
        return hashlib.sha256(raw).hexdigest()

    def request(self, key: str) -> Forward:
        """The API request of this press made now (``expected_reopening_at`` from ``minutes``)."""
        body = dict(self.body)
        if self.minutes is not None:
            reopening = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=self.minutes)
            body["expected_reopening_at"] = reopening.isoformat()
        return Forward(self.path, body, key)


def declaration(body: Any) -> Press:
    """The closure a press declares; raises MalformedInput.

    Reason, scope and message are the API's to validate (its 422 is relayed)."""
    body = _object(body)
    facility_id = _text(body, "facility_id", _FACILITY_ID)
    minutes = body.get("minutes")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 1 <= minutes <= MAX_MINUTES
    ):
        raise MalformedInput("invalid_value", f"minutes must be an integer within 1..{MAX_MINUTES}")
    out: dict[str, Any] = {"reason": body.get("reason") or "other"}
    for field in ("scope", "message"):
        if body.get(field) is not None:
            out[field] = body[field]
    path = f"/v1/facilities/{quote(facility_id, safe='')}/closures"
    return Press("declare", path, facility_id, out, _press_id(body), minutes)


def ending(body: Any) -> Press:
    """The closure an end press reopens; raises MalformedInput."""
    body = _object(body)
    closure_id = _text(body, "closure_id", _CLOSURE_ID)
    out = {"message": body["message"]} if body.get("message") is not None else {}
    path = f"/v1/closures/{quote(closure_id, safe='')}/end"
    return Press("end", path, closure_id, out, _press_id(body))


class ButtonAdapter:
    name = "button"

    def __init__(
        self,
        api_url: str,
        token: str | None = None,
        *,
        dedup_s: float = DEDUP_S,
        timeout: httpx.Timeout | None = None,
    ) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self.timeout = timeout or httpx.Timeout(10.0, connect=3.0)
        self._presses = _Presses(dedup_s)
        self._retried = _Presses(KEY_TTL_S)
        self._client: httpx.AsyncClient | None = None

    def app(self) -> web.Application:
        app = base_app(self.name)
        app.router.add_post("/button", self.post_button)
        app.router.add_post("/button/end", self.post_end)
        app.cleanup_ctx.append(self._http_client)
        return app

    async def _http_client(self, _: web.Application) -> AsyncIterator[None]:
        async with httpx.AsyncClient(
            base_url=self.api_url,
            timeout=self.timeout,
            headers={"User-Agent": "paris-live-button/1"},
        ) as client:
            self._client = client
            yield
            self._client = None

    def _authorization(self, request: web.Request) -> str | None:
        given = request.headers.get("Authorization")
        if given:
            return given
        return f"Bearer {self.token}" if self.token else None

    def _forward(self, authorization: str | None, press: Press) -> Forward:
        """The request of this press, or of the same press made before (same key, same body)."""
        now = time.monotonic()
        if press.press_id is not None:
            digest = hashlib.sha256(f"{press.target}\n{press.press_id}".encode()).hexdigest()
            key = f"button-{press.action}-{digest[:40]}"
            memory = self._retried
        else:
            key = f"button-{press.action}-{uuid.uuid4().hex}"
            memory = self._presses
        return memory.recall(press.identity(authorization), press.request(key), now)

    async def _press(self, request: web.Request, press: Press) -> web.Response:
        """Send the press to the API; its answer as it is, or 503 when it cannot be reached."""
        assert self._client is not None, "the adapter's app is not running"
        authorization = self._authorization(request)
        forward = self._forward(authorization, press)
        headers = {"Idempotency-Key": forward.key}
        if authorization:
            headers["Authorization"] = authorization
        if "X-Request-ID" in request.headers:
            headers["X-Request-ID"] = request.headers["X-Request-ID"]
        try:
            answer = await self._client.post(forward.path, json=forward.body, headers=headers)
        except httpx.TransportError as exc:
            metrics.INPUT_REJECTED.labels(self.name, "api_unreachable").inc()
            unreachable = error_response(
                503, "api_unreachable", UNREACHABLE, detail=type(exc).__name__
            )
            unreachable.headers["Retry-After"] = "2"
            return unreachable
        if answer.is_success:
            metrics.INPUT_ACCEPTED.labels(self.name).inc()
        else:
            metrics.INPUT_REJECTED.labels(self.name, _code(answer)).inc()
        relayed = {h: answer.headers[h] for h in _RELAYED_HEADERS if h in answer.headers}
        return web.Response(body=answer.content, status=answer.status_code, headers=relayed)

    def _refused(self, exc: MalformedInput) -> web.Response:
        metrics.INPUT_REJECTED.labels(self.name, exc.reason).inc()
        return error_response(400, exc.reason, exc.message)

    async def post_button(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        try:
            press = declaration(body)
        except MalformedInput as exc:
            return self._refused(exc)
        return await self._press(request, press)

    async def post_end(self, request: web.Request) -> web.Response:
        body = await read_json(request, self.name)
        try:
            press = ending(body)
        except MalformedInput as exc:
            return self._refused(exc)
        return await self._press(request, press)


def _code(answer: httpx.Response) -> str:
    """The error code of an API answer (``api_<status>`` when it has none)."""
    try:
        code = orjson.loads(answer.content)["error"]["code"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return f"api_{answer.status_code}"
    return code if isinstance(code, str) and len(code) <= 64 else f"api_{answer.status_code}"
