-- Plain PostgreSQL: the queue-wait minutes are a plain table, read by time range.
CREATE INDEX IF NOT EXISTS queue_wait_1m_bucket ON queue_wait_1m (bucket);
