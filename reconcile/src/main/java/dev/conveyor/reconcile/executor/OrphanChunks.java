package dev.conveyor.reconcile.executor;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Collects result chunks nobody will join ({@link ResultChunks}): those of a job that ended or is
 * gone (the submit that joins them never came), and those staged longer ago than {@code age} — an
 * attempt that lives longer than that stages its pieces again (the same bytes are accepted again),
 * so {@code age} should be well above a file group's lease. Statistics are never touched.
 */
public final class OrphanChunks implements RetentionTask {
  private static final String DUE = " FROM capture_result_chunks c WHERE c.created_at <= ?"
      + " OR NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = c.job_id AND j.state NOT IN ('SUCCEEDED', 'FAILED',"
      + " 'CANCELLED'))";

  private final Duration age;

  public OrphanChunks(Duration age) {
    this.age = age;
  }

  @Override
  public String name() {
    return "result-chunks";
  }

  @Override
  public Duration age() {
    return age;
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    return new TreeMap<>(Map.of("capture_result_chunks",
        tx.queryLong("SELECT COUNT(*)" + DUE, now.minus(age).toEpochMilli())));
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> {
      List<Object[]> keys = tx.query("SELECT c.job_id, c.result_id, c.chunk_index" + DUE + " LIMIT ?",
          rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getInt(3)}, cutoff, batches.limit());
      long n = 0;
      for (int c : tx.batch("DELETE FROM capture_result_chunks WHERE job_id = ? AND result_id = ? AND chunk_index = ?",
          keys)) {
        n += Math.max(c, 0);
      }
      tally.deleted("capture_result_chunks", n);
      return keys.size() == batches.limit();
    })) {
      // batch by batch
    }
  }
}
