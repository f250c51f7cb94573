"""WebSocket ``/v1/live`` messages (JSON text frames).

Client → server: :class:`SubscribeMessage` (exactly one of ``facilities`` / ``filter``, optionally
``since`` = the highest ``seq`` seen per facility after a reconnect), :class:`UnsubscribeMessage`.
Server → client: :class:`SnapshotMessage` first, then :class:`UpdateMessage` on every change,
:class:`HeartbeatMessage` at least every 15 s, :class:`ForecastMessage` when a facility's crowding
forecast changed, :class:`ErrorMessage` when a frame is refused.
A client keeps the highest ``seq`` per facility and ignores anything older.
"""

from __future__ import annotations

from typing import Annotated, Literal, TypeAlias

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from schemas.errors import InvalidClientMessage
from schemas.events import FacilityId, Timestamp
from schemas.forecast import FacilityForecast
from schemas.status import FACILITY_TYPE_PATTERN, FacilityStatus

MAX_FACILITIES_PER_SUBSCRIPTION = 2000
PROCEDURE_ID_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
"""A démarche's id (``schemas/data/parcours.json``)."""


class _Message(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    def to_json(self) -> bytes:
        """The text frame, as UTF-8 bytes."""
        return self.__pydantic_serializer__.to_json(self)


class SubscribeFilter(_Message):
    """Every facility of a type and/or arrondissement (at least one of the two)."""

    type: Annotated[str, StringConstraints(pattern=FACILITY_TYPE_PATTERN)] | None = None
    arrondissement: int | None = Field(default=None, ge=1, le=20)

    @model_validator(mode="after")
    def _not_empty(self) -> SubscribeFilter:
        if self.type is None and self.arrondissement is None:
            raise ValueError("filter needs a type or an arrondissement")
        return self


class SubscribeMessage(_Message):
    """``{"op": "subscribe", "facilities": [...]}``, ``{"op": "subscribe", "filter": {...}}`` or
    ``{"op": "subscribe", "procedure": "identity-document"}`` — every facility serving the
    démarche (``GET /v1/procedures/{id}``): their open state, queues (time to be served) and next
    appointments are that démarche's live figures."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"op": "subscribe", "facilities": ["piscine-pontoise"]},
                {"op": "subscribe", "filter": {"type": "pool", "arrondissement": 5}},
                {"op": "subscribe", "procedure": "identity-document"},
                {
                    "op": "subscribe",
                    "facilities": ["piscine-pontoise"],
                    "since": {"piscine-pontoise": 1842},
                },
            ]
        }
    )

    op: Literal["subscribe"]
    facilities: (
        Annotated[list[FacilityId], Field(min_length=1, max_length=MAX_FACILITIES_PER_SUBSCRIPTION)]
        | None
    ) = None
    filter: SubscribeFilter | None = None
    procedure: Annotated[str, StringConstraints(pattern=PROCEDURE_ID_PATTERN)] | None = None
    since: dict[FacilityId, Annotated[int, Field(ge=0)]] | None = None

    @model_validator(mode="after")
    def _exactly_one_selector(self) -> SubscribeMessage:
        chosen = [s for s in (self.facilities, self.filter, self.procedure) if s is not None]
        if len(chosen) != 1:
            raise ValueError("give exactly one of facilities, filter or procedure")
        return self


class UnsubscribeMessage(_Message):
    """``{"op": "unsubscribe", "facilities": [...]}``; without ``facilities``, everything."""

    op: Literal["unsubscribe"]
    facilities: list[FacilityId] | None = None


ClientMessage: TypeAlias = Annotated[
    SubscribeMessage | UnsubscribeMessage, Field(discriminator="op")
]
CLIENT_MESSAGE: TypeAdapter[ClientMessage] = TypeAdapter(ClientMessage)


class SnapshotMessage(_Message):
    """The current status of every subscribed facility, sent first after a subscribe."""

    op: Literal["snapshot"] = "snapshot"
    facilities: list[FacilityStatus]


class UpdateMessage(_Message):
    """One facility changed."""

    op: Literal["update"] = "update"
    facility: FacilityStatus


class HeartbeatMessage(_Message):
    """Sent at least every 15 s so clients and proxies know the socket is alive."""

    op: Literal["heartbeat"] = "heartbeat"
    at: Timestamp


class ForecastMessage(_Message):
    """A facility's crowding forecast changed (the forecasting job runs every 15 minutes): the
    same shape as ``GET /v1/facilities/{id}/forecast``. Sent to the subscribers of that facility
    (by id, filter or démarche) on its own frame, so status updates stay small; not part of the
    snapshot — a client reads the route once, then listens."""

    op: Literal["forecast"] = "forecast"
    forecast: FacilityForecast


class ErrorMessage(_Message):
    """A refused frame or a notice before closing.

    ``code`` is ``bad_json``, ``unknown_op``, ``invalid_message``, ``unknown_facility`` or
    ``too_slow`` (the client fell behind and is about to be closed).
    """

    op: Literal["error"] = "error"
    code: str
    message: str


ServerMessage: TypeAlias = Annotated[
    SnapshotMessage | UpdateMessage | HeartbeatMessage | ForecastMessage | ErrorMessage,
    Field(discriminator="op"),
]


def update_frame(status_json: bytes) -> bytes:
    """An ``update`` frame around an already-encoded status (fan-out encodes each status once)."""
    return b'{"op":"update","facility":' + status_json + b"}"


def snapshot_frame(statuses_json: list[bytes]) -> bytes:
    """A ``snapshot`` frame around already-encoded statuses."""
    return b'{"op":"snapshot","facilities":[' + b",".join(statuses_json) + b"]}"


def forecast_frame(forecast_json: bytes) -> bytes:
    """A ``forecast`` frame around an already-encoded FacilityForecast."""
    return b'{"op":"forecast","forecast":' + forecast_json + b"}"


def parse_client_message(raw: str | bytes) -> SubscribeMessage | UnsubscribeMessage:
    """Parse one client frame; raises :class:`InvalidClientMessage` with a code to send back."""
    try:
        return CLIENT_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        kind = error["type"]
        if kind == "json_invalid":
            raise InvalidClientMessage("bad_json", "frame is not valid JSON") from None
        if not error["loc"] and not isinstance(error["input"], dict):
            raise InvalidClientMessage("bad_json", "frame must be a JSON object") from None
        if kind in {"union_tag_invalid", "union_tag_not_found"}:
            raise InvalidClientMessage(
                "unknown_op", 'op must be "subscribe" or "unsubscribe"'
            ) from None
        field = ".".join(str(part) for part in error["loc"][1:]) or "message"
        raise InvalidClientMessage("invalid_message", f"{field}: {error['msg']}") from None
