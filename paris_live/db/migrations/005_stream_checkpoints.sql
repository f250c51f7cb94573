-- The stream workers' recovery state: committed offsets and machine snapshots per partition
-- (worker-internal, not part of the public history contract; see streams/recovery.py).
CREATE TABLE IF NOT EXISTS stream_checkpoints (
    group_id    text        NOT NULL,
    partition   integer     NOT NULL,
    effects     jsonb       NOT NULL,
    snapshot    jsonb       NOT NULL DEFAULT '{}'::jsonb,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, partition)
);
CREATE TABLE IF NOT EXISTS stream_snapshots (
    group_id    text        NOT NULL,
    facility_id text        NOT NULL,
    partition   integer     NOT NULL,
    state       bytea       NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, facility_id)
);
CREATE INDEX IF NOT EXISTS stream_snapshots_partition_idx ON stream_snapshots (group_id, partition);
