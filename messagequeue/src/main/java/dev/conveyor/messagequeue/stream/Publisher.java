package dev.conveyor.messagequeue.stream;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import dev.conveyor.messagequeue.wakeup.Wakeups;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Publishes inside the caller's transaction, so a state change and the messages it causes commit
 * together (transactional outbox). Sequences are assigned under the partition row's lock, so they
 * are gap-free and commit in order; a rolled-back publish leaves no trace.
 */
public final class Publisher {
  private final TopicRegistry registry;
  private final Wakeups wakeups;

  public Publisher(TopicRegistry registry, Wakeups wakeups) {
    this.registry = registry;
    this.wakeups = wakeups;
  }

  public PublishResult publish(Tx tx, TopicKey topic, String partitionKey, String messageId, byte[] payload)
      throws SQLException {
    TopicConfig config = registry.config(topic);
    return append(tx, config.wireName(), config.partitions(), partitionKey, messageId, payload);
  }

  /** Publishes a contract message as protobuf JSON. */
  public PublishResult publish(Tx tx, TopicKey topic, String partitionKey, String messageId, Message message)
      throws SQLException {
    return publish(tx, topic, partitionKey, messageId, ProtoJson.toBytes(message));
  }

  /**
   * Holds the message until {@code delay} has passed, then appends it (sequenced at that time,
   * so a delayed message never blocks the partition). Duplicate intent ids are refused while
   * scheduled. Returns false for such a duplicate.
   */
  public boolean publishAfter(Tx tx, TopicKey topic, String partitionKey, String messageId, byte[] payload,
      Duration delay) throws SQLException {
    validate(partitionKey, messageId, payload);
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    TopicConfig config = registry.config(topic);
    int n = tx.update("INSERT INTO mq_scheduled (topic, message_id, partition_key, payload, due_at, created_at)"
            + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", config.wireName(), messageId, partitionKey, payload,
        tx.nowMillis() + delay.toMillis(), tx.nowMillis());
    return n == 1;
  }

  /** Appends every due scheduled message (up to {@code limit}); answers how many moved. */
  public int pumpDue(Tx tx, int limit) throws SQLException {
    record Due(String topic, String id, String key, byte[] payload) {}
    List<Due> due = tx.query("SELECT topic, message_id, partition_key, payload FROM mq_scheduled WHERE due_at <= ?"
        + " ORDER BY due_at, topic, message_id LIMIT ?" + tx.dialect().forUpdateSkipLocked(),
        rs -> new Due(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)), tx.nowMillis(), limit);
    for (Due d : due) {
      int partitions = registry.configOfWire(d.topic()).map(TopicConfig::partitions).orElse(1);
      append(tx, d.topic(), partitions, d.key(), d.id(), d.payload());
      tx.update("DELETE FROM mq_scheduled WHERE topic = ? AND message_id = ?", d.topic(), d.id());
    }
    return due.size();
  }

  /** Appends to a wire topic directly; used for dead letters and redrives. */
  public PublishResult append(Tx tx, String wireTopic, int partitions, String partitionKey, String messageId,
      byte[] payload) throws SQLException {
    validate(partitionKey, messageId, payload);
    int partition = Partitioner.partition(partitionKey, partitions);
    tx.update("INSERT INTO mq_partitions (topic, partition_no, next_seq, low_seq) VALUES (?, ?, 1, 1)"
        + " ON CONFLICT DO NOTHING", wireTopic, partition);
    long next = tx.queryLong("SELECT next_seq FROM mq_partitions WHERE topic = ? AND partition_no = ?"
        + tx.dialect().forUpdate(), wireTopic, partition);
    Optional<Long> existing = tx.queryOne("SELECT seq FROM mq_messages WHERE topic = ? AND partition_no = ?"
        + " AND message_id = ?", rs -> rs.getLong(1), wireTopic, partition, messageId);
    if (existing.isPresent()) {
      return new PublishResult(wireTopic, partition, existing.get(), true);
    }
    tx.update("INSERT INTO mq_messages (topic, partition_no, seq, message_id, partition_key, payload, published_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?)", wireTopic, partition, next, messageId, partitionKey, payload, tx.nowMillis());
    tx.update("UPDATE mq_partitions SET next_seq = ? WHERE topic = ? AND partition_no = ?", next + 1, wireTopic,
        partition);
    if (tx.dialect() == Dialect.POSTGRESQL) {
      tx.queryOne("SELECT pg_notify(?, ?)", rs -> 1, PgNotifyListener.CHANNEL, wireTopic);
    }
    tx.afterCommit(wakeups::signal);
    return new PublishResult(wireTopic, partition, next, false);
  }

  private static void validate(String partitionKey, String messageId, byte[] payload) {
    if (partitionKey == null || partitionKey.isEmpty()) {
      throw new IllegalArgumentException("partition key must not be empty");
    }
    if (messageId == null || messageId.isBlank()) {
      throw new IllegalArgumentException("message id must not be empty");
    }
    if (messageId.getBytes(StandardCharsets.UTF_8).length > 512 || partitionKey.length() > 512) {
      throw new IllegalArgumentException("message id and partition key must be at most 512 bytes");
    }
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
  }
}
