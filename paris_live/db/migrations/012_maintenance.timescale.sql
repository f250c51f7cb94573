-- TimescaleDB: chunks, retention and continuous aggregates are the extension's own policies; the
-- maintenance command only records that it ran (issue 19).
CREATE TABLE IF NOT EXISTS maintenance_runs (
    ran_at               timestamptz NOT NULL DEFAULT now(),
    clock                timestamptz NOT NULL,
    partitions_created   integer     NOT NULL,
    partitions_dropped   integer     NOT NULL,
    minute_rows_deleted  bigint      NOT NULL,
    rollups_from         timestamptz,
    rollups_to           timestamptz
);
