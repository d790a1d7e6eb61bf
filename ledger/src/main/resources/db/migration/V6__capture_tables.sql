-- Registered capture sources, and the snapshots whose statistics were finalized.
CREATE TABLE capture_tables (
  table_id    VARCHAR(512) NOT NULL PRIMARY KEY,
  connector   ${bytes}     NOT NULL,
  created_at  BIGINT       NOT NULL,
  updated_at  BIGINT       NOT NULL
);

CREATE TABLE capture_snapshots (
  table_id      VARCHAR(512) NOT NULL,
  snapshot_id   VARCHAR(256) NOT NULL,
  files         BIGINT       NOT NULL,
  rows_total    BIGINT       NOT NULL,
  job_id        VARCHAR(64)  NOT NULL,
  finalized_at  BIGINT       NOT NULL,
  PRIMARY KEY (table_id, snapshot_id)
);
