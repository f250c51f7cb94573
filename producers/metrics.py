"""Prometheus metrics of the producers (default registry, served by each adapter on ``/metrics``)."""

from __future__ import annotations

from prometheus_client import Counter, Gauge

EVENTS = Counter(
    "paris_live_producer_events",
    "Events accepted by a publisher, by outcome: sent (acknowledged by Kafka) or spooled",
    ["publisher", "outcome"],
)
DRAINED = Counter(
    "paris_live_producer_spool_drained",
    "Spooled events acknowledged by Kafka and removed from the spool",
    ["publisher"],
)
SPOOL_REJECTED = Counter(
    "paris_live_producer_spool_rejected",
    "Spooled events Kafka refused for good, moved to the spool's rejected table",
    ["publisher", "reason"],
)
SPOOL_FULL = Counter(
    "paris_live_producer_spool_full",
    "Publish calls refused because the spool reached its bound",
    ["publisher"],
)
SPOOL_RECORDS = Gauge(
    "paris_live_producer_spool_records", "Events waiting in the spool", ["publisher"]
)
SPOOL_BYTES = Gauge(
    "paris_live_producer_spool_bytes", "Bytes of the events waiting in the spool", ["publisher"]
)
KAFKA_UP = Gauge(
    "paris_live_producer_kafka_up", "1 when the publisher sends straight to Kafka", ["publisher"]
)
INPUT_REJECTED = Counter(
    "paris_live_producer_input_rejected",
    "Device inputs (lines, HTTP bodies) rejected as malformed, by adapter and reason",
    ["adapter", "reason"],
)
INPUT_ACCEPTED = Counter(
    "paris_live_producer_input_accepted",
    "Device inputs (lines, HTTP bodies) accepted, by adapter",
    ["adapter"],
)
