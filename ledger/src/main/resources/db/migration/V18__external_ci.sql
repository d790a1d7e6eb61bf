-- External CI (issue 18): a build of a queue with build-runner = external is a commit pushed to a staging
-- ref that the team's CI builds; CI reports each required check. One row per build (its BUILD job's id),
-- one per reported check. Rows go with the build's logs (retention "ci-builds"), once the build has ended.
CREATE TABLE sq_ci_builds (
  build_id     VARCHAR(64)  NOT NULL PRIMARY KEY,  -- the BUILD job's id
  queue        VARCHAR(200) NOT NULL,
  path_id      VARCHAR(320) NOT NULL,
  staging_ref  VARCHAR(600) NOT NULL,
  sha          VARCHAR(64)  NOT NULL,
  checks       TEXT         NOT NULL,              -- required check names, comma separated
  state        VARCHAR(16)  NOT NULL,              -- STAGING, WAITING, PASSED, FAILED, TIMED_OUT, ENDED
  reason       TEXT,
  ref_removed  INTEGER      NOT NULL DEFAULT 0,    -- 1 once the staging ref is gone from the remote
  deadline_at  BIGINT       NOT NULL,
  created_at   BIGINT       NOT NULL,
  updated_at   BIGINT       NOT NULL
);
CREATE INDEX sq_ci_builds_queue_state ON sq_ci_builds (queue, state);

CREATE TABLE sq_ci_checks (
  build_id     VARCHAR(64)  NOT NULL,
  check_name   VARCHAR(64)  NOT NULL,
  passed       INTEGER      NOT NULL,
  url          VARCHAR(2048),
  reported_by  VARCHAR(256) NOT NULL,
  reported_at  BIGINT       NOT NULL,
  PRIMARY KEY (build_id, check_name)
);

-- Post-merge verification (issue 18): each commit a batch put on the target, checked by the queue's
-- post-merge-command. The newest check of each state per queue is kept (the current health and the last
-- green commit); older ones go with build logs (retention "main-checks").
CREATE TABLE sq_main_checks (
  check_id     VARCHAR(64)  NOT NULL PRIMARY KEY,  -- the verifying BUILD job's id
  queue        VARCHAR(200) NOT NULL,
  sha          VARCHAR(64)  NOT NULL,
  batch_id     VARCHAR(256) NOT NULL,
  state        VARCHAR(16)  NOT NULL,              -- GREEN or RED
  reason       TEXT,
  checked_at   BIGINT       NOT NULL
);
CREATE INDEX sq_main_checks_queue ON sq_main_checks (queue, checked_at);

-- Re-verify on a new base (issue 18): landings are counted per queue, each path remembers how many had
-- landed when it was made, so a change that failed on a main missing a change it needs is built once more
-- on the new main before it fails (no clock involved). A batch is re-verified at most once.
ALTER TABLE sq_queue_counters ADD COLUMN landed BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sq_batches ADD COLUMN landed_seq BIGINT;
ALTER TABLE sq_batches ADD COLUMN reverified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sq_paths ADD COLUMN base_landed BIGINT NOT NULL DEFAULT 0;
