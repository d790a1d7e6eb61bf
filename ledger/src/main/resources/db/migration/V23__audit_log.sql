-- Operator actions taken from the status page (and refusals of authenticated callers): who, what, on
-- which target, when, and how it ended. Kept for retention.audit (90 days by default).
CREATE TABLE audit_log (
  entry_id   VARCHAR(36)   NOT NULL PRIMARY KEY,
  at_ms      BIGINT        NOT NULL,
  actor      VARCHAR(256)  NOT NULL,
  action     VARCHAR(64)   NOT NULL,
  target     VARCHAR(512)  NOT NULL,
  outcome    VARCHAR(16)   NOT NULL,  -- done, refused or failed
  detail     VARCHAR(1024) NOT NULL
);
-- newest first for the page; oldest first for retention
CREATE INDEX audit_log_at ON audit_log (at_ms, entry_id);
