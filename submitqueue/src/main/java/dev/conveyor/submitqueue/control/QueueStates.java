package dev.conveyor.submitqueue.control;

import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateChange;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/**
 * A merge queue's operating state, in the caller's transaction: ACTIVE unless a row says PAUSED or
 * DRAINING. Every change appends to the queue's state log (who asked, why, when).
 */
public final class QueueStates {
  private QueueStates() {}

  /** The state as stored: ACTIVE when nobody changed it. */
  public record Current(QueueState state, String reason, String changedBy, long changedAtMillis) {
    static final Current ACTIVE = new Current(QueueState.QUEUE_ACTIVE, null, null, 0);

    public boolean paused() {
      return state == QueueState.QUEUE_PAUSED;
    }

    public boolean draining() {
      return state == QueueState.QUEUE_DRAINING;
    }

    /** e.g. "paused since 2026-12-02T08:00:00Z by ana@ci: incident 42". */
    public String describe() {
      String name = state == QueueState.QUEUE_PAUSED ? "paused" : state == QueueState.QUEUE_DRAINING ? "draining"
          : "active";
      return name + (changedBy == null ? "" : " since " + java.time.Instant.ofEpochMilli(changedAtMillis) + " by "
          + changedBy) + (reason == null || reason.isEmpty() ? "" : ": " + reason);
    }
  }

  /**
   * Serialises what decides a queue's state (a person's pause, drain or resume; a post-merge verdict; a
   * revert) on PostgreSQL: the queue's counters row, which exists once anything was landed on the queue.
   */
  public static void lock(Tx tx, String queue) throws SQLException {
    tx.queryOne("SELECT next_n FROM sq_queue_counters WHERE queue = ?" + tx.dialect().forUpdate(), rs -> rs.getLong(1),
        queue);
  }

  public static Current get(Tx tx, String queue) throws SQLException {
    return tx.queryOne("SELECT state, reason, changed_by, changed_at FROM sq_queue_states WHERE queue = ?",
        rs -> new Current(QueueState.valueOf(rs.getString(1)), rs.getString(2), rs.getString(3), rs.getLong(4)), queue)
        .orElse(Current.ACTIVE);
  }

  /** Reads the state in a read-only transaction of its own. */
  public static Current get(dev.conveyor.ledger.Ledger ledger, String queue) {
    return ledger.read(tx -> get(tx, queue));
  }

  /** Sets the state (idempotent: the same state again changes nothing and logs nothing). Answers the new one. */
  public static Current set(Tx tx, String queue, QueueState to, String reason, String by) throws SQLException {
    Current now = get(tx, queue);
    if (now.state() == to && java.util.Objects.equals(now.reason(), reason)) {
      return now;
    }
    long at = tx.nowMillis();
    if (tx.update("UPDATE sq_queue_states SET state = ?, reason = ?, changed_by = ?, changed_at = ?,"
        + " version = version + 1 WHERE queue = ?", to.name(), reason, by, at, queue) == 0) {
      tx.update("INSERT INTO sq_queue_states (queue, state, reason, changed_by, changed_at, version)"
          + " VALUES (?, ?, ?, ?, ?, 0)", queue, to.name(), reason, by, at);
    }
    long seq = tx.queryLong("SELECT COALESCE(MAX(seq), 0) + 1 FROM sq_queue_state_log WHERE queue = ?", queue);
    tx.update("INSERT INTO sq_queue_state_log (queue, seq, state, reason, changed_by, at) VALUES (?, ?, ?, ?, ?, ?)",
        queue, seq, to.name(), reason, by, at);
    return new Current(to, reason, by, at);
  }

  /** The newest {@code limit} changes, newest first. */
  public static List<QueueStateChange> history(Tx tx, String queue, int limit) throws SQLException {
    return tx.query("SELECT state, reason, changed_by, at FROM sq_queue_state_log WHERE queue = ? ORDER BY seq DESC"
        + " LIMIT ?", rs -> QueueStateChange.newBuilder().setState(QueueState.valueOf(rs.getString(1)))
            .setReason(rs.getString(2) == null ? "" : rs.getString(2)).setChangedBy(rs.getString(3))
            .setAtMs(rs.getLong(4)).build(), queue, limit);
  }
}
