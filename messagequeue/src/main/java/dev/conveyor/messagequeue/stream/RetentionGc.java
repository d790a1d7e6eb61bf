package dev.conveyor.messagequeue.stream;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Deletes messages that every consumer group has committed and that are older than the topic's
 * retention ({@code fallback} for a wire topic the registry does not know), and records the new
 * low-water mark so replay can report the gap. A partition no group consumes is kept whole.
 * Dead-letter topics are left to {@link DeadLetterRetention}. Deletes at most a batch of a partition's
 * oldest messages per transaction; the maintenance leader runs it as the {@code messages} task.
 */
public final class RetentionGc implements RetentionTask {
  static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
  private static final int STANDALONE_BATCH = 1_000;

  private final Ledger ledger;
  private final TopicRegistry registry;
  private final Duration fallback;

  public RetentionGc(Ledger ledger, TopicRegistry registry) {
    this(ledger, registry, DEFAULT_RETENTION);
  }

  public RetentionGc(Ledger ledger, TopicRegistry registry, Duration fallback) {
    this.ledger = ledger;
    this.registry = registry;
    this.fallback = fallback;
  }

  @Override
  public String name() {
    return "messages";
  }

  /** The age of messages on topics the registry does not know; registered topics carry their own. */
  @Override
  public Duration age() {
    return fallback;
  }

  record Part(String topic, int partition) {}

  private static List<Part> parts(Tx tx) throws SQLException {
    return tx.query("SELECT topic, partition_no FROM mq_partitions WHERE topic NOT LIKE '%.dlq' ORDER BY topic,"
        + " partition_no", rs -> new Part(rs.getString(1), rs.getInt(2)));
  }

  private long cutoff(String topic, Instant now) {
    return now.minus(registry.configOfWire(topic).map(TopicConfig::retention).orElse(fallback)).toEpochMilli();
  }

  /** The highest sequence of the partition that may go: committed by every group and old enough; 0 for none. */
  private static long upTo(Tx tx, Part p, long cutoff) throws SQLException {
    long groups = tx.queryLong("SELECT COUNT(*) FROM mq_group_partitions WHERE topic = ? AND partition_no = ?",
        p.topic(), p.partition());
    if (groups == 0) {
      return 0;
    }
    long watermark = tx.queryLong("SELECT MIN(committed_seq) FROM mq_group_partitions WHERE topic = ?"
        + " AND partition_no = ?", p.topic(), p.partition());
    return tx.queryLong("SELECT COALESCE(MAX(seq), 0) FROM mq_messages WHERE topic = ? AND partition_no = ?"
        + " AND seq <= ? AND published_at <= ?", p.topic(), p.partition(), watermark, cutoff);
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long n = 0;
    for (Part p : parts(tx)) {
      n += tx.queryLong("SELECT COUNT(*) FROM mq_messages WHERE topic = ? AND partition_no = ? AND seq <= ?",
          p.topic(), p.partition(), upTo(tx, p, cutoff(p.topic(), now)));
    }
    return new TreeMap<>(Map.of("mq_messages", n));
  }

  @Override
  public void collect(Instant now, Batches batches) {
    List<Part> parts = ledger.transact(RetentionGc::parts);
    for (Part p : parts) {
      long cutoff = cutoff(p.topic(), now);
      boolean[] more = {true};
      while (more[0]) {
        boolean goOn = batches.run((tx, tally) -> more[0] = trim(tx, tally, p, upTo(tx, p, cutoff), batches.limit()));
        if (more[0] && !goOn) {
          return; // this run's budget is spent
        }
      }
    }
  }

  /**
   * Deletes the partition's oldest messages up to {@code upTo}, at most {@code limit} of them (sequences
   * are gap-free from {@code low_seq}), and moves the low-water mark; answers whether more remain.
   */
  static boolean trim(Tx tx, Tally tally, Part p, long upTo, int limit) throws SQLException {
    if (upTo == 0) {
      return false;
    }
    long low = tx.queryLong("SELECT low_seq FROM mq_partitions WHERE topic = ? AND partition_no = ?"
        + tx.dialect().forUpdate(), p.topic(), p.partition());
    long end = Math.min(upTo, Math.max(low, 1) + limit - 1);
    long n = tx.update("DELETE FROM mq_messages WHERE topic = ? AND partition_no = ? AND seq <= ?",
        p.topic(), p.partition(), end);
    tx.update("UPDATE mq_partitions SET low_seq = ? WHERE topic = ? AND partition_no = ? AND low_seq <= ?",
        end + 1, p.topic(), p.partition(), end);
    tally.deleted("mq_messages", n);
    return end < upTo;
  }

  /** Collects every partition once, outside maintenance (tests, tools); answers how many messages went. */
  public long collect() {
    return RetentionTask.collectNow(ledger, this, STANDALONE_BATCH);
  }
}
