-- Captured statistics, one row per (table, snapshot, target); written once, so a replayed or
-- re-leased submission never writes a statistic twice.
CREATE TABLE capture_stats (
  table_id     VARCHAR(512)  NOT NULL,
  snapshot_id  VARCHAR(256)  NOT NULL,
  target_key   VARCHAR(2048) NOT NULL,
  record       ${bytes}      NOT NULL,
  job_id       VARCHAR(64)   NOT NULL,
  created_at   BIGINT        NOT NULL,
  PRIMARY KEY (table_id, snapshot_id, target_key)
);
