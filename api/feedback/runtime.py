"""The Kafka side of the feedback family: the API process's publisher and :func:`publish`.

Every route reaches Kafka through :func:`publisher` (the one seam): the process's one publisher,
held by the application context (:class:`api.kafka.KafkaClients`, opened and closed by the app's
lifespan).
"""

from __future__ import annotations

from collections.abc import Sequence

import structlog
from fastapi import Request

from api.context import AppContext
from api.feedback.errors import PublishFailed
from api.i18n import bilingual
from producers.errors import ProducerError
from producers.publisher import Publisher
from producers.spool import Record
from schemas.codec import encode_event
from schemas.events import CloudEvent
from schemas.topics import COMPLAINTS_ROUTED

__all__ = ["publish", "publisher"]

log = structlog.get_logger("api.feedback")


async def publisher(request: Request) -> Publisher:
    """The Kafka publisher of this process: the one place that knows where it lives."""
    ctx: AppContext = request.state.ctx
    return await ctx.kafka.publisher()


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
