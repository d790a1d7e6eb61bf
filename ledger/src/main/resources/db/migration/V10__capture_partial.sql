-- Partial captures: a snapshot records how many files it planned and how many were unreadable
-- (files = the files captured); each unreadable file is kept with its cause.
ALTER TABLE capture_snapshots ADD COLUMN files_planned BIGINT;
ALTER TABLE capture_snapshots ADD COLUMN files_unreadable BIGINT NOT NULL DEFAULT 0;

CREATE TABLE capture_unreadable_files (
  table_id     VARCHAR(512)  NOT NULL,
  snapshot_id  VARCHAR(256)  NOT NULL,
  path         VARCHAR(2048) NOT NULL,
  cause        VARCHAR(32)   NOT NULL,
  message      TEXT          NOT NULL,
  job_id       VARCHAR(64)   NOT NULL,
  created_at   BIGINT        NOT NULL,
  PRIMARY KEY (table_id, snapshot_id, path)
);
