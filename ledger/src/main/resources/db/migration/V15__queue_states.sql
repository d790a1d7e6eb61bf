-- A merge queue's operating state (issue 17): ACTIVE (no row), PAUSED or DRAINING, and every change of it
-- with who asked and why. Operator actions are rare (a few rows an incident): kept, like the queue config.
CREATE TABLE sq_queue_states (
  queue       VARCHAR(200) NOT NULL PRIMARY KEY,
  state       VARCHAR(16)  NOT NULL,
  reason      TEXT,
  changed_by  VARCHAR(256) NOT NULL,
  changed_at  BIGINT       NOT NULL,
  version     BIGINT       NOT NULL
);

CREATE TABLE sq_queue_state_log (
  queue       VARCHAR(200) NOT NULL,
  seq         BIGINT       NOT NULL,
  state       VARCHAR(16)  NOT NULL,
  reason      TEXT,
  changed_by  VARCHAR(256) NOT NULL,
  at          BIGINT       NOT NULL,
  PRIMARY KEY (queue, seq)
);
