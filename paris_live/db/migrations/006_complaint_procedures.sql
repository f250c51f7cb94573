-- Complaints about a démarche (issue 17): a complaint names a facility, a procedure (an id of
-- schemas/data/parcours.json), or both. Additive: the facility columns become optional, a
-- procedure_id column joins them, and a CHECK keeps at least one of the two on every complaint.
-- The monthly complaint figures gain the procedure as a key beside the facility.

ALTER TABLE complaints
    ALTER COLUMN facility_id DROP NOT NULL,
    ALTER COLUMN facility_type DROP NOT NULL,
    ADD COLUMN IF NOT EXISTS procedure_id text;
ALTER TABLE complaints DROP CONSTRAINT IF EXISTS complaints_facility_or_procedure;
ALTER TABLE complaints ADD CONSTRAINT complaints_facility_or_procedure
    CHECK (facility_id IS NOT NULL OR procedure_id IS NOT NULL);
ALTER TABLE complaints DROP CONSTRAINT IF EXISTS complaints_facility_type_with_facility;
ALTER TABLE complaints ADD CONSTRAINT complaints_facility_type_with_facility
    CHECK ((facility_id IS NULL) = (facility_type IS NULL));
CREATE INDEX IF NOT EXISTS complaints_procedure_idx
    ON complaints (procedure_id, filed_at DESC) WHERE procedure_id IS NOT NULL;

-- The feedback job's lifecycle facts: the procedure beside the facility (either may be absent).
ALTER TABLE complaint_facts
    ALTER COLUMN facility_id DROP NOT NULL,
    ADD COLUMN IF NOT EXISTS procedure_id text;

-- Complaint volume per month, facility and/or procedure, service, rule and topic. The primary key
-- named the facility; it becomes a unique index where an absent facility or procedure counts as ''.
ALTER TABLE complaint_stats_monthly DROP CONSTRAINT IF EXISTS complaint_stats_monthly_pkey;
ALTER TABLE complaint_stats_monthly
    ALTER COLUMN facility_id DROP NOT NULL,
    ALTER COLUMN facility_type DROP NOT NULL,
    ADD COLUMN IF NOT EXISTS procedure_id text;
ALTER TABLE complaint_stats_monthly DROP CONSTRAINT IF EXISTS complaint_stats_facility_or_procedure;
ALTER TABLE complaint_stats_monthly ADD CONSTRAINT complaint_stats_facility_or_procedure
    CHECK (facility_id IS NOT NULL OR procedure_id IS NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS complaint_stats_monthly_key ON complaint_stats_monthly
    (month, COALESCE(facility_id, ''), COALESCE(procedure_id, ''), service_id, rule, topic);
