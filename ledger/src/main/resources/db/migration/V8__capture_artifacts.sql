-- Page-index sidecars kept for captured files: the record (with the store URI) per source file.
CREATE TABLE capture_artifacts (
  table_id     VARCHAR(512)  NOT NULL,
  snapshot_id  VARCHAR(256)  NOT NULL,
  source_file  VARCHAR(2048) NOT NULL,
  artifact_id  VARCHAR(64)   NOT NULL,
  record       ${bytes}      NOT NULL,
  job_id       VARCHAR(64)   NOT NULL,
  created_at   BIGINT        NOT NULL,
  PRIMARY KEY (table_id, snapshot_id, source_file)
);
