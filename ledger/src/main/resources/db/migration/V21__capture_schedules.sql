-- Scheduled capture: per table, how often, with which policy, and when it is next due. A node that finds
-- a schedule due moves next_due_at forward with a compare-and-set in the transaction that enqueues the
-- capture, so one node starts it whatever the number of nodes. since_ms: the Iceberg table's current
-- snapshot's commit time when the schedule was set (snapshots from then on are captured).
CREATE TABLE capture_schedules (
  table_id         VARCHAR(512) NOT NULL PRIMARY KEY,
  every_ms         BIGINT       NOT NULL,
  policy           ${bytes}     NOT NULL,
  since_ms         BIGINT       NOT NULL,
  next_due_at      BIGINT       NOT NULL,
  last_job_id      VARCHAR(64),
  last_started_at  BIGINT,
  created_at       BIGINT       NOT NULL,
  updated_at       BIGINT       NOT NULL
);
CREATE INDEX capture_schedules_due ON capture_schedules (next_due_at);
