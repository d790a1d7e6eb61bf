-- Leasing orders by (run_after, id); an index in that exact order lets the lease query walk the
-- index and stop at LIMIT instead of sorting every queued job.
DROP INDEX jobs_ready;
CREATE INDEX jobs_ready ON jobs (run_after, id) WHERE state = 'QUEUED';
