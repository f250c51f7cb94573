-- Plain PostgreSQL: month partitions (created ahead by ensure_partitions, a DEFAULT partition so that
-- no late or early event is ever refused), retention by dropping whole partitions.
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
) PARTITION BY RANGE (time);
CREATE TABLE IF NOT EXISTS events_default PARTITION OF events DEFAULT;
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
) PARTITION BY RANGE (at);
CREATE TABLE IF NOT EXISTS status_changes_default PARTITION OF status_changes DEFAULT;

-- Creates the month partitions of a table from `months_back` months ago to `months_ahead` months on.
CREATE OR REPLACE FUNCTION ensure_partitions(tbl text, months_back int DEFAULT 1, months_ahead int DEFAULT 3)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    m date;
    part text;
    made int := 0;
BEGIN
    FOR i IN -months_back..months_ahead LOOP
        m := (date_trunc('month', now() AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        part := format('%s_%s', tbl, to_char(m, 'YYYYMM'));
        IF to_regclass(format('%I.%I', current_schema(), part)) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                part, tbl, (m::timestamp AT TIME ZONE 'UTC'),
                ((m + interval '1 month')::timestamp AT TIME ZONE 'UTC'));
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;

-- Retention: drops the month partitions wholly older than `keep`.
CREATE OR REPLACE FUNCTION drop_old_partitions(tbl text, keep interval)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    r record;
    dropped int := 0;
    month_start timestamptz;
BEGIN
    FOR r IN
        SELECT c.relname FROM pg_inherits i
        JOIN pg_class c ON c.oid = i.inhrelid
        JOIN pg_class p ON p.oid = i.inhparent
        JOIN pg_namespace n ON n.oid = p.relnamespace
        WHERE p.relname = tbl AND n.nspname = current_schema() AND c.relname ~ '_[0-9]{6}$'
    LOOP
        month_start := to_timestamp(right(r.relname, 6), 'YYYYMM') AT TIME ZONE 'UTC';
        IF month_start + interval '1 month' < now() - keep THEN
            EXECUTE format('DROP TABLE %I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END $$;

SELECT ensure_partitions('events');
SELECT ensure_partitions('status_changes');
