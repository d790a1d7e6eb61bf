package dev.conveyor.submitqueue.retention;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The shape every SubmitQueue retention shares: one query selects the keys due at a cutoff (every
 * condition in SQL, so what is kept is never selected again), and each batch deletes up to the limit
 * of them from the owning table and its dependent tables, dependents first.
 */
abstract class KeyedRetention implements RetentionTask {
  private final Duration age;

  KeyedRetention(Duration age) {
    this.age = age;
  }

  @Override
  public Duration age() {
    return age;
  }

  /** {@code SELECT <key> FROM … WHERE …} with one {@code ?} per cutoff placeholder, keys due first. */
  abstract String dueKeys();

  /** How many times the cutoff is bound in {@link #dueKeys()}. */
  int cutoffs() {
    return 1;
  }

  /** Keys per batch for a batch of {@code limit} rows (fewer where a key has several rows). */
  int keysPerBatch(int limit) {
    return limit;
  }

  /** Tables to delete from, dependents first, each with the column that holds the key. */
  abstract Map<String, String> tables();

  private Object[] args(long cutoff, Object... more) {
    Object[] out = new Object[cutoffs() + more.length];
    java.util.Arrays.fill(out, 0, cutoffs(), cutoff);
    System.arraycopy(more, 0, out, cutoffs(), more.length);
    return out;
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long cutoff = now.minus(age).toEpochMilli();
    Map<String, Long> out = new TreeMap<>();
    for (Map.Entry<String, String> t : tables().entrySet()) {
      out.put(t.getKey(), tx.queryLong("SELECT COUNT(*) FROM " + t.getKey() + " WHERE " + t.getValue() + " IN ("
          + dueKeys() + ")", args(cutoff)));
    }
    return out;
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> {
      int max = keysPerBatch(batches.limit());
      List<String> keys = tx.query(dueKeys() + " LIMIT ?", rs -> rs.getString(1), args(cutoff, max));
      if (keys.isEmpty()) {
        return false;
      }
      String in = String.join(", ", Collections.nCopies(keys.size(), "?"));
      for (Map.Entry<String, String> t : tables().entrySet()) {
        tally.deleted(t.getKey(), tx.update("DELETE FROM " + t.getKey() + " WHERE " + t.getValue() + " IN (" + in + ")",
            keys.toArray()));
      }
      return keys.size() == max;
    })) {
      // batch by batch
    }
  }
}
