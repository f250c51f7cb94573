-- Raw events, status changes and 1-minute occupancy rollups (both paths).
CREATE TABLE IF NOT EXISTS occupancy_1m (
    facility_id   text        NOT NULL,
    bucket        timestamptz NOT NULL,
    count_avg     real        NOT NULL,
    count_min     integer,
    count_max     integer,
    count_last    integer,
    capacity      integer,
    passages_in   integer     NOT NULL DEFAULT 0,
    passages_out  integer     NOT NULL DEFAULT 0,
    samples       integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (facility_id, bucket)
);

CREATE TABLE IF NOT EXISTS closures (
    closure_id             text        PRIMARY KEY,
    facility_id            text        NOT NULL,
    scope                  jsonb       NOT NULL,
    reason                 text        NOT NULL,
    message                jsonb       NOT NULL,
    starts_at              timestamptz NOT NULL,
    expected_reopening_at  timestamptz,
    ended_at               timestamptz,
    declared_by            text        NOT NULL,
    declared_at            timestamptz NOT NULL,
    updated_at             timestamptz NOT NULL,
    sequence               integer     NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS closures_facility_idx ON closures (facility_id, starts_at DESC);
