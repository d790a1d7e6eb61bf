package dev.conveyor.submitqueue.batch;

import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Batches, their members and dependencies (with the reverse index), in the caller's transaction. */
public final class Batches {
  private Batches() {}

  /** Creates the batch unless it exists (a redelivered batch stage finds the one it made before). */
  public static boolean createIfAbsent(Tx tx, String batchId, String queue, long createdN, List<String> requestIds,
      List<String> dependsOn) throws SQLException {
    if (tx.queryLong("SELECT COUNT(*) FROM sq_batches WHERE batch_id = ?", batchId) > 0) {
      return false;
    }
    long now = tx.nowMillis();
    tx.update("INSERT INTO sq_batches (batch_id, queue, state, reason, created_n, created_at, updated_at, version)"
        + " VALUES (?, ?, 'CREATED', NULL, ?, ?, ?, 0)", batchId, queue, createdN, now, now);
    List<Object[]> members = new ArrayList<>();
    for (int i = 0; i < requestIds.size(); i++) {
      members.add(new Object[] {batchId, i, requestIds.get(i)});
    }
    tx.batch("INSERT INTO sq_batch_members (batch_id, ord, request_id) VALUES (?, ?, ?)", members);
    tx.batch("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)",
        dependsOn.stream().map(d -> new Object[] {batchId, d}).toList());
    return true;
  }

  public static Optional<BatchRecord> find(Tx tx, String batchId) throws SQLException {
    Optional<Object[]> head = tx.queryOne("SELECT queue, state, reason, created_n, version FROM sq_batches"
        + " WHERE batch_id = ?", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
            rs.getLong(5)}, batchId);
    if (head.isEmpty()) {
      return Optional.empty();
    }
    Object[] h = head.get();
    return Optional.of(new BatchRecord(batchId, (String) h[0], State.valueOf((String) h[1]), (String) h[2],
        (Long) h[3], members(tx, batchId), dependencies(tx, batchId), (Long) h[4]));
  }

  public static BatchRecord get(Tx tx, String batchId) throws SQLException {
    return find(tx, batchId).orElseThrow(() -> new IllegalStateException("no batch " + batchId));
  }

  public static boolean transition(Tx tx, BatchRecord from, State to, String reason) throws SQLException {
    return tx.update("UPDATE sq_batches SET state = ?, reason = ?, updated_at = ?, version = version + 1"
        + " WHERE batch_id = ? AND version = ?", to.name(), reason, tx.nowMillis(), from.batchId(), from.version()) == 1;
  }

  public static List<String> members(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT request_id FROM sq_batch_members WHERE batch_id = ? ORDER BY ord", rs -> rs.getString(1),
        batchId);
  }

  public static List<String> dependencies(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT d.depends_on FROM sq_batch_deps d JOIN sq_batches b ON b.batch_id = d.depends_on"
        + " WHERE d.batch_id = ? ORDER BY b.created_n", rs -> rs.getString(1), batchId);
  }

  /** Batches that depend on {@code batchId} (the reverse index): woken when it ends. */
  public static List<String> dependents(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT batch_id FROM sq_batch_deps WHERE depends_on = ? ORDER BY batch_id", rs -> rs.getString(1),
        batchId);
  }

  /** The queue's batches that are not terminal, oldest first. */
  public static List<String> active(Tx tx, String queue) throws SQLException {
    return tx.query("SELECT batch_id FROM sq_batches WHERE queue = ? AND state IN ('CREATED', 'SPECULATING',"
        + " 'MERGING', 'CANCELLING') ORDER BY created_n", rs -> rs.getString(1), queue);
  }
}
