package dev.conveyor.durability.signals;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects signals older than {@code age}, oldest first, and moves each partition's low-water mark past
 * what went, so a replay from below it reports the gap. Cursors neither read nor renewed for {@code age}
 * and holding no live lease go too. Partition rows stay (one small row per partition ever used), so a
 * partition's sequences never start again from 1 under a reader that remembers a position.
 */
public final class SignalRetention implements RetentionTask {
  private static final String CURSORS_DUE = " FROM durable_cursors WHERE updated_at <= ?"
      + " AND (lease_expires_at IS NULL OR lease_expires_at <= ?)";
  private final Duration age;

  public SignalRetention(Duration age) {
    this.age = age;
  }

  @Override
  public String name() {
    return "signals";
  }

  @Override
  public Duration age() {
    return age;
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long cutoff = now.minus(age).toEpochMilli();
    Map<String, Long> due = new TreeMap<>();
    due.put("durable_signals", tx.queryLong("SELECT COUNT(*) FROM durable_signals WHERE emitted_at <= ?", cutoff));
    due.put("durable_cursors", tx.queryLong("SELECT COUNT(*)" + CURSORS_DUE, cutoff, now.toEpochMilli()));
    return due;
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> trimOldest(tx, tally, cutoff, batches.limit()))) {
      // batch by batch, oldest signals first
    }
    while (batches.run((tx, tally) -> {
      List<Object[]> keys = tx.query("SELECT consumer, stream, partition_key" + CURSORS_DUE + " ORDER BY updated_at"
          + " LIMIT ?", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), cutoff,
          now.toEpochMilli()}, cutoff, now.toEpochMilli(), batches.limit());
      int[] counts = tx.batch("DELETE FROM durable_cursors WHERE consumer = ? AND stream = ? AND partition_key = ?"
          + " AND updated_at <= ? AND (lease_expires_at IS NULL OR lease_expires_at <= ?)", keys);
      long n = 0;
      for (int c : counts) {
        n += Math.max(c, 0);
      }
      tally.deleted("durable_cursors", n);
      return keys.size() == batches.limit();
    })) {
      // batch by batch
    }
  }

  /** Collects everything due now, outside maintenance (tests, tools); answers how many rows went. */
  public long collect(dev.conveyor.ledger.Ledger ledger) {
    return RetentionTask.collectNow(ledger, this, 1_000);
  }

  /**
   * One batch: the oldest due signals, at most {@code limit}; in each partition they touch, everything up to
   * the highest of them goes and {@code low_seq} moves past it (under the partition row's lock, so an
   * emitter and this never interleave). Answers whether more may be due.
   */
  static boolean trimOldest(Tx tx, Tally tally, long cutoff, int limit) throws SQLException {
    Map<List<String>, Long> upTo = new TreeMap<>((a, b) -> a.get(0).equals(b.get(0))
        ? a.get(1).compareTo(b.get(1)) : a.get(0).compareTo(b.get(0)));
    List<Object[]> due = tx.query("SELECT stream, partition_key, seq FROM durable_signals WHERE emitted_at <= ?"
        + " ORDER BY emitted_at LIMIT ?", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)},
        cutoff, limit);
    for (Object[] d : due) {
      upTo.merge(List.of((String) d[0], (String) d[1]), (Long) d[2], Math::max);
    }
    for (Map.Entry<List<String>, Long> e : upTo.entrySet()) { // sorted: partition locks in one order
      String stream = e.getKey().get(0);
      String partition = e.getKey().get(1);
      tx.queryLong("SELECT low_seq FROM durable_partitions WHERE stream = ? AND partition_key = ?"
          + tx.dialect().forUpdate(), stream, partition);
      long n = tx.update("DELETE FROM durable_signals WHERE stream = ? AND partition_key = ? AND seq <= ?", stream,
          partition, e.getValue());
      tx.update("UPDATE durable_partitions SET low_seq = ? WHERE stream = ? AND partition_key = ? AND low_seq <= ?",
          e.getValue() + 1, stream, partition, e.getValue());
      tally.deleted("durable_signals", n);
    }
    return due.size() == limit;
  }
}
