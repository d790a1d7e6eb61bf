package dev.conveyor.durability.signals;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Signal streams: append with a ledger-assigned sequence, gap-free per (stream, partition) because it is
 * taken under the partition row's lock in the appending transaction; read back in order with the gap
 * retention left. After each commit the followers of the partition are woken, on this node in process
 * and on the others through PostgreSQL's NOTIFY on {@link SignalWakeups#CHANNEL}.
 *
 * <p>SQL issued: emit — one insert-if-absent of the partition row, one {@code SELECT … FOR UPDATE} of it,
 * one intent lookup by the unique index, one insert, one update of {@code next_seq}; read — the partition
 * row and one range scan of the primary key.
 */
public final class Signals {
  private final Ledger ledger;
  private final SignalWakeups wakeups;

  public Signals(Ledger ledger, SignalWakeups wakeups) {
    this.ledger = ledger;
    this.wakeups = wakeups;
  }

  public record Emitted(String partition, long sequence, boolean duplicate) {}

  /** Sequences {@code requestedAfter+1 .. firstRetained-1} were collected before the read. */
  public record Gap(long requestedAfter, long firstRetained) {}

  public record Page(List<SignalRecord> signals, Optional<Gap> gap, long lastSequence) {}

  /** What a follower waits on: the partition's wake-up key. */
  public static String wakeTopic(String stream, String partition) {
    return "signal/" + stream + "/" + partition;
  }

  public SignalWakeups wakeups() {
    return wakeups;
  }

  public Emitted emit(String stream, String partition, String intentId, byte[] payload) {
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      tx.update("INSERT INTO durable_partitions (stream, partition_key, next_seq, low_seq, created_at)"
          + " VALUES (?, ?, 1, 1, ?) ON CONFLICT DO NOTHING", stream, partition, now);
      long next = tx.queryLong("SELECT next_seq FROM durable_partitions WHERE stream = ? AND partition_key = ?"
          + tx.dialect().forUpdate(), stream, partition);
      Optional<Long> first = tx.queryOne("SELECT seq FROM durable_signals WHERE stream = ? AND partition_key = ?"
          + " AND intent_id = ?", rs -> rs.getLong(1), stream, partition, intentId);
      if (first.isPresent()) {
        return new Emitted(partition, first.get(), true);
      }
      try {
        tx.update("INSERT INTO durable_signals (stream, partition_key, seq, intent_id, payload, emitted_at)"
            + " VALUES (?, ?, ?, ?, ?, ?)", stream, partition, next, intentId, payload, now);
      } catch (SQLException e) {
        if (tx.dialect().isUniqueViolation(e)) {
          throw new OptimisticConflictException("signal " + intentId + " emitted concurrently"); // retried
        }
        throw e;
      }
      tx.update("UPDATE durable_partitions SET next_seq = ? WHERE stream = ? AND partition_key = ?", next + 1,
          stream, partition);
      String topic = wakeTopic(stream, partition);
      if (tx.dialect() == Dialect.POSTGRESQL) {
        tx.queryOne("SELECT pg_notify(?, ?)", rs -> 1, SignalWakeups.CHANNEL, topic);
      }
      tx.afterCommit(() -> wakeups.signal(topic));
      return new Emitted(partition, next, false);
    });
  }

  /**
   * Up to {@code limit} signals after {@code after}, cut after {@code maxBytes} of payload (never below one).
   * The gap is told by the page itself: sequences are gap-free but for what retention collected, so a first
   * signal past {@code after + 1} (or, with none left, a low-water mark past it) is the gap, whatever
   * retention committed between the statements of this read.
   */
  public Page read(String stream, String partition, long after, int limit, int maxBytes) {
    return ledger.read(tx -> {
      List<SignalRecord> all = tx.query("SELECT stream, partition_key, seq, intent_id, payload, emitted_at"
          + " FROM durable_signals WHERE stream = ? AND partition_key = ? AND seq > ? ORDER BY seq LIMIT ?",
          Signals::map, stream, partition, after, limit);
      long[] bounds = tx.queryOne("SELECT low_seq, next_seq FROM durable_partitions WHERE stream = ?"
          + " AND partition_key = ?", rs -> new long[] {rs.getLong(1), rs.getLong(2)}, stream, partition)
          .orElse(new long[] {1, 1});
      long firstRetained = all.isEmpty() ? bounds[0] : all.get(0).sequence();
      Optional<Gap> gap = after + 1 < firstRetained ? Optional.of(new Gap(after, firstRetained)) : Optional.empty();
      List<SignalRecord> signals = new java.util.ArrayList<>();
      long bytes = 0;
      for (SignalRecord s : all) {
        bytes += s.payload().length + s.intentId().length() + 64;
        if (!signals.isEmpty() && bytes > maxBytes) {
          break;
        }
        signals.add(s);
      }
      long last = Math.max(bounds[1] - 1, all.isEmpty() ? 0 : all.get(all.size() - 1).sequence());
      return new Page(signals, gap, last);
    });
  }

  /** The highest assigned sequence of a partition, 0 for none; in the caller's transaction. */
  public static long lastSequence(Tx tx, String stream, String partition) throws SQLException {
    return tx.queryOne("SELECT next_seq FROM durable_partitions WHERE stream = ? AND partition_key = ?",
        rs -> rs.getLong(1), stream, partition).orElse(1L) - 1;
  }

  /** A stream's newest signals over all its partitions, newest first. */
  public List<SignalRecord> recent(String stream, int limit) {
    return ledger.read(tx -> tx.query("SELECT stream, partition_key, seq, intent_id, payload, emitted_at"
        + " FROM durable_signals WHERE stream = ? ORDER BY emitted_at DESC, partition_key, seq DESC LIMIT ?",
        Signals::map, stream, limit));
  }

  static SignalRecord map(ResultSet rs) throws SQLException {
    return new SignalRecord(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getString(4), rs.getBytes(5),
        rs.getLong(6));
  }
}
