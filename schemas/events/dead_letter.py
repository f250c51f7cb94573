"""The record parked on ``dead-letters`` when an input record cannot be decoded or validated."""

from __future__ import annotations

import datetime as dt
import hashlib

from pydantic import BaseModel, ConfigDict, Field

from schemas.errors import InvalidEvent
from schemas.events.base import Timestamp

__all__ = ["DEAD_LETTER_MAX_PAYLOAD", "DeadLetter"]


class DeadLetter(BaseModel):
    """A record of an input topic that could not be decoded or validated (``dead-letters``).

    ``payload`` is the raw value decoded as UTF-8 (invalid bytes replaced), truncated to
    :data:`DEAD_LETTER_MAX_PAYLOAD` characters; ``key`` likewise. ``raw_size`` and ``raw_sha256``
    are the length and SHA-256 (hex) of the *whole* raw value, so a truncated payload can still be
    matched to the record it came from; ``raw_truncated`` says whether the raw bytes the
    dead-letter record carries (its ``raw`` header) are cut. The dead-letter record is keyed by
    the source record's key.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    reason: str
    field: str | None
    message: str
    topic: str
    partition: int = Field(ge=0)
    offset: int = Field(ge=0)
    key: str | None
    payload: str
    received_at: Timestamp
    raw_size: int | None = Field(default=None, ge=0)
    raw_sha256: str | None = None
    raw_truncated: bool = False

    @classmethod
    def from_error(
        cls,
        error: InvalidEvent,
        *,
        topic: str,
        partition: int,
        offset: int,
        key: bytes | None,
        payload: bytes,
        received_at: dt.datetime | None = None,
        raw_truncated: bool = False,
    ) -> DeadLetter:
        """The dead letter of a refused record (``payload``: its whole raw value)."""
        return cls(
            reason=str(error.reason),
            field=error.field,
            message=error.message,
            topic=topic,
            partition=partition,
            offset=offset,
            key=None if key is None else key.decode("utf-8", "replace")[:DEAD_LETTER_MAX_PAYLOAD],
            payload=payload.decode("utf-8", "replace")[:DEAD_LETTER_MAX_PAYLOAD],
            received_at=received_at if received_at is not None else dt.datetime.now(dt.UTC),
            raw_size=len(payload),
            raw_sha256=hashlib.sha256(payload).hexdigest(),
            raw_truncated=raw_truncated,
        )

    def to_json(self) -> bytes:
        """JSON bytes of the dead letter."""
        return self.__pydantic_serializer__.to_json(self)


DEAD_LETTER_MAX_PAYLOAD = 64_000
