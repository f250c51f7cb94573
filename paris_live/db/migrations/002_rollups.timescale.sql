-- TimescaleDB: hourly and Paris-daily rollups as continuous aggregates (real-time: recent buckets
-- are computed at query time, older ones are materialized by the refresh policies).
CREATE MATERIALIZED VIEW IF NOT EXISTS occupancy_1h
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT facility_id,
       time_bucket(INTERVAL '1 hour', bucket) AS bucket,
       (sum(count_avg * samples) / nullif(sum(samples), 0))::real AS count_avg,
       min(count_min) AS count_min, max(count_max) AS count_max,
       last(count_last, bucket) AS count_last, max(capacity) AS capacity,
       sum(passages_in)::int AS passages_in, sum(passages_out)::int AS passages_out,
       sum(samples)::int AS samples
FROM occupancy_1m
GROUP BY facility_id, time_bucket(INTERVAL '1 hour', bucket)
WITH NO DATA;

CREATE MATERIALIZED VIEW IF NOT EXISTS occupancy_1d
WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
SELECT facility_id,
       time_bucket(INTERVAL '1 day', bucket, 'Europe/Paris') AS bucket,
       (sum(count_avg * samples) / nullif(sum(samples), 0))::real AS count_avg,
       min(count_min) AS count_min, max(count_max) AS count_max,
       last(count_last, bucket) AS count_last, max(capacity) AS capacity,
       sum(passages_in)::int AS passages_in, sum(passages_out)::int AS passages_out,
       sum(samples)::int AS samples
FROM occupancy_1m
GROUP BY facility_id, time_bucket(INTERVAL '1 day', bucket, 'Europe/Paris')
WITH NO DATA;

SELECT add_continuous_aggregate_policy('occupancy_1h', start_offset => INTERVAL '3 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '5 minutes', if_not_exists => TRUE);
SELECT add_continuous_aggregate_policy('occupancy_1d', start_offset => INTERVAL '7 days',
       end_offset => INTERVAL '1 hour', schedule_interval => INTERVAL '1 hour', if_not_exists => TRUE);
SELECT add_retention_policy('occupancy_1m', INTERVAL '400 days', if_not_exists => TRUE);

-- Same call on both paths: here the policies refresh, real-time aggregation covers the rest.
CREATE OR REPLACE FUNCTION refresh_rollups(from_ts timestamptz, to_ts timestamptz)
RETURNS void LANGUAGE sql AS $$ SELECT NULL::void $$;

CREATE OR REPLACE FUNCTION apply_retention(raw_keep interval DEFAULT '400 days',
                                           minute_keep interval DEFAULT '400 days')
RETURNS void LANGUAGE sql AS $$ SELECT NULL::void $$;
