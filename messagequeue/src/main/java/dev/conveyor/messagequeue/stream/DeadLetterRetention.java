package dev.conveyor.messagequeue.stream;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import dev.conveyor.messagequeue.stream.RetentionGc.Part;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Dead letters ({@code <topic>.dlq}) are usually consumed by nobody, so {@link RetentionGc} would keep
 * them forever: this deletes those older than {@code age}, oldest first. A dead-letter topic that a
 * group does consume (a reconciler) loses only what every such group has committed.
 */
public final class DeadLetterRetention implements RetentionTask {
  private final Ledger ledger;
  private final Duration age;

  public DeadLetterRetention(Ledger ledger, Duration age) {
    this.ledger = ledger;
    this.age = age;
  }

  @Override
  public String name() {
    return "dead-letters";
  }

  @Override
  public Duration age() {
    return age;
  }

  private static List<Part> parts(Tx tx) throws SQLException {
    return tx.query("SELECT topic, partition_no FROM mq_partitions WHERE topic LIKE '%.dlq' ORDER BY topic,"
        + " partition_no", rs -> new Part(rs.getString(1), rs.getInt(2)));
  }

  /** The highest sequence that may go: old enough, and committed by every group that consumes it (if any). */
  private static long upTo(Tx tx, Part p, long cutoff) throws SQLException {
    long groups = tx.queryLong("SELECT COUNT(*) FROM mq_group_partitions WHERE topic = ? AND partition_no = ?",
        p.topic(), p.partition());
    long watermark = groups == 0 ? Long.MAX_VALUE : tx.queryLong("SELECT MIN(committed_seq) FROM mq_group_partitions"
        + " WHERE topic = ? AND partition_no = ?", p.topic(), p.partition());
    return tx.queryLong("SELECT COALESCE(MAX(seq), 0) FROM mq_messages WHERE topic = ? AND partition_no = ?"
        + " AND seq <= ? AND published_at <= ?", p.topic(), p.partition(), watermark, cutoff);
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long cutoff = now.minus(age).toEpochMilli();
    long n = 0;
    for (Part p : parts(tx)) {
      n += tx.queryLong("SELECT COUNT(*) FROM mq_messages WHERE topic = ? AND partition_no = ? AND seq <= ?",
          p.topic(), p.partition(), upTo(tx, p, cutoff));
    }
    return new TreeMap<>(Map.of("mq_messages", n));
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    for (Part p : ledger.transact(DeadLetterRetention::parts)) {
      boolean[] more = {true};
      while (more[0]) {
        boolean goOn = batches.run((tx, tally) ->
            more[0] = RetentionGc.trim(tx, tally, p, upTo(tx, p, cutoff), batches.limit()));
        if (more[0] && !goOn) {
          return;
        }
      }
    }
  }
}
