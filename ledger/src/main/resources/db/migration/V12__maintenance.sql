-- Maintenance (issue 15). One leader per name at a time, elected through this row: a holder keeps it
-- by renewing before expires_at (the ledger's clock); a new term gets a fresh epoch, and every batch
-- the leader deletes checks that epoch under the row's lock, so a deposed leader cannot go on.
CREATE TABLE ledger_leaders (
  name         VARCHAR(128) NOT NULL PRIMARY KEY,
  holder       VARCHAR(256) NOT NULL,
  epoch        VARCHAR(64)  NOT NULL,
  acquired_at  BIGINT       NOT NULL,
  expires_at   BIGINT       NOT NULL,
  version      BIGINT       NOT NULL
);

-- Retention finds what is due through these, never by scanning live rows.
CREATE INDEX jobs_finished_roots ON jobs (finished_at)
  WHERE parent_id IS NULL AND state IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
CREATE INDEX effect_claims_settled ON effect_claims (updated_at) WHERE state IN ('COMPLETED', 'RELEASED');
CREATE INDEX sq_requests_terminal ON sq_requests (updated_at) WHERE state IN ('LANDED', 'ERROR', 'CANCELLED');
CREATE INDEX sq_requests_batch ON sq_requests (batch_id);
CREATE INDEX sq_batches_terminal ON sq_batches (updated_at) WHERE state IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
CREATE INDEX sq_paths_ended ON sq_paths (updated_at) WHERE state <> 'BUILDING';
CREATE INDEX sq_paths_job ON sq_paths (job_id);
CREATE INDEX sq_build_logs_at ON sq_build_logs (at);
CREATE INDEX capture_result_chunks_created ON capture_result_chunks (created_at);

-- Build output keeps a head and a tail: each chunk records where it starts in the whole output, so
-- a reader's offsets stay stable while the middle is dropped (the gap is what was dropped).
ALTER TABLE sq_build_logs ADD COLUMN start_offset BIGINT;
UPDATE sq_build_logs SET start_offset = (SELECT COALESCE(SUM(LENGTH(b.chunk)), 0) FROM sq_build_logs b
  WHERE b.job_id = sq_build_logs.job_id AND b.seq < sq_build_logs.seq);
