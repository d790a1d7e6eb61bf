package dev.conveyor.messagequeue.effects;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Deletes settled effect claims (COMPLETED or RELEASED) not touched for {@code age}, and abandoned ones (HELD
 * by a holder whose lease lapsed that long ago: it will not come back); a live held claim is never deleted. A claim is what stops an effect from running twice, so its age must outlast every
 * message that could cause the effect again (the settings check it against message and dead-letter
 * retention). Each delete re-checks the state, so a released claim taken again meanwhile stays.
 */
public final class ClaimRetention implements RetentionTask {
  private static final String SETTLED_OR_ABANDONED = "(state IN ('COMPLETED', 'RELEASED') OR (state = 'HELD'"
      + " AND expires_at <= ?))";
  private static final String DUE = " FROM effect_claims WHERE " + SETTLED_OR_ABANDONED + " AND updated_at <= ?";
  private final Duration age;

  public ClaimRetention(Duration age) {
    this.age = age;
  }

  @Override
  public String name() {
    return "effect-claims";
  }

  @Override
  public Duration age() {
    return age;
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long cutoff = now.minus(age).toEpochMilli();
    return new TreeMap<>(Map.of("effect_claims", tx.queryLong("SELECT COUNT(*)" + DUE, cutoff, cutoff)));
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> {
      List<Object[]> keys = tx.query("SELECT scope, effect_key" + DUE + " ORDER BY updated_at LIMIT ?",
          rs -> new Object[] {rs.getString(1), rs.getString(2), cutoff, cutoff}, cutoff, cutoff, batches.limit());
      int[] counts = tx.batch("DELETE FROM effect_claims WHERE scope = ? AND effect_key = ? AND "
          + SETTLED_OR_ABANDONED + " AND updated_at <= ?", keys);
      long n = 0;
      for (int c : counts) {
        n += Math.max(c, 0);
      }
      tally.deleted("effect_claims", n);
      return keys.size() == batches.limit();
    })) {
      // batch by batch
    }
  }
}
