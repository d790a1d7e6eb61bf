package dev.conveyor.messagequeue.stream;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Reading a stream back: messages after a sequence, in order, with an explicit gap when the
 * requested position was already collected; and named durable cursors that never move back.
 */
public final class Replay {
  private final Ledger ledger;

  public Replay(Ledger ledger) {
    this.ledger = ledger;
  }

  /** Sequences {@code requestedAfter+1 .. firstRetained-1} were garbage-collected before the read. */
  public record Gap(long requestedAfter, long firstRetained) {
    public long missing() {
      return firstRetained - requestedAfter - 1;
    }
  }

  public record Page(List<StreamMessage> messages, Optional<Gap> gap) {}

  public Page after(String topic, int partition, long afterSeq, int limit) {
    if (afterSeq < 0) {
      throw new IllegalArgumentException("sequence must not be negative, got " + afterSeq);
    }
    return ledger.transact(tx -> {
      long low = tx.queryOne("SELECT low_seq FROM mq_partitions WHERE topic = ? AND partition_no = ?",
          rs -> rs.getLong(1), topic, partition).orElse(1L);
      Optional<Gap> gap = afterSeq + 1 < low ? Optional.of(new Gap(afterSeq, low)) : Optional.empty();
      return new Page(read(tx, topic, partition, afterSeq, limit), gap);
    });
  }

  public static List<StreamMessage> read(Tx tx, String topic, int partition, long afterSeq, int limit) throws SQLException {
    return tx.query("SELECT topic, partition_no, seq, message_id, partition_key, payload, published_at"
        + " FROM mq_messages WHERE topic = ? AND partition_no = ? AND seq > ? ORDER BY seq LIMIT ?",
        Replay::map, topic, partition, afterSeq, limit);
  }

  public static StreamMessage map(ResultSet rs) throws SQLException {
    return new StreamMessage(rs.getString(1), rs.getInt(2), rs.getLong(3), rs.getString(4), rs.getString(5),
        rs.getBytes(6), Instant.ofEpochMilli(rs.getLong(7)));
  }

  /** The cursor's position (0 before anything was read). */
  public long cursor(String name, String topic, int partition) {
    return ledger.transact(tx -> tx.queryOne("SELECT position FROM mq_cursors WHERE cursor_name = ? AND topic = ?"
        + " AND partition_no = ?", rs -> rs.getLong(1), name, topic, partition).orElse(0L));
  }

  /** Moves a cursor forward in the caller's transaction; a lower position is ignored. */
  public void advanceCursor(Tx tx, String name, String topic, int partition, long position) throws SQLException {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("cursor name must not be empty");
    }
    tx.update("INSERT INTO mq_cursors (cursor_name, topic, partition_no, position, updated_at) VALUES (?, ?, ?, ?, ?)"
        + " ON CONFLICT (cursor_name, topic, partition_no) DO UPDATE SET position = CASE"
        + " WHEN excluded.position > mq_cursors.position THEN excluded.position ELSE mq_cursors.position END,"
        + " updated_at = excluded.updated_at", name, topic, partition, position, tx.nowMillis());
  }
}
