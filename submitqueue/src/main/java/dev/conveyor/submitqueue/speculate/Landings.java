package dev.conveyor.submitqueue.speculate;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/**
 * Landings counted per queue (a sequence, not a clock), for the re-verify rule: a path remembers the count
 * when it was made, so the planner can tell whether anything landed on the target since its build's base.
 */
public final class Landings {
  private Landings() {}

  /** Counts a batch's landing (in the transaction that ends it SUCCEEDED) and stamps the batch with it. */
  public static void record(Tx tx, String queue, String batchId) throws SQLException {
    tx.update("UPDATE sq_queue_counters SET landed = landed + 1 WHERE queue = ?", queue);
    tx.update("UPDATE sq_batches SET landed_seq = (SELECT landed FROM sq_queue_counters WHERE queue = ?)"
        + " WHERE batch_id = ?", queue, batchId);
  }

  /** The queue's landings so far, for the batch's queue (0 before any). */
  static long countForBatch(Tx tx, String batchId) throws SQLException {
    return tx.queryLong("SELECT COALESCE(MAX(c.landed), 0) FROM sq_queue_counters c JOIN sq_batches b"
        + " ON b.queue = c.queue WHERE b.batch_id = ?", batchId);
  }

  /** Batches of the queue, other than {@code except}, that landed after the path's base. */
  static long landedSince(Tx tx, String queue, String pathId, List<String> except) throws SQLException {
    long base = tx.queryLong("SELECT base_landed FROM sq_paths WHERE path_id = ?", pathId);
    StringBuilder sql = new StringBuilder("SELECT COUNT(*) FROM sq_batches WHERE queue = ? AND landed_seq > ?");
    Object[] args = new Object[2 + except.size()];
    args[0] = queue;
    args[1] = base;
    if (!except.isEmpty()) {
      sql.append(" AND batch_id NOT IN (").append(String.join(", ", java.util.Collections.nCopies(except.size(), "?")))
          .append(')');
      for (int i = 0; i < except.size(); i++) {
        args[2 + i] = except.get(i);
      }
    }
    return tx.queryLong(sql.toString(), args);
  }

  /** Marks the batch re-verified; false when it already was (the rule applies once). */
  static boolean markReverified(Tx tx, String batchId) throws SQLException {
    return tx.update("UPDATE sq_batches SET reverified = 1 WHERE batch_id = ? AND reverified = 0", batchId) == 1;
  }
}
