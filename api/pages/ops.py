"""The operations summary (``GET /v1/ops/summary``), computed from what an API process has.

The statuses it mirrors (counts by state, stale sources, overdue closures), its hub (clients,
status changes/s) and Kafka itself: input end offsets → events/s, the stream workers' committed
offsets → consumer lag per partition, the Kafka timestamp of the first record not yet processed
on each lagging partition → processing lag in seconds, the ``dead-letters`` end offsets → dead
letters (the workers' own Prometheus endpoints are not reachable from here).

:func:`kafka_figures` reads the figures with the clients it is given; :class:`OpsSampler` owns
the sampling (at most every ``every`` seconds, the last samples kept for the sparklines) and the
alert threshold in seconds. :func:`summarize` is pure: a lagging worker raises an alert naming
its consumer group, topic and partition, with its lag in seconds and in events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from api.i18n import LANGUAGES, N_, Lang, translator
from api.kafka import KafkaClients
from paris_live.settings import Settings
from schemas import topics as contract
from schemas.clock import PARIS
from schemas.status import OpenState

__all__ = [
    "LAG_ALERT",
    "LAG_ALERT_SECONDS",
    "STREAMS_GROUP",
    "OpsSampler",
    "kafka_figures",
    "summarize",
]

logger = logging.getLogger("paris_live.api.pages")
STREAMS_GROUP = "paris-live-streams"
"""The stream workers' consumer group (``streams.app.APP_NAME``), before the topic prefix."""
LAG_ALERT = 10_000
"""Records behind (on all input partitions) before a consumer-lag alert, however recent."""
LAG_ALERT_SECONDS = 120.0
"""Seconds behind (age of the oldest record the workers have not committed) before a
consumer-lag alert. The workers commit only what a snapshot made durable (every 30 s,
``streams.worker.config.WorkerConfig.snapshot_interval``), so a healthy group reads up to about
half a minute behind; two minutes means a worker stopped or cannot keep up."""
KAFKA_TIMEOUT = 4.0
TIMESTAMP_CACHE = 512
"""(partition, offset) → record timestamp kept between samples (a stuck worker: one fetch)."""

Sample = dict[str, Any]


async def _record_times(consumer: Any, positions: dict[Any, int]) -> dict[Any, int]:
    """The Kafka timestamp (ms) of the record at each of these offsets, read with the consumer
    assigned to those partitions for the time of the call (it has no group: nothing committed)."""
    loop = asyncio.get_running_loop()
    found: dict[Any, int] = {}
    consumer.assign(list(positions))
    try:
        for tp, offset in positions.items():
            consumer.seek(tp, offset)
        deadline = loop.time() + KAFKA_TIMEOUT
        while len(found) < len(positions) and (left := deadline - loop.time()) > 0:
            wanted = [tp for tp in positions if tp not in found]
            batch = await consumer.getmany(*wanted, timeout_ms=int(left * 1000), max_records=50)
            for tp, records in batch.items():
                if records and tp not in found:
                    found[tp] = int(records[0].timestamp)
    finally:
        consumer.unsubscribe()
    return found


async def kafka_figures(
    consumer: Any,
    admin: Any,
    settings: Settings,
    *,
    times: dict[tuple[str, int, int], int] | None = None,
    earlier: tuple[float, dict[tuple[str, int], int]] | None = None,
    recent_within: float = LAG_ALERT_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """Input events so far, dead letters so far, the stream workers' lag in events and, per
    lagging partition, in seconds — read with a started ``AIOKafkaConsumer`` (no group) and
    ``AIOKafkaAdminClient`` (untyped: ``Any`` at this boundary).

    ``times`` caches the record timestamps already read, by (topic, partition, offset).
    ``earlier`` is (when, end offsets) of the previous call, at most ``recent_within`` seconds
    ago: a partition whose next record to process arrived since then is behind by less than
    that (``seconds`` None, ``under`` the bound) and its record is not fetched — a healthy group
    always has a few records in flight, and reading them every sample would cost a fetch per
    partition."""
    from aiokafka import TopicPartition

    times = {} if times is None else times
    now = time.time() if now is None else now
    input_names = [settings.topic(base) for base in contract.INPUT_TOPICS]
    dead_name = settings.topic(contract.DEAD_LETTERS)
    group = settings.topic(STREAMS_GROUP)
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
        admin.list_consumer_group_offsets(group), timeout=KAFKA_TIMEOUT
    )
    lag: int | None = None
    lagging: list[dict[str, Any]] = []
    if committed and inputs:
        starts: dict[Any, int] = await asyncio.wait_for(
            consumer.beginning_offsets(inputs), timeout=KAFKA_TIMEOUT
        )
        behind: dict[Any, tuple[int, int]] = {}  # tp → (next offset to process, records behind)
        for tp in inputs:
            position = committed[tp].offset if tp in committed else -1
            position = max(position, starts[tp])
            if ends[tp] > position:
                behind[tp] = (position, ends[tp] - position)
        lag = sum(n for _, n in behind.values())
        recent: dict[Any, int] = {}
        if earlier is not None and 0 <= now - earlier[0] <= recent_within:
            under = max(1, round(now - earlier[0]))
            recent = {
                tp: under
                for tp, (at, _) in behind.items()
                if at >= earlier[1].get((tp.topic, tp.partition), 0)
            }
        unknown = {
            tp: at
            for tp, (at, _) in behind.items()
            if tp not in recent and (tp.topic, tp.partition, at) not in times
        }
        if unknown:
            read = await _record_times(consumer, unknown)
            for tp, stamp in read.items():
                times[(tp.topic, tp.partition, unknown[tp])] = stamp
            while len(times) > TIMESTAMP_CACHE:
                times.pop(next(iter(times)))
        prefix = settings.topic_prefix
        for tp, (at, n) in sorted(behind.items(), key=lambda kv: (kv[0].topic, kv[0].partition)):
            ms = None if tp in recent else times.get((tp.topic, tp.partition, at))
            lagging.append(
                {
                    "group": group,
                    "topic": tp.topic.removeprefix(prefix),
                    "partition": tp.partition,
                    "events": n,
                    "seconds": None if ms is None else max(0, round(now - ms / 1000)),
                    "under": recent.get(tp),
                }
            )
    return {
        "events_total": sum(ends[tp] for tp in inputs),
        "dead_letters": sum(ends[tp] for tp in dead) if dead else None,
        "consumer_lag": lag,
        "consumer_group": group,
        "group_committed": bool(committed),
        "lagging": lagging,
        "read_at": now,
        "ends": {(tp.topic, tp.partition): ends[tp] for tp in inputs},
    }


@dataclass
class OpsSampler:
    """Samples Kafka (end offsets, the workers' committed offsets, the age of the first record
    they have not processed) at most every ``every`` seconds and keeps the last samples for the
    sparklines; one per API process. ``lag_alert_seconds`` is the alert threshold."""

    every: float = 4.0
    keep: int = 90
    lag_alert_seconds: float = LAG_ALERT_SECONDS
    samples: deque[Sample] = field(default_factory=lambda: deque(maxlen=90))
    error: str | None = None
    _retry_at: float = 0.0
    _times: dict[tuple[str, int, int], int] = field(default_factory=dict)
    _earlier: tuple[float, dict[tuple[str, int], int]] | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def sample(self, clients: KafkaClients, updates_in: int) -> Sample:
        """The latest sample, taking a new one when the last is older than ``every`` seconds."""
        async with self._lock:
            now = time.monotonic()
            if self.samples and now - self.samples[-1]["mono"] < self.every:
                return self.samples[-1]
            kafka: dict[str, Any] = {}
            if now >= self._retry_at:
                try:
                    consumer, admin = await clients.admin_clients()
                    kafka = await kafka_figures(
                        consumer,
                        admin,
                        clients.settings,
                        times=self._times,
                        earlier=self._earlier,
                        recent_within=self.lag_alert_seconds,
                    )
                    self._earlier = (kafka["read_at"], kafka["ends"])
                    self.error = None
                except Exception as exc:  # Kafka away: the dashboard says so, the API stays up
                    self.error = f"{type(exc).__name__}: {exc}"[:200]
                    self._retry_at = now + 15.0
                    await clients.reset_admin_clients()
                    logger.warning("ops summary: Kafka unreachable: %s", self.error)
            previous = self.samples[-1] if self.samples else None
            lagging: list[dict[str, Any]] = kafka.get("lagging") or []
            seconds = [p["seconds"] for p in lagging if p["seconds"] is not None]
            under = [p["under"] for p in lagging if p.get("under") is not None]
            sample: Sample = {
                "mono": now,
                "at": datetime.now(PARIS).isoformat(timespec="seconds"),
                "events_total": kafka.get("events_total"),
                "consumer_lag": kafka.get("consumer_lag"),
                "lag_seconds": max(seconds)
                if seconds
                else (0 if kafka.get("consumer_lag") == 0 else None),
                "lag_seconds_under": max(under) if under and not seconds else None,
                "dead_letters": kafka.get("dead_letters"),
                "updates_total": updates_in,
                "events_per_s": None,
                "status_changes_per_s": None,
                "consumer_group": kafka.get("consumer_group"),
                "group_committed": kafka.get("group_committed"),
                "lagging": lagging,
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


# ── alerts ────────────────────────────────────────────────────────────────────────────────────


def _number(value: object, lang: Lang) -> str:
    """6 761 (French, narrow no-break space) / 6,761 (English); other values as they are."""
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
        return text.replace(",", "\u202f") if lang == "fr" else text
    return str(value)


def _alert(level: str, code: str, message: str, **params: object) -> dict[str, Any]:
    """An alert in both languages: ``messages`` (one per language, for the dashboard) and
    ``message`` (« français / English », the API's shape for a single string)."""
    texts = {
        lang: translator(lang).gettext(message, **{k: _number(v, lang) for k, v in params.items()})
        for lang in LANGUAGES
    }
    return {
        "level": level,
        "code": code,
        "message": f"{texts['fr']} / {texts['en']}",
        "messages": texts,
    }


def _lag_alerts(sample: Sample, threshold: float) -> list[dict[str, Any]]:
    """One alert per consumer group behind by more than ``threshold`` seconds (or ``LAG_ALERT``
    records): it names the partition furthest behind, its seconds and events, and how many
    other partitions lag."""
    lagging: list[dict[str, Any]] = sample.get("lagging") or []
    lag = sample.get("consumer_lag")
    late = [p for p in lagging if p["seconds"] is not None and p["seconds"] >= threshold]
    if not late and (lag is None or lag <= LAG_ALERT or not lagging):
        return []
    worst = max(late or lagging, key=lambda p: (p["seconds"] or 0, p["events"]))
    others = len(lagging) - 1
    params: dict[str, object] = {
        "group": worst["group"],
        "topic": worst["topic"],
        "partition": worst["partition"],
        "seconds": worst["seconds"] if worst["seconds"] is not None else "?",
        "events": worst["events"],
        "total": lag if lag is not None else worst["events"],
    }
    if others:
        message = N_(
            "Traitement en retard de %(seconds)s s : groupe %(group)s, %(topic)s partition "
            "%(partition)s (%(events)s événements en attente ; %(total)s au total sur "
            "%(count)s partitions en retard)"
        )
        params["count"] = others + 1
    else:
        message = N_(
            "Traitement en retard de %(seconds)s s : groupe %(group)s, %(topic)s partition "
            "%(partition)s (%(events)s événements en attente)"
        )
    return [_alert("critical", "consumer_lag", message, **params)]


def equipment_outages(facility_id: str, name: str, status: dict[str, Any]) -> list[dict[str, Any]]:
    """The facility's equipment not in service (live accessibility), for the city-wide list."""
    access = status.get("accessibility") or {}
    return [
        {
            "facility_id": facility_id,
            "name": name,
            "equipment_id": e["equipment_id"],
            "kind": e["kind"],
            "equipment": e.get("name") or {"fr": e["equipment_id"]},
            "status": e["status"],
            "since": e.get("since"),
            "expected_back_at": e.get("expected_back_at"),
            "overdue": bool(e.get("overdue")),
            "step_free_access": access.get("step_free_access", "unknown"),
        }
        for e in access.get("equipment") or []
        if e.get("status", "in_service") != "in_service"
    ]


def summarize(
    statuses: dict[str, dict[str, Any]],
    catalogue_names: dict[str, str],
    sample: Sample,
    series: list[Sample],
    *,
    kafka_error: str | None,
    clients: int,
    lag_alert_seconds: float = LAG_ALERT_SECONDS,
) -> dict[str, Any]:
    """The operations summary (pure: statuses, catalogue names and samples in, JSON out)."""
    by_state = {state.value: 0 for state in OpenState}
    stale: list[dict[str, Any]] = []
    overdue: list[dict[str, Any]] = []
    outages: list[dict[str, Any]] = []
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
        outages += equipment_outages(facility_id, name, status)
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
    alerts: list[dict[str, Any]] = []
    if kafka_error:
        alerts.append(_alert("critical", "kafka_unreachable", N_("Kafka injoignable depuis l'API")))
    alerts += _lag_alerts(sample, lag_alert_seconds)
    if sample.get("events_total") and sample.get("group_committed") is False:
        alerts.append(
            _alert(
                "critical",
                "no_consumer",
                N_(
                    "Aucun traitement : le groupe %(group)s n'a encore validé aucune position "
                    "(%(events)s événements reçus)"
                ),
                group=sample.get("consumer_group"),
                events=sample["events_total"],
            )
        )
    if len(series) >= 2 and None not in (series[-1]["dead_letters"], series[0]["dead_letters"]):
        grown = series[-1]["dead_letters"] - series[0]["dead_letters"]
        if grown > 0:
            alerts.append(
                _alert(
                    "warning",
                    "dead_letters",
                    N_("%(count)s nouveaux messages rejetés (lettres mortes, dead-letters)"),
                    count=grown,
                )
            )
    for item in overdue:
        alerts.append(
            _alert(
                "warning",
                "overdue_closure",
                N_("Réouverture dépassée : %(name)s"),
                name=item["name"],
            )
        )
    outages.sort(key=lambda o: (o["since"] is None, o["since"] or ""))
    for item in (o for o in outages if o["overdue"]):
        alerts.append(
            _alert(
                "warning",
                "overdue_equipment",
                N_("Retour en service dépassé : %(equipment)s, %(name)s"),
                equipment=item["equipment"]["fr"],
                name=item["name"],
            )
        )
    if stale:
        alerts.append(
            _alert(
                "warning",
                "stale_sources",
                N_("%(count)s sources sans données récentes"),
                count=len(stale),
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
        "equipment_outages": outages,
        "stream": {
            "available": kafka_error is None and sample.get("events_total") is not None,
            "error": kafka_error,
            "events_per_s": sample.get("events_per_s"),
            "consumer_lag": sample.get("consumer_lag"),
            "lag_seconds": sample.get("lag_seconds"),
            "lag_seconds_under": sample.get("lag_seconds_under"),
            "lag_alert_seconds": lag_alert_seconds,
            "consumer_group": sample.get("consumer_group"),
            "lagging": sample.get("lagging") or [],
            "dead_letters": sample.get("dead_letters"),
        },
        "api": {"clients": clients, "status_changes_per_s": sample.get("status_changes_per_s")},
        "series": [
            {k: s[k] for k in s if k not in {"mono", "events_total", "updates_total", "lagging"}}
            for s in series
        ],
        "alerts": alerts,
        "missing": [
            {
                lang: translator(lang).gettext(
                    "Temps d'écriture des workers et retard de l'historique : métriques "
                    "Prometheus des workers, injoignables depuis l'API"
                )
                for lang in LANGUAGES
            }
        ],
    }
