package dev.conveyor.app.audit;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Deletes audit entries older than {@code retention.audit}, oldest first, a batch at a time. */
public final class AuditRetention implements RetentionTask {
  private final Duration age;

  public AuditRetention(Duration age) {
    this.age = age;
  }

  @Override
  public String name() {
    return "audit";
  }

  @Override
  public Duration age() {
    return age;
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    return Map.of("audit_log", tx.queryLong("SELECT COUNT(*) FROM audit_log WHERE at_ms <= ?",
        now.minus(age).toEpochMilli()));
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> {
      List<Object[]> ids = tx.query("SELECT entry_id FROM audit_log WHERE at_ms <= ? ORDER BY at_ms LIMIT ?",
          rs -> new Object[] {rs.getString(1)}, cutoff, batches.limit());
      int[] counts = tx.batch("DELETE FROM audit_log WHERE entry_id = ?", ids);
      long n = 0;
      for (int c : counts) {
        n += Math.max(c, 0);
      }
      tally.deleted("audit_log", n);
      return ids.size() == batches.limit();
    })) {
      // batch by batch, oldest first
    }
  }
}
