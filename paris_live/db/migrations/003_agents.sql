-- Agents' closure actions: append-only audit trail, idempotency keys, closure event outbox.

-- Audit trail: one row per closure action (declared / updated / ended), who, when, facility,
-- before/after, request id, client address. Append-only, enforced by triggers that raise on
-- UPDATE, DELETE and TRUNCATE whatever the role (the owner and superusers included: triggers are
-- not bypassed by privileges; only DDL dropping the trigger, or a superuser setting
-- session_replication_role = replica, could). In production the application's role should in
-- addition not own this table and hold only SELECT, INSERT on it (migrations run as the owner):
--   REVOKE ALL ON audit_log FROM paris_live_app; GRANT SELECT, INSERT ON audit_log TO paris_live_app;
--   GRANT USAGE ON SEQUENCE audit_log_audit_id_seq TO paris_live_app;
CREATE TABLE IF NOT EXISTS audit_log (
    audit_id        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at              timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor           text        NOT NULL,
    actor_role      text        NOT NULL,
    token_id        text,
    action          text        NOT NULL,
    facility_id     text        NOT NULL,
    closure_id      text,
    before          jsonb,
    after           jsonb,
    request_id      text        NOT NULL,
    client_address  text
);
CREATE INDEX IF NOT EXISTS audit_log_facility_idx ON audit_log (facility_id, audit_id DESC);

CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END $$;

DROP TRIGGER IF EXISTS audit_log_no_update_delete ON audit_log;
CREATE TRIGGER audit_log_no_update_delete BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log;
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();
REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM PUBLIC;

-- Idempotency keys of the agents' write routes: a double tap replays the first response.
-- Keys are scoped by the caller (token subject); a key expires after 24 h (it may then be reused).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal     text        NOT NULL,
    key           text        NOT NULL,
    fingerprint   text        NOT NULL,
    status        integer,
    response      jsonb,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_created_idx ON idempotency_keys (created_at);

-- Outbox of closure events: written in the transaction of the closure change, published to Kafka
-- right after the commit, re-published by the API's relay if a crash came in between.
CREATE TABLE IF NOT EXISTS closure_outbox (
    event_id      text        PRIMARY KEY,
    facility_id   text        NOT NULL,
    closure_id    text        NOT NULL,
    event         jsonb       NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS closure_outbox_pending_idx ON closure_outbox (created_at)
    WHERE published_at IS NULL;

-- Whether a closure's message came from its reason's template (then an update of the reason or
-- the expected reopening re-renders it).
ALTER TABLE closures ADD COLUMN IF NOT EXISTS templated boolean NOT NULL DEFAULT false;
