-- The commits each landed request put on its queue's target, in landing order (issue 18): when post-merge
-- verification finds main red, the culprit is found by bisecting these commits since the last green one,
-- and 'conveyor revert' reverts exactly a request's own commits. Rows go with their request (retention
-- "requests").
CREATE TABLE sq_landed_commits (
  queue       VARCHAR(200) NOT NULL,
  landed_seq  BIGINT       NOT NULL,  -- the batch's landing in the queue (sq_batches.landed_seq)
  ord         INTEGER      NOT NULL,  -- the commit's place within that landing
  sha         VARCHAR(64)  NOT NULL,  -- the change's last commit on the target
  base_sha    VARCHAR(64)  NOT NULL,  -- the target's tip before the change: its commits are base..sha
  request_id  VARCHAR(256) NOT NULL,
  batch_id    VARCHAR(256) NOT NULL,
  PRIMARY KEY (queue, landed_seq, ord)
);
CREATE INDEX sq_landed_commits_request ON sq_landed_commits (request_id);
CREATE INDEX sq_landed_commits_sha ON sq_landed_commits (queue, sha);
CREATE INDEX sq_main_checks_sha ON sq_main_checks (queue, sha);
