-- SubmitQueue: land requests with their status history, batches with their dependencies (and the
-- reverse index that wakes dependents), speculative build paths, and build logs.
CREATE TABLE sq_queue_counters (
  queue   VARCHAR(200) NOT NULL PRIMARY KEY,
  next_n  BIGINT       NOT NULL
);

CREATE TABLE sq_requests (
  request_id  VARCHAR(256) NOT NULL PRIMARY KEY,  -- <queue>/<n>
  queue       VARCHAR(200) NOT NULL,
  n           BIGINT       NOT NULL,
  change_key  TEXT         NOT NULL,              -- the change's URIs, canonical, one per line
  strategy    VARCHAR(32)  NOT NULL,
  state       VARCHAR(32)  NOT NULL,
  batch_id    VARCHAR(256),
  reason      TEXT,
  paths       TEXT,                               -- changed paths, one per line (set by validate)
  created_at  BIGINT       NOT NULL,
  updated_at  BIGINT       NOT NULL,
  version     BIGINT       NOT NULL
);
-- One live request per change: a second Land of the same change is refused until the first is terminal.
CREATE UNIQUE INDEX sq_requests_live_change ON sq_requests (queue, change_key)
  WHERE state NOT IN ('LANDED', 'ERROR', 'CANCELLED');
CREATE INDEX sq_requests_queue_n ON sq_requests (queue, n);

CREATE TABLE sq_request_log (
  request_id  VARCHAR(256) NOT NULL,
  seq         INTEGER      NOT NULL,
  state       VARCHAR(32)  NOT NULL,
  reason      TEXT,
  at          BIGINT       NOT NULL,
  PRIMARY KEY (request_id, seq)
);

CREATE TABLE sq_batches (
  batch_id    VARCHAR(256) NOT NULL PRIMARY KEY,
  queue       VARCHAR(200) NOT NULL,
  state       VARCHAR(32)  NOT NULL,
  reason      TEXT,
  created_n   BIGINT       NOT NULL,  -- the queue position of its first request: older batches plan first
  created_at  BIGINT       NOT NULL,
  updated_at  BIGINT       NOT NULL,
  version     BIGINT       NOT NULL
);
CREATE INDEX sq_batches_queue_state ON sq_batches (queue, state);

CREATE TABLE sq_batch_members (
  batch_id    VARCHAR(256) NOT NULL,
  ord         INTEGER      NOT NULL,
  request_id  VARCHAR(256) NOT NULL,
  PRIMARY KEY (batch_id, ord)
);

CREATE TABLE sq_batch_deps (
  batch_id    VARCHAR(256) NOT NULL,
  depends_on  VARCHAR(256) NOT NULL,
  PRIMARY KEY (batch_id, depends_on)
);
CREATE INDEX sq_batch_deps_reverse ON sq_batch_deps (depends_on);

-- A speculative path: one assumption (succeeds / fails) per unresolved dependency, and its build.
CREATE TABLE sq_paths (
  path_id      VARCHAR(320) NOT NULL PRIMARY KEY,
  batch_id     VARCHAR(256) NOT NULL,
  assumptions  TEXT         NOT NULL,  -- "<dep>=1|0" per dependency, sorted, one per line
  state        VARCHAR(32)  NOT NULL,  -- BUILDING, PASSED, FAILED, CANCELLED
  job_id       VARCHAR(64),
  reason       TEXT,
  created_at   BIGINT       NOT NULL,
  updated_at   BIGINT       NOT NULL
);
CREATE INDEX sq_paths_batch ON sq_paths (batch_id);

CREATE TABLE sq_build_logs (
  job_id  VARCHAR(64) NOT NULL,
  seq     INTEGER     NOT NULL,
  chunk   TEXT        NOT NULL,
  at      BIGINT      NOT NULL,
  PRIMARY KEY (job_id, seq)
);
