-- Capture planning at scale. A snapshot's file list is stored in bounded pages (a list id per listing;
-- length-delimited PlannedFile messages, well under 1 MiB a page) instead of one job payload.
CREATE TABLE capture_plan_pages (
  list_id      VARCHAR(64)  NOT NULL,
  page_index   INTEGER      NOT NULL,
  job_id       VARCHAR(64)  NOT NULL,
  lease_epoch  VARCHAR(64)  NOT NULL,
  root_id      VARCHAR(64)  NOT NULL,
  file_count   INTEGER      NOT NULL,
  byte_count   BIGINT       NOT NULL,
  files        ${bytes}     NOT NULL,
  created_at   BIGINT       NOT NULL,
  PRIMARY KEY (list_id, page_index)
);
CREATE INDEX capture_plan_pages_job ON capture_plan_pages (job_id);
CREATE INDEX capture_plan_pages_root ON capture_plan_pages (root_id);

-- A fan-out too large for one transaction goes in numbered batches; each batch is fingerprinted so a
-- re-leased planner replays the same batches as no-ops and a different batch is refused.
CREATE TABLE job_fanout_batches (
  parent_id      VARCHAR(64)  NOT NULL,
  batch_index    INTEGER      NOT NULL,
  first_ordinal  INTEGER      NOT NULL,
  children       INTEGER      NOT NULL,
  fingerprint    VARCHAR(64)  NOT NULL,
  created_at     BIGINT       NOT NULL,
  PRIMARY KEY (parent_id, batch_index)
);

-- Parent resolution asks "is any child of P still live / failed / cancelled?" once per child that ends;
-- with this index each question is a seek instead of a scan of P's (possibly 100,000) children.
CREATE INDEX jobs_parent_state ON jobs (parent_id, state);
