-- Liveness of consumer-group members: one row per member (a node), renewed by one heartbeat for all
-- of its groups. A partition lease is good while its owner's row has not expired, so renewing every
-- partition a node holds costs one row write, and a dead node's partitions are free the moment its
-- row lapses. Rows expired for an hour are deleted by the heartbeat of any live member.
CREATE TABLE mq_nodes (
  member_id   VARCHAR(256) NOT NULL PRIMARY KEY,
  started_at  BIGINT       NOT NULL,
  expires_at  BIGINT       NOT NULL
);
-- the heartbeat's probe: which of my partitions have something to deliver
CREATE INDEX mq_group_partitions_owner ON mq_group_partitions (owner);
