"""Prometheus metrics of the stream worker (prometheus-client, default registry).

Exposed by the worker's faust web server on ``/metrics``. Names are prefixed ``paris_live_streams_``:

- ``events_total{topic}`` — records consumed per input topic (rate() gives events/s);
- ``dead_letters_total{reason}`` — records refused and sent to ``dead-letters``;
- ``consumer_lag{topic,partition}`` — high-water mark minus the next offset to read;
- ``processing_lag_seconds`` — now minus the Kafka timestamp of the last record applied;
- ``sink_flush_seconds{sink}`` / ``sink_batch_size{sink}`` — latency and size of each sink flush;
- ``history_backlog_rows`` / ``history_spilled_bytes`` — history waiting for PostgreSQL;
- ``committed_offset{topic,partition}`` — the last offset committed to Kafka;
- ``forwarded_total{topic}`` — events forwarded to the partition that owns their facility;
- ``sink_dropped_total{sink}`` — records a sink gave up on after a permanent error (logged);
- ``history_rows_refused_total{table}`` — history rows PostgreSQL refused for good (dead-lettered).
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

EVENTS = Counter(
    "paris_live_streams_events",
    "Records consumed from the facility input topics.",
    ["topic"],
)
DEAD_LETTERS = Counter(
    "paris_live_streams_dead_letters",
    "Records refused (undecodable or invalid) and written to dead-letters.",
    ["reason"],
)
CONSUMER_LAG = Gauge(
    "paris_live_streams_consumer_lag",
    "Records between the next offset to read and the partition's high-water mark.",
    ["topic", "partition"],
)
PROCESSING_LAG = Gauge(
    "paris_live_streams_processing_lag_seconds",
    "Wall clock minus the Kafka timestamp of the last record applied to the state.",
)
SINK_FLUSH = Histogram(
    "paris_live_streams_sink_flush_seconds",
    "Duration of one sink flush.",
    ["sink"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
SINK_BATCH = Histogram(
    "paris_live_streams_sink_batch_size",
    "Items written by one sink flush.",
    ["sink"],
    buckets=(1, 10, 50, 100, 500, 1_000, 5_000, 10_000, 50_000, 100_000),
)
SINK_ERRORS = Counter(
    "paris_live_streams_sink_errors",
    "Failed sink flushes (retried).",
    ["sink"],
)
FORWARDED = Counter(
    "paris_live_streams_forwarded",
    "Valid events read on a partition that does not own their facility, forwarded to the owner.",
    ["topic"],
)
SINK_DROPPED = Counter(
    "paris_live_streams_sink_dropped",
    "Records a sink gave up on after a permanent error, with no fallback left (logged).",
    ["sink"],
)
HISTORY_REFUSED = Counter(
    "paris_live_streams_history_rows_refused",
    "History rows PostgreSQL refused for good (isolated from their batch, dead-lettered).",
    ["table"],
)
HISTORY_BACKLOG = Gauge(
    "paris_live_streams_history_backlog_rows",
    "History rows waiting to be written to PostgreSQL (memory and spill files).",
)
HISTORY_SPILLED = Gauge(
    "paris_live_streams_history_spilled_bytes",
    "Bytes of history spilled to disk while PostgreSQL is unavailable.",
)
COMMITTED = Gauge(
    "paris_live_streams_committed_offset",
    "Last offset committed to Kafka (next offset to read after a restart).",
    ["topic", "partition"],
)
FACILITIES = Gauge(
    "paris_live_streams_facilities",
    "Facility state machines owned by this worker.",
)
FETCHES_READ_AGAIN = Counter(
    "paris_live_streams_fetches_read_again",
    "Fetched batches not applied (a rebalance or pause meanwhile) and read again from the "
    "committed offsets.",
)
PARTITION_STALLS = Counter(
    "paris_live_streams_partition_stalls",
    "Partitions seen with records to read and a fetch position that did not move for 15 s.",
    ["topic", "partition"],
)
