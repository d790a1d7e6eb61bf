package dev.conveyor.messagequeue.admin;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.stream.Replay;
import dev.conveyor.messagequeue.stream.StreamMessage;
import java.time.Instant;
import java.util.List;

/** Read-only views for operators: topics, per-group lag, and a topic's recent messages. */
public final class QueueAdmin {
  private final Ledger ledger;

  public QueueAdmin(Ledger ledger) {
    this.ledger = ledger;
  }

  /** A wire topic as stored: partitions with messages, retained messages, and the highest sequence. */
  public record TopicView(String topic, int partitions, long retained, long published, long scheduled) {}

  public List<TopicView> topics() {
    return ledger.transact(tx -> tx.query("SELECT p.topic, COUNT(*), SUM(p.next_seq - 1),"
        + " (SELECT COUNT(*) FROM mq_messages m WHERE m.topic = p.topic),"
        + " (SELECT COUNT(*) FROM mq_scheduled s WHERE s.topic = p.topic)"
        + " FROM mq_partitions p GROUP BY p.topic ORDER BY p.topic",
        rs -> new TopicView(rs.getString(1), rs.getInt(2), rs.getLong(4), rs.getLong(3), rs.getLong(5))));
  }

  /** How far one group is behind on one partition, and who holds it. */
  public record LagView(String group, String topic, int partition, long committed, long latest, long lag,
      String owner, Instant leaseExpires, int headAttempts, String lastError, long takeovers) {}

  public List<LagView> lag(String groupOrNull) {
    String where = groupOrNull == null ? "" : " WHERE g.group_name = ?";
    Object[] args = groupOrNull == null ? new Object[0] : new Object[] {groupOrNull};
    return ledger.transact(tx -> tx.query("SELECT g.group_name, g.topic, g.partition_no, g.committed_seq,"
        + " COALESCE(p.next_seq - 1, 0), g.owner, (SELECT n.expires_at FROM mq_nodes n WHERE n.member_id = g.owner), g.head_attempts, g.head_last_error, g.takeovers"
        + " FROM mq_group_partitions g LEFT JOIN mq_partitions p ON p.topic = g.topic AND p.partition_no = g.partition_no"
        + where + " ORDER BY g.group_name, g.topic, g.partition_no", rs -> {
          long committed = rs.getLong(4);
          long latest = rs.getLong(5);
          long expires = rs.getLong(7);
          Instant leaseExpires = rs.wasNull() ? null : Instant.ofEpochMilli(expires);
          return new LagView(rs.getString(1), rs.getString(2), rs.getInt(3), committed, latest,
              Math.max(0, latest - committed), rs.getString(6), leaseExpires, rs.getInt(8), rs.getString(9),
              rs.getLong(10));
        }, args));
  }

  /** The newest {@code limit} messages of a partition, oldest first. */
  public List<StreamMessage> recent(String topic, int partition, int limit) {
    return ledger.transact(tx -> {
      long latest = tx.queryLong("SELECT COALESCE(MAX(next_seq) - 1, 0) FROM mq_partitions WHERE topic = ?"
          + " AND partition_no = ?", topic, partition);
      return Replay.read(tx, topic, partition, Math.max(0, latest - limit), limit);
    });
  }

  /** Partition numbers of a topic that hold messages. */
  public List<Integer> partitionsOf(String topic) {
    return ledger.transact(tx -> tx.query("SELECT partition_no FROM mq_partitions WHERE topic = ?"
        + " ORDER BY partition_no", rs -> rs.getInt(1), topic));
  }
}
