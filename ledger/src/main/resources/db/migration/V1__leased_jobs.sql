-- Leased jobs: one live owner at a time, fenced by lease_epoch. Shared by SQLite and
-- PostgreSQL; ${bytes} is the dialect's binary type. Times are epoch milliseconds taken from
-- the ledger's clock, never the database's.
CREATE TABLE jobs (
  id                    VARCHAR(64)   NOT NULL PRIMARY KEY,
  kind                  VARCHAR(32)   NOT NULL,
  state                 VARCHAR(16)   NOT NULL,
  execution_class       VARCHAR(128)  NOT NULL,
  lane                  VARCHAR(128)  NOT NULL,
  lane_key              VARCHAR(512),
  pinned_executor       VARCHAR(256),
  dedupe_key            VARCHAR(512),
  parent_id             VARCHAR(64),
  root_id               VARCHAR(64)   NOT NULL,
  child_ordinal         INTEGER       NOT NULL,
  payload               ${bytes},
  attempts              INTEGER       NOT NULL,
  max_attempts          INTEGER       NOT NULL,
  run_after             BIGINT        NOT NULL,
  lease_epoch           VARCHAR(64),
  lease_owner           VARCHAR(256),
  lease_expires_at      BIGINT,
  cancel_requested      INTEGER       NOT NULL,
  progress_done         BIGINT        NOT NULL,
  progress_total        BIGINT        NOT NULL,
  progress_failed       BIGINT        NOT NULL,
  progress_bytes        BIGINT        NOT NULL,
  progress_message      VARCHAR(2048),
  children_fingerprint  VARCHAR(64),
  last_completion_epoch VARCHAR(64),
  last_completion_hash  VARCHAR(64),
  last_error            TEXT,
  created_at            BIGINT        NOT NULL,
  updated_at            BIGINT        NOT NULL,
  started_at            BIGINT,
  finished_at           BIGINT,
  version               BIGINT        NOT NULL
);

-- A dedupe key is honoured only against jobs that are still live.
CREATE UNIQUE INDEX jobs_live_dedupe ON jobs (kind, dedupe_key)
  WHERE dedupe_key IS NOT NULL AND state IN ('QUEUED', 'RUNNING', 'WAITING', 'CANCELLING');

-- Lane exclusivity backstop: at most one running job per lane key, even under races.
CREATE UNIQUE INDEX jobs_lane_running ON jobs (lane_key)
  WHERE lane_key IS NOT NULL AND state IN ('RUNNING', 'CANCELLING');

CREATE INDEX jobs_ready ON jobs (run_after, created_at) WHERE state = 'QUEUED';
CREATE INDEX jobs_leased ON jobs (lease_expires_at) WHERE state IN ('RUNNING', 'CANCELLING');
CREATE INDEX jobs_parent ON jobs (parent_id, child_ordinal);
CREATE INDEX jobs_root ON jobs (root_id);
CREATE INDEX jobs_state ON jobs (state, id);

-- Idempotent results: one row per (job, result id); a replay must carry the same request hash.
CREATE TABLE job_results (
  job_id          VARCHAR(64)  NOT NULL,
  result_id       VARCHAR(512) NOT NULL,
  request_sha256  VARCHAR(64)  NOT NULL,
  response        ${bytes},
  lease_epoch     VARCHAR(64)  NOT NULL,
  created_at      BIGINT       NOT NULL,
  PRIMARY KEY (job_id, result_id)
);
