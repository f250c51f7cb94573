"""The Kafka side of the feedback family: the API process's publisher and :func:`publish`.

Every route reaches Kafka through :func:`publisher` (the one seam): today it is the
:class:`FeedbackRuntime` this package's lifespan holds, started on first use; when the application
context holds the process's Kafka client, only that function changes.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence

import structlog
from fastapi import FastAPI, Request

from api.context import AppContext
from api.feedback.errors import PublishFailed
from api.i18n import bilingual
from paris_live.settings import Settings
from producers.errors import ProducerError
from producers.publisher import Publisher, PublisherOptions
from producers.spool import Record
from schemas.codec import encode_event
from schemas.events import CloudEvent
from schemas.topics import COMPLAINTS_ROUTED

__all__ = ["FeedbackRuntime", "lifespan", "publish", "publisher"]

log = structlog.get_logger("api.feedback")


class FeedbackRuntime:
    """The Kafka publisher of this API process, started on first use, closed with the app."""

    def __init__(self) -> None:
        self._publisher: Publisher | None = None
        self._lock = asyncio.Lock()

    async def publisher(self, settings: Settings) -> Publisher:
        if self._publisher is None:
            async with self._lock:
                if self._publisher is None:
                    options = PublisherOptions(
                        name=f"api-feedback-{os.getpid()}", delivery_timeout_s=5.0
                    )
                    publisher = Publisher(settings, options)
                    await publisher.start()
                    self._publisher = publisher
        return self._publisher

    async def close(self) -> None:
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None


@contextlib.asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[dict[str, FeedbackRuntime]]:
    """Holds the :class:`FeedbackRuntime` for the life of the app (``request.state``)."""
    runtime = FeedbackRuntime()
    try:
        yield {"feedback_runtime": runtime}
    finally:
        await runtime.close()


async def publisher(request: Request) -> Publisher:
    """The Kafka publisher of this process: the one place that knows where it lives."""
    ctx: AppContext = request.state.ctx
    runtime: FeedbackRuntime = request.state.feedback_runtime
    return await runtime.publisher(ctx.settings)


async def publish(
    request: Request, events: Sequence[CloudEvent], *, routed_to: str | None = None
) -> None:
    """Publish events to their contract topic (keyed by facility) and, with ``routed_to``, to
    ``complaints-routed`` keyed by that service. Returns once Kafka acknowledged or spooled them."""
    ctx: AppContext = request.state.ctx
    try:
        kafka = await publisher(request)
        await kafka.publish_many(events)
        if routed_to is not None:
            topic = ctx.settings.topic(COMPLAINTS_ROUTED)
            await kafka.publish_records(
                [Record(topic, routed_to, e.id, encode_event(e)) for e in events]
            )
    except ProducerError as exc:
        log.error("feedback_publish_failed", error=type(exc).__name__, events=len(events))
        raise PublishFailed(
            bilingual("Enregistrement momentanément impossible, réessayez")
        ) from exc
