"""The Kafka clients of one API process, owned by the application's lifespan.

::

    async with KafkaClients(settings) as kafka:     # api.app lifespan; held as ``ctx.kafka``
        publisher = await kafka.publisher()         # closures, feedback, complaints
        consumer, admin = await kafka.admin_clients()  # the ops dashboard's sampler
    # leaving the block closes whatever was opened

Nothing connects when the lifespan starts: Kafka may be away while the API serves everything
else, so each client connects on first use (under a lock: one per process) and the lifespan
closes it. After the lifespan ended, asking for a client raises :class:`KafkaClientsClosed`.

* :meth:`KafkaClients.publisher` — the one :class:`~producers.publisher.Publisher` of the
  process (every event the API publishes, each to its contract topic keyed by facility). It
  spools what Kafka does not take; its spool file is removed at close only when empty.
* :meth:`KafkaClients.admin_clients` — an ``AIOKafkaConsumer`` (end offsets) and an
  ``AIOKafkaAdminClient`` (topics, consumer-group offsets), no subscription, no group. A caller
  that saw them fail calls :meth:`KafkaClients.reset_admin_clients`; the next call reconnects.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from types import TracebackType
from typing import Self

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from api.i18n import bilingual
from paris_live.settings import Settings
from producers.errors import ProducerError
from producers.publisher import Publisher, PublisherOptions
from producers.spool import Spool

__all__ = ["AdminClients", "KafkaClients", "KafkaClientsClosed", "publisher_options"]

logger = logging.getLogger("paris_live.api.kafka")

AdminClients = tuple[AIOKafkaConsumer, AIOKafkaAdminClient]
"""(consumer for end offsets, admin client for topics and group offsets)."""

ADMIN_CLIENT_ID = "paris-live-ops"
ADMIN_REQUEST_TIMEOUT_MS = 3000
ADMIN_START_TIMEOUT_S = 4.0


class KafkaClientsClosed(ProducerError):
    """A Kafka client was asked for after the application's lifespan ended."""


def publisher_options(pid: int | None = None) -> PublisherOptions:
    """The API's publisher: short delivery timeout (an agent or citizen waits for the answer),
    no linger (one event per request), its own spool file per process."""
    return PublisherOptions(
        name=f"api-{pid if pid is not None else os.getpid()}",
        delivery_timeout_s=3.0,
        close_timeout_s=3.0,
        linger_ms=0,
    )


class KafkaClients:
    """One publisher and one consumer/admin pair per API process, connected on first use."""

    def __init__(self, settings: Settings, options: PublisherOptions | None = None) -> None:
        self.settings = settings
        self.options = options or publisher_options()
        self._publisher: Publisher | None = None
        self._admin: AdminClients | None = None
        self._publisher_lock = asyncio.Lock()
        self._admin_lock = asyncio.Lock()
        self._closed = False

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def closed(self) -> bool:
        return self._closed

    def _check_open(self) -> None:
        if self._closed:
            raise KafkaClientsClosed(bilingual("l'API s'arrête"))

    async def publisher(self) -> Publisher:
        """The process's publisher, started on first use (it spools while Kafka is away)."""
        self._check_open()
        if self._publisher is None:
            async with self._publisher_lock:
                self._check_open()
                if self._publisher is None:
                    publisher = Publisher(self.settings, self.options)
                    await publisher.start()
                    self._publisher = publisher
        return self._publisher

    async def admin_clients(self) -> AdminClients:
        """The consumer and admin client, connected on first use (raises if Kafka is away)."""
        self._check_open()
        async with self._admin_lock:
            self._check_open()
            if self._admin is None:
                self._admin = await self._connect_admin()
            return self._admin

    async def reset_admin_clients(self) -> None:
        """Close the consumer and admin client (after they failed); the next call reconnects."""
        async with self._admin_lock:
            await self._close_admin()

    async def close(self) -> None:
        """Close every client opened (idempotent); later calls raise KafkaClientsClosed."""
        self._closed = True
        async with self._admin_lock:
            await self._close_admin()
        async with self._publisher_lock:
            publisher, self._publisher = self._publisher, None
        if publisher is not None:
            await publisher.close()
            _remove_if_empty(publisher)

    async def _connect_admin(self) -> AdminClients:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.kafka,
            request_timeout_ms=ADMIN_REQUEST_TIMEOUT_MS,
            client_id=ADMIN_CLIENT_ID,
        )
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self.settings.kafka,
            request_timeout_ms=ADMIN_REQUEST_TIMEOUT_MS,
            client_id=ADMIN_CLIENT_ID,
        )
        try:
            await asyncio.wait_for(consumer.start(), timeout=ADMIN_START_TIMEOUT_S)
            await asyncio.wait_for(admin.start(), timeout=ADMIN_START_TIMEOUT_S)
        except BaseException:
            await _stop_quietly(consumer, admin)
            raise
        return consumer, admin

    async def _close_admin(self) -> None:
        clients, self._admin = self._admin, None
        if clients is not None:
            await _stop_quietly(*clients)


async def _stop_quietly(consumer: AIOKafkaConsumer, admin: AIOKafkaAdminClient) -> None:
    """Stop both (a client that never started, or whose broker left, must not stop the rest)."""
    try:
        await consumer.stop()
    except Exception as exc:
        logger.warning("kafka consumer did not stop cleanly: %r", exc)
    try:
        await admin.close()
    except Exception as exc:
        logger.warning("kafka admin client did not close cleanly: %r", exc)


def _remove_if_empty(publisher: Publisher) -> None:
    """Remove a closed publisher's spool files when nothing is left in them: the spool is named
    after the process, so a file left behind would never be read again. A spool still holding
    events is kept (feedback has no other record of them) and logged by the publisher."""
    path = publisher.spool_path
    if not path.exists():
        return
    with contextlib.suppress(ProducerError, OSError):
        with Spool(path) as spool:
            if len(spool) or spool.rejected():
                return
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink(missing_ok=True)
