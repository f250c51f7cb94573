-- Plain PostgreSQL maintenance run by the platform (`paris-live maintain`, issue 19): the same
-- partition and retention functions as 001/002, but taking the clock as an argument so that the
-- maintenance command (and its month-boundary test) decides what "now" is.

-- The partition key column of a range-partitioned table ("time" for events, "at" for status_changes).
CREATE OR REPLACE FUNCTION partition_key_column(tbl text)
RETURNS text LANGUAGE sql STABLE AS $$
    SELECT trim(both '"' from substring(pg_get_partkeydef(format('%I.%I', current_schema(), tbl)::regclass)
                                        from 'RANGE \((.*)\)'))
$$;

-- Creates the month partitions of `tbl` from `months_back` months before `at` to `months_ahead`
-- months after it. Rows that fell into the DEFAULT partition for such a month are moved into the
-- new partition (attaching it over them would fail otherwise). Returns the partitions created.
CREATE OR REPLACE FUNCTION ensure_partitions_at(tbl text, at timestamptz,
                                                months_back int DEFAULT 1, months_ahead int DEFAULT 3)
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    m date;
    part text;
    lo timestamptz;
    hi timestamptz;
    key text := partition_key_column(tbl);
    made int := 0;
BEGIN
    FOR i IN -months_back..months_ahead LOOP
        m := (date_trunc('month', at AT TIME ZONE 'UTC') + make_interval(months => i))::date;
        part := format('%s_%s', tbl, to_char(m, 'YYYYMM'));
        lo := m::timestamp AT TIME ZONE 'UTC';
        hi := (m + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        IF to_regclass(format('%I.%I', current_schema(), part)) IS NULL THEN
            EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                           part, tbl);
            EXECUTE format(
                'WITH moved AS (DELETE FROM %I WHERE %I >= %L AND %I < %L RETURNING *) '
                'INSERT INTO %I SELECT * FROM moved',
                tbl || '_default', key, lo, key, hi, part);
            EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
                           tbl, part, lo, hi);
            made := made + 1;
        END IF;
    END LOOP;
    RETURN made;
END $$;

CREATE OR REPLACE FUNCTION ensure_partitions(tbl text, months_back int DEFAULT 1, months_ahead int DEFAULT 3)
RETURNS int LANGUAGE sql AS $$ SELECT ensure_partitions_at(tbl, now(), months_back, months_ahead) $$;

-- Retention at `at`: drops the month partitions wholly older than `keep`. Returns the count dropped.
CREATE OR REPLACE FUNCTION drop_old_partitions_at(tbl text, keep interval, at timestamptz)
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
        IF month_start + interval '1 month' < at - keep THEN
            EXECUTE format('DROP TABLE %I', r.relname);
            dropped := dropped + 1;
        END IF;
    END LOOP;
    RETURN dropped;
END $$;

CREATE OR REPLACE FUNCTION drop_old_partitions(tbl text, keep interval)
RETURNS int LANGUAGE sql AS $$ SELECT drop_old_partitions_at(tbl, keep, now()) $$;

-- One line per maintenance run: what "now" was and what it did (the ops view of the schedule).
CREATE TABLE IF NOT EXISTS maintenance_runs (
    ran_at               timestamptz NOT NULL DEFAULT now(),
    clock                timestamptz NOT NULL,
    partitions_created   integer     NOT NULL,
    partitions_dropped   integer     NOT NULL,
    minute_rows_deleted  bigint      NOT NULL,
    rollups_from         timestamptz,
    rollups_to           timestamptz
);
