-- Feedback loop (issue 9): complaints as case records, survey answers, and the monthly aggregates
-- the feedback job (streams/feedback/) keeps for /transparence and the open-data exports.
--
-- Personal data lives in two places only, and `paris-live feedback purge-personal-data` empties
-- it after the retention: complaints.text, complaints.contact, complaints.answer (written to the
-- user) and survey_responses.liked / to_improve / went_wrong. Every other table is anonymous.

-- Case record of a complaint, written by the API (filed, acknowledged, answered).
CREATE TABLE IF NOT EXISTS complaints (
    reference          text PRIMARY KEY,          -- tracking reference shown to the user
    facility_id        text NOT NULL,
    facility_type      text NOT NULL,
    rule               text NOT NULL,             -- golden rule not kept
    topic              text NOT NULL,
    service_id         text NOT NULL,             -- competent service (routing table)
    channel            text NOT NULL,
    language           text NOT NULL,
    text               text,                      -- personal data: purged after retention
    contact            text,                      -- personal data: purged after retention
    filed_at           timestamptz NOT NULL,
    acknowledge_due_at timestamptz NOT NULL,
    answer_due_at      timestamptz NOT NULL,
    acknowledged_at    timestamptz,
    acknowledged_by    text,
    answered_at        timestamptz,
    answered_by        text,
    answer             jsonb,                     -- {fr, en?}: purged after retention
    purged_at          timestamptz,
    CHECK (acknowledged_at IS NULL OR acknowledged_at >= filed_at),
    CHECK (answered_at IS NULL OR acknowledged_at IS NOT NULL)
);
CREATE INDEX IF NOT EXISTS complaints_service_idx ON complaints (service_id, filed_at DESC);
CREATE INDEX IF NOT EXISTS complaints_purge_idx ON complaints (filed_at) WHERE purged_at IS NULL;

-- One row per survey answer (written by the feedback job from feedback-surveys, deduplicated on
-- response_id); the three free texts are personal data, purged after retention.
CREATE TABLE IF NOT EXISTS survey_responses (
    response_id        text PRIMARY KEY,
    event_id           text NOT NULL,
    facility_id        text NOT NULL,
    facility_type      text NOT NULL,
    service_id         text,
    channel            text NOT NULL,
    language           text NOT NULL,
    submitted_at       timestamptz NOT NULL,
    month              date NOT NULL,             -- Paris-local month of submitted_at
    rating             smallint NOT NULL,
    rule_ratings       jsonb NOT NULL DEFAULT '{}',
    rules_not_kept     text[] NOT NULL DEFAULT '{}',
    liked              text,
    to_improve         text,
    went_wrong         text,
    purged_at          timestamptz
);
CREATE INDEX IF NOT EXISTS survey_responses_purge_idx
    ON survey_responses (submitted_at) WHERE purged_at IS NULL;

-- Satisfaction per facility, aspect ('overall' or a golden rule) and Paris-local month.
CREATE TABLE IF NOT EXISTS satisfaction_monthly (
    month              date NOT NULL,
    facility_id        text NOT NULL,
    facility_type      text NOT NULL,
    aspect             text NOT NULL,
    responses          integer NOT NULL,          -- answers rating this aspect
    rating_sum         bigint NOT NULL,
    ratings            integer[] NOT NULL,        -- count of 1, 2, 3, 4, 5
    not_kept           integer NOT NULL,          -- answers saying the rule was not kept
    PRIMARY KEY (month, facility_id, aspect)
);

-- Lifecycle of each complaint as the job saw it on feedback-complaints (no personal data).
CREATE TABLE IF NOT EXISTS complaint_facts (
    complaint_id       text PRIMARY KEY,
    facility_id        text NOT NULL,
    facility_type      text,
    service_id         text,
    rule               text,
    topic              text,
    filed_at           timestamptz,
    month              date,                      -- Paris-local month of filed_at
    answer_due_at      timestamptz,
    acknowledged_at    timestamptz,
    answered_at        timestamptz
);
CREATE INDEX IF NOT EXISTS complaint_facts_month_idx ON complaint_facts (month);

-- Complaint volume and nature per filing month, facility, service, rule and topic.
CREATE TABLE IF NOT EXISTS complaint_stats_monthly (
    month              date NOT NULL,
    facility_id        text NOT NULL,
    facility_type      text NOT NULL,
    service_id         text NOT NULL,
    rule               text NOT NULL,
    topic              text NOT NULL,
    filed              integer NOT NULL,
    acknowledged       integer NOT NULL,
    answered           integer NOT NULL,
    answered_on_time   integer NOT NULL,
    PRIMARY KEY (month, facility_id, service_id, rule, topic)
);

-- Response délai per filing month, service and rule ('*' = all rules), against the commitment.
CREATE TABLE IF NOT EXISTS response_delay_monthly (
    month              date NOT NULL,
    service_id         text NOT NULL,
    rule               text NOT NULL,
    filed              integer NOT NULL,
    answered           integer NOT NULL,
    answered_on_time   integer NOT NULL,
    median_days        real,
    p90_days           real,
    committed_days     integer NOT NULL,
    PRIMARY KEY (month, service_id, rule)
);
