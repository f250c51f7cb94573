-- TimescaleDB: hypertables, compression and retention policies.
CREATE TABLE IF NOT EXISTS events (
    event_id         text        NOT NULL,
    time             timestamptz NOT NULL,
    facility_id      text        NOT NULL,
    type             text        NOT NULL,
    source           text        NOT NULL,
    topic            text        NOT NULL,
    kafka_partition  integer     NOT NULL,
    kafka_offset     bigint      NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    data             jsonb       NOT NULL,
    PRIMARY KEY (event_id, time)
);
SELECT create_hypertable('events', 'time', chunk_time_interval => INTERVAL '1 day', if_not_exists => TRUE);
CREATE INDEX IF NOT EXISTS events_facility_time_idx ON events (facility_id, time DESC);

CREATE TABLE IF NOT EXISTS status_changes (
    facility_id      text        NOT NULL,
    seq              bigint      NOT NULL,
    at               timestamptz NOT NULL,
    open_state       text        NOT NULL,
    occupancy_count  integer,
    occupancy_ratio  real,
    stale            boolean     NOT NULL,
    status           jsonb       NOT NULL,
    PRIMARY KEY (facility_id, seq, at)
);
SELECT create_hypertable('status_changes', 'at', chunk_time_interval => INTERVAL '7 days', if_not_exists => TRUE);
SELECT create_hypertable('occupancy_1m', 'bucket', chunk_time_interval => INTERVAL '7 days',
                         if_not_exists => TRUE, migrate_data => TRUE);

ALTER TABLE events SET (timescaledb.compress, timescaledb.compress_segmentby = 'facility_id',
                        timescaledb.compress_orderby = 'time DESC');
SELECT add_compression_policy('events', INTERVAL '7 days', if_not_exists => TRUE);
SELECT add_retention_policy('events', INTERVAL '400 days', if_not_exists => TRUE);
SELECT add_retention_policy('status_changes', INTERVAL '400 days', if_not_exists => TRUE);
