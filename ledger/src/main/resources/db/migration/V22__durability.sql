-- The Durability service's signal streams and consumer cursors. Signals live apart from the message
-- queue's topics: a subject's stream is the client's, never a pipeline's, and has its own retention (by
-- age only: no consumer group holds it back).
CREATE TABLE durable_partitions (
  stream         VARCHAR(128) NOT NULL,
  partition_key  VARCHAR(128) NOT NULL,
  next_seq       BIGINT       NOT NULL,
  low_seq        BIGINT       NOT NULL,  -- lowest retained sequence; everything below was collected
  created_at     BIGINT       NOT NULL,
  PRIMARY KEY (stream, partition_key)
);

CREATE TABLE durable_signals (
  stream         VARCHAR(128) NOT NULL,
  partition_key  VARCHAR(128) NOT NULL,
  seq            BIGINT       NOT NULL,
  intent_id      VARCHAR(256) NOT NULL,
  payload        ${bytes}     NOT NULL,
  emitted_at     BIGINT       NOT NULL,
  PRIMARY KEY (stream, partition_key, seq)
);
CREATE UNIQUE INDEX durable_signals_intent ON durable_signals (stream, partition_key, intent_id);
-- a subject's newest signals (summaries) and retention's oldest first
CREATE INDEX durable_signals_recent ON durable_signals (stream, emitted_at);
CREATE INDEX durable_signals_emitted ON durable_signals (emitted_at);

-- A consumer's position in one partition, and its lease: each acquisition starts a new epoch, and a
-- commit carrying an older epoch is refused.
CREATE TABLE durable_cursors (
  consumer          VARCHAR(128) NOT NULL,
  stream            VARCHAR(128) NOT NULL,
  partition_key     VARCHAR(128) NOT NULL,
  position          BIGINT       NOT NULL,
  holder            VARCHAR(256),
  epoch             BIGINT       NOT NULL,
  lease_ttl_ms      BIGINT       NOT NULL,
  lease_expires_at  BIGINT,
  updated_at        BIGINT       NOT NULL,
  PRIMARY KEY (consumer, stream, partition_key)
);

-- Effects listed across subjects, newest change first.
CREATE INDEX effect_claims_recent ON effect_claims (updated_at);
