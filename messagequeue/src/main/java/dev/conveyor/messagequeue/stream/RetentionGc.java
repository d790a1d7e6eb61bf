package dev.conveyor.messagequeue.stream;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.util.List;

/**
 * Deletes messages that every consumer group has acked and that are older than the topic's
 * retention, and records the new low-water mark so replay can report the gap. A partition no
 * group consumes is kept whole.
 */
public final class RetentionGc {
  private final Ledger ledger;
  private final TopicRegistry registry;

  public RetentionGc(Ledger ledger, TopicRegistry registry) {
    this.ledger = ledger;
    this.registry = registry;
  }

  /** Collects every partition once; answers how many messages were deleted. */
  public long collect() {
    record Part(String topic, int partition) {}
    List<Part> parts = ledger.transact(tx -> tx.query("SELECT topic, partition_no FROM mq_partitions",
        rs -> new Part(rs.getString(1), rs.getInt(2))));
    long deleted = 0;
    for (Part p : parts) {
      long retentionMs = registry.configOfWire(p.topic()).map(TopicConfig::retention)
          .orElse(java.time.Duration.ofDays(7)).toMillis();
      deleted += ledger.transact(tx -> {
        long groups = tx.queryLong("SELECT COUNT(*) FROM mq_group_partitions WHERE topic = ? AND partition_no = ?",
            p.topic(), p.partition());
        if (groups == 0) {
          return 0L;
        }
        long watermark = tx.queryLong("SELECT MIN(committed_seq) FROM mq_group_partitions WHERE topic = ?"
            + " AND partition_no = ?", p.topic(), p.partition());
        long upTo = tx.queryLong("SELECT COALESCE(MAX(seq), 0) FROM mq_messages WHERE topic = ? AND partition_no = ?"
            + " AND seq <= ? AND published_at <= ?", p.topic(), p.partition(), watermark, tx.nowMillis() - retentionMs);
        if (upTo == 0) {
          return 0L;
        }
        long n = tx.update("DELETE FROM mq_messages WHERE topic = ? AND partition_no = ? AND seq <= ?",
            p.topic(), p.partition(), upTo);
        tx.update("UPDATE mq_partitions SET low_seq = ? WHERE topic = ? AND partition_no = ? AND low_seq <= ?",
            upTo + 1, p.topic(), p.partition(), upTo);
        return n;
      });
    }
    return deleted;
  }
}
