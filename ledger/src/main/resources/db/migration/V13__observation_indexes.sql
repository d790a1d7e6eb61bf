-- Metrics and the status page count jobs and land requests by state on every scrape: from these
-- indexes (index-only on PostgreSQL once vacuumed), not by reading every row.
CREATE INDEX jobs_kind_state ON jobs (kind, state);
CREATE INDEX sq_requests_queue_state ON sq_requests (queue, state);
-- The status page lists the newest capture roots.
CREATE INDEX jobs_roots_newest ON jobs (created_at, id) WHERE parent_id IS NULL;
