-- The wait of each queue service, rolled up per minute (issue 21): what the crowding forecast
-- learns the "attente prévue" of a service from. Written by the worker's history writer from the
-- status changes it stores (streams/sinks/postgres.py: each status change new to status_changes is
-- one sample of every queue it shows), and by `paris-live simulate --history` (one row per
-- 15-minute slot). A minute without a sample is a gap (no status recorded), never a zero wait.
CREATE TABLE IF NOT EXISTS queue_wait_1m (
    facility_id  text        NOT NULL,
    service_id   text        NOT NULL,
    bucket       timestamptz NOT NULL,
    wait_avg     real        NOT NULL,
    wait_max     real        NOT NULL,
    length_avg   real        NOT NULL,
    length_max   integer     NOT NULL,
    samples      integer     NOT NULL DEFAULT 1,
    PRIMARY KEY (facility_id, service_id, bucket)
);
