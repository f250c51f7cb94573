"""The operations summary (``GET /v1/ops/summary``), computed from what an API process has.

The statuses it mirrors (counts by state, stale sources, overdue closures), its hub (clients,
status changes/s) and Kafka itself: input end offsets → events/s, the stream workers' committed
offsets → consumer lag, the ``dead-letters`` end offsets → dead-letter count (the workers' own
Prometheus endpoints are not reachable from here).

:func:`kafka_figures` reads the figures with the clients it is given; :class:`OpsSampler` owns
those clients for now (created on first use, closed with the router's lifespan), samples at most
every ``every`` seconds and keeps the last samples for the sparklines. :func:`summarize` is pure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.i18n import bilingual
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.clock import PARIS
from schemas.status import OpenState

__all__ = ["LAG_ALERT", "STREAMS_GROUP", "OpsSampler", "kafka_figures", "summarize"]

logger = logging.getLogger("paris_live.api.pages")
STREAMS_GROUP = "paris-live-streams"
"""The stream workers' consumer group (``streams.app.APP_NAME``), before the topic prefix."""
LAG_ALERT = 10_000
"""Records behind before the dashboard raises a consumer-lag alert."""
KAFKA_TIMEOUT = 4.0

Sample = dict[str, Any]


async def kafka_figures(consumer: Any, admin: Any, settings: Settings) -> dict[str, int | None]:
    """Input events so far, dead letters so far and the stream workers' lag, read with a started
    ``AIOKafkaConsumer`` and ``AIOKafkaAdminClient`` (untyped: ``Any`` at this boundary)."""
    from aiokafka import TopicPartition

    input_names = [settings.topic(base) for base in contract.INPUT_TOPICS]
    dead_name = settings.topic(contract.DEAD_LETTERS)
    described = await asyncio.wait_for(
        admin.describe_topics([*input_names, dead_name]), timeout=KAFKA_TIMEOUT
    )
    partitions = {
        t["topic"]: sorted(p["partition"] for p in t["partitions"])
        for t in described
        if not t["error_code"]
    }
    inputs = [TopicPartition(n, p) for n in input_names for p in partitions.get(n, ())]
    dead = [TopicPartition(dead_name, p) for p in partitions.get(dead_name, ())]
    ends: dict[Any, int] = await asyncio.wait_for(
        consumer.end_offsets(inputs + dead), timeout=KAFKA_TIMEOUT
    )
    committed: dict[Any, Any] = await asyncio.wait_for(
        admin.list_consumer_group_offsets(settings.topic(STREAMS_GROUP)), timeout=KAFKA_TIMEOUT
    )
    lag: int | None = None
    if committed:
        lag = sum(
            max(0, ends[tp] - max(0, committed[tp].offset if tp in committed else 0))
            for tp in inputs
        )
    return {
        "events_total": sum(ends[tp] for tp in inputs),
        "dead_letters": sum(ends[tp] for tp in dead) if dead else None,
        "consumer_lag": lag,
    }


@dataclass
class OpsSampler:
    """Samples Kafka (end offsets, the workers' committed offsets) at most every ``every``
    seconds and keeps the last samples for the sparklines; one per API process."""

    every: float = 4.0
    keep: int = 90
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=90))
    error: str | None = None
    _clients: tuple[Any, Any] | None = None
    _bootstrap: str | None = None
    _retry_at: float = 0.0
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def close(self) -> None:
        if self._clients is not None:
            consumer, admin = self._clients
            self._clients = None
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await admin.close()

    async def _connect(self, settings: Settings) -> tuple[Any, Any]:
        from aiokafka import AIOKafkaConsumer
        from aiokafka.admin import AIOKafkaAdminClient

        if self._clients is not None and self._bootstrap == settings.kafka:
            return self._clients
        await self.close()
        consumer = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka, request_timeout_ms=3000, client_id="paris-live-ops"
        )
        admin = AIOKafkaAdminClient(
            bootstrap_servers=settings.kafka, request_timeout_ms=3000, client_id="paris-live-ops"
        )
        try:
            await asyncio.wait_for(consumer.start(), timeout=KAFKA_TIMEOUT)
            await asyncio.wait_for(admin.start(), timeout=KAFKA_TIMEOUT)
        except BaseException:
            with contextlib.suppress(Exception):
                await consumer.stop()
            with contextlib.suppress(Exception):
                await admin.close()
            raise
        self._clients, self._bootstrap = (consumer, admin), settings.kafka
        return self._clients

    async def _kafka(self, settings: Settings) -> dict[str, int | None]:
        consumer, admin = await self._connect(settings)
        return await kafka_figures(consumer, admin, settings)

    async def sample(self, settings: Settings, updates_in: int) -> Sample:
        """The latest sample, taking a new one when the last is older than ``every`` seconds."""
        async with self._lock:
            now = time.monotonic()
            if self.samples and now - self.samples[-1]["mono"] < self.every:
                return self.samples[-1]
            kafka: dict[str, int | None] = {}
            if now >= self._retry_at:
                try:
                    kafka = await self._kafka(settings)
                    self.error = None
                except Exception as exc:  # Kafka away: the dashboard says so, the API stays up
                    self.error = f"{type(exc).__name__}: {exc}"[:200]
                    self._retry_at = now + 15.0
                    await self.close()
                    logger.warning("ops summary: Kafka unreachable: %s", self.error)
            previous = self.samples[-1] if self.samples else None
            sample: Sample = {
                "mono": now,
                "at": datetime.now(PARIS).isoformat(timespec="seconds"),
                "events_total": kafka.get("events_total"),
                "consumer_lag": kafka.get("consumer_lag"),
                "dead_letters": kafka.get("dead_letters"),
                "updates_total": updates_in,
                "events_per_s": None,
                "status_changes_per_s": None,
            }
            if previous is not None and now > previous["mono"]:
                elapsed = now - previous["mono"]
                if sample["events_total"] is not None and previous["events_total"] is not None:
                    sample["events_per_s"] = round(
                        max(0, sample["events_total"] - previous["events_total"]) / elapsed, 2
                    )
                sample["status_changes_per_s"] = round(
                    max(0, updates_in - previous["updates_total"]) / elapsed, 2
                )
            self.samples.append(sample)
            return sample


def _alert(level: str, code: str, message: str) -> dict[str, str]:
    return {"level": level, "code": code, "message": message}


def summarize(
    statuses: dict[str, dict[str, Any]],
    catalogue_names: dict[str, str],
    sample: Sample,
    series: list[Sample],
    *,
    kafka_error: str | None,
    clients: int,
) -> dict[str, Any]:
    """The operations summary (pure: statuses, catalogue names and samples in, JSON out)."""
    by_state = {state.value: 0 for state in OpenState}
    stale: list[dict[str, Any]] = []
    overdue: list[dict[str, Any]] = []
    for facility_id in sorted(set(catalogue_names) | set(statuses)):
        status = statuses.get(facility_id)
        if status is None:
            by_state["unknown"] += 1
            continue
        by_state[status["open_state"]] = by_state.get(status["open_state"], 0) + 1
        name = status.get("name") or catalogue_names.get(facility_id, facility_id)
        if status.get("stale"):
            stale.append(
                {
                    "facility_id": facility_id,
                    "name": name,
                    "last_data_at": status.get("last_data_at"),
                }
            )
        for closure in status.get("closures") or []:
            if closure.get("overdue"):
                overdue.append(
                    {
                        "facility_id": facility_id,
                        "name": name,
                        "closure_id": closure["closure_id"],
                        "reason": closure["reason"],
                        "expected_reopening_at": closure.get("expected_reopening_at"),
                        "declared_by": closure.get("declared_by"),
                    }
                )
    alerts: list[dict[str, str]] = []
    if kafka_error:
        alerts.append(
            _alert("critical", "kafka_unreachable", bilingual("Kafka injoignable depuis l'API"))
        )
    lag = sample.get("consumer_lag")
    if lag is not None and lag > LAG_ALERT:
        alerts.append(
            _alert(
                "critical",
                "consumer_lag",
                bilingual("Retard de traitement : %(lag)s événements", lag=lag),
            )
        )
    if len(series) >= 2 and None not in (series[-1]["dead_letters"], series[0]["dead_letters"]):
        grown = series[-1]["dead_letters"] - series[0]["dead_letters"]
        if grown > 0:
            alerts.append(
                _alert(
                    "warning",
                    "dead_letters",
                    bilingual("%(count)s nouveaux rejets (dead-letters)", count=grown),
                )
            )
    for item in overdue:
        alerts.append(
            _alert(
                "warning",
                "overdue_closure",
                bilingual("Réouverture dépassée : %(name)s", name=item["name"]),
            )
        )
    if stale:
        alerts.append(
            _alert(
                "warning",
                "stale_sources",
                bilingual("%(count)s sources sans données récentes", count=len(stale)),
            )
        )
    return {
        "at": sample["at"],
        "facilities": {
            "total": len(set(catalogue_names) | set(statuses)),
            "live": len(statuses),
            "by_state": by_state,
            "stale": len(stale),
        },
        "stale": stale[:200],
        "overdue_closures": overdue,
        "stream": {
            "available": kafka_error is None and sample.get("events_total") is not None,
            "error": kafka_error,
            "events_per_s": sample.get("events_per_s"),
            "consumer_lag": sample.get("consumer_lag"),
            "dead_letters": sample.get("dead_letters"),
        },
        "api": {"clients": clients, "status_changes_per_s": sample.get("status_changes_per_s")},
        "series": [
            {k: s[k] for k in s if k not in {"mono", "events_total", "updates_total"}}
            for s in series
        ],
        "alerts": alerts,
        "missing": [
            "processing_lag_seconds, sink flush times, history backlog: Prometheus of the stream "
            "workers (not reachable from the API)"
        ],
    }
