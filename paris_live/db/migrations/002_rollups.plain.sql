-- Plain PostgreSQL: hourly and Paris-daily rollups as tables the platform refreshes.
CREATE TABLE IF NOT EXISTS occupancy_1h (LIKE occupancy_1m INCLUDING DEFAULTS);
ALTER TABLE occupancy_1h DROP CONSTRAINT IF EXISTS occupancy_1h_pkey;
ALTER TABLE occupancy_1h ADD PRIMARY KEY (facility_id, bucket);
CREATE TABLE IF NOT EXISTS occupancy_1d (LIKE occupancy_1m INCLUDING DEFAULTS);
ALTER TABLE occupancy_1d DROP CONSTRAINT IF EXISTS occupancy_1d_pkey;
ALTER TABLE occupancy_1d ADD PRIMARY KEY (facility_id, bucket);

-- Recomputes the hour and Paris-day buckets overlapping [from_ts, to_ts) from occupancy_1m.
CREATE OR REPLACE FUNCTION refresh_rollups(from_ts timestamptz, to_ts timestamptz)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    h_from timestamptz := date_trunc('hour', from_ts);
    d_from timestamptz := date_trunc('day', from_ts AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'Europe/Paris';
    d_to   timestamptz := (date_trunc('day', to_ts AT TIME ZONE 'Europe/Paris') + interval '1 day')
                          AT TIME ZONE 'Europe/Paris';
BEGIN
    DELETE FROM occupancy_1h WHERE bucket >= h_from AND bucket < to_ts;
    INSERT INTO occupancy_1h
    SELECT facility_id, date_trunc('hour', bucket) AS b,
           (sum(count_avg * samples) / nullif(sum(samples), 0))::real,
           min(count_min), max(count_max),
           (array_agg(count_last ORDER BY bucket DESC))[1], max(capacity),
           sum(passages_in)::int, sum(passages_out)::int, sum(samples)::int
    FROM occupancy_1m WHERE bucket >= h_from AND bucket < to_ts
    GROUP BY facility_id, b;

    DELETE FROM occupancy_1d WHERE bucket >= d_from AND bucket < d_to;
    INSERT INTO occupancy_1d
    SELECT facility_id,
           date_trunc('day', bucket AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'Europe/Paris' AS b,
           (sum(count_avg * samples) / nullif(sum(samples), 0))::real,
           min(count_min), max(count_max),
           (array_agg(count_last ORDER BY bucket DESC))[1], max(capacity),
           sum(passages_in)::int, sum(passages_out)::int, sum(samples)::int
    FROM occupancy_1m WHERE bucket >= d_from AND bucket < d_to
    GROUP BY facility_id, b;
END $$;

-- Retention for the plain path (the TimescaleDB path uses retention policies).
CREATE OR REPLACE FUNCTION apply_retention(raw_keep interval DEFAULT '400 days',
                                           minute_keep interval DEFAULT '400 days')
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    PERFORM ensure_partitions('events');
    PERFORM ensure_partitions('status_changes');
    PERFORM drop_old_partitions('events', raw_keep);
    PERFORM drop_old_partitions('status_changes', raw_keep);
    DELETE FROM occupancy_1m WHERE bucket < now() - minute_keep;
END $$;
