-- Streams: per-partition, gap-free sequences assigned under the partition row's lock inside the
-- publishing transaction (never a global auto-increment: concurrent commits would reorder it).
CREATE TABLE mq_partitions (
  topic         VARCHAR(255) NOT NULL,
  partition_no  INTEGER      NOT NULL,
  next_seq      BIGINT       NOT NULL,
  low_seq       BIGINT       NOT NULL,  -- lowest retained sequence; everything below was collected
  PRIMARY KEY (topic, partition_no)
);

CREATE TABLE mq_messages (
  topic          VARCHAR(255)  NOT NULL,
  partition_no   INTEGER       NOT NULL,
  seq            BIGINT        NOT NULL,
  message_id     VARCHAR(512)  NOT NULL,  -- intent id: entity + cause
  partition_key  VARCHAR(512)  NOT NULL,
  payload        ${bytes}      NOT NULL,
  published_at   BIGINT        NOT NULL,
  PRIMARY KEY (topic, partition_no, seq)
);
CREATE UNIQUE INDEX mq_messages_intent ON mq_messages (topic, partition_no, message_id);

-- publishAfter: held here until due, then appended (and sequenced) by whichever node pumps first.
CREATE TABLE mq_scheduled (
  topic          VARCHAR(255)  NOT NULL,
  message_id     VARCHAR(512)  NOT NULL,
  partition_key  VARCHAR(512)  NOT NULL,
  payload        ${bytes}      NOT NULL,
  due_at         BIGINT        NOT NULL,
  created_at     BIGINT        NOT NULL,
  PRIMARY KEY (topic, message_id)
);
CREATE INDEX mq_scheduled_due ON mq_scheduled (due_at);

-- One row per (consumer group, partition): the durable cursor, the partition lease, and the
-- delivery state of the head message (serial processing means only the head can be in flight).
CREATE TABLE mq_group_partitions (
  group_name        VARCHAR(255) NOT NULL,
  topic             VARCHAR(255) NOT NULL,
  partition_no      INTEGER      NOT NULL,
  committed_seq     BIGINT       NOT NULL,  -- every sequence <= this is done for the group
  owner             VARCHAR(256),
  lease_epoch       VARCHAR(64),
  lease_expires_at  BIGINT,
  head_attempts     INTEGER      NOT NULL,
  head_not_before   BIGINT       NOT NULL,
  head_last_error   TEXT,
  takeovers         BIGINT       NOT NULL,
  version           BIGINT       NOT NULL,
  PRIMARY KEY (group_name, topic, partition_no)
);

CREATE TABLE mq_members (
  group_name  VARCHAR(255) NOT NULL,
  member_id   VARCHAR(256) NOT NULL,
  expires_at  BIGINT       NOT NULL,
  PRIMARY KEY (group_name, member_id)
);

-- Named durable cursors for readers that replay a stream themselves.
CREATE TABLE mq_cursors (
  cursor_name   VARCHAR(255) NOT NULL,
  topic         VARCHAR(255) NOT NULL,
  partition_no  INTEGER      NOT NULL,
  position      BIGINT       NOT NULL,
  updated_at    BIGINT       NOT NULL,
  PRIMARY KEY (cursor_name, topic, partition_no)
);

-- Effect claims: the authority for side effects. A summary of a scope is a query over this table.
CREATE TABLE effect_claims (
  scope         VARCHAR(255)  NOT NULL,
  effect_key    VARCHAR(512)  NOT NULL,
  state         VARCHAR(16)   NOT NULL,  -- HELD | COMPLETED | RELEASED
  holder        VARCHAR(256),
  token         VARCHAR(64),
  expires_at    BIGINT,
  result        ${bytes},
  transitions   INTEGER       NOT NULL,  -- how many times ownership changed hands
  created_at    BIGINT        NOT NULL,
  updated_at    BIGINT        NOT NULL,
  completed_at  BIGINT,
  version       BIGINT        NOT NULL,
  PRIMARY KEY (scope, effect_key)
);
