-- Equipment outages (live accessibility, issue 20): one row per outage of one equipment, from its
-- declaration (out_of_service or degraded) to its end (back in service). Rows are never deleted:
-- the table is the history of outages. At most one outage in force per equipment.
-- Declared through the same service as closures: audit_log (record id in its closure_id column),
-- idempotency_keys and closure_outbox (the event on facility-equipment) in one transaction.
CREATE TABLE IF NOT EXISTS equipment_outages (
    outage_id         text        PRIMARY KEY,
    facility_id       text        NOT NULL,
    equipment_id      text        NOT NULL,
    kind              text        NOT NULL,
    status            text        NOT NULL CHECK (status IN ('out_of_service', 'degraded')),
    area              text,
    message           jsonb       NOT NULL,
    expected_back_at  timestamptz,
    declared_by       text        NOT NULL,
    declared_at       timestamptz NOT NULL,
    updated_at        timestamptz NOT NULL,
    ended_at          timestamptz,
    sequence          integer     NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX IF NOT EXISTS equipment_outages_in_force_idx
    ON equipment_outages (facility_id, equipment_id) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS equipment_outages_facility_idx
    ON equipment_outages (facility_id, declared_at DESC);
