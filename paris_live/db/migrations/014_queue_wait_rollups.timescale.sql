-- TimescaleDB: the queue-wait minutes as a hypertable, kept as long as the occupancy minutes.
SELECT create_hypertable('queue_wait_1m', 'bucket', chunk_time_interval => INTERVAL '7 days',
       if_not_exists => TRUE, migrate_data => TRUE);
SELECT add_retention_policy('queue_wait_1m', INTERVAL '400 days', if_not_exists => TRUE);
