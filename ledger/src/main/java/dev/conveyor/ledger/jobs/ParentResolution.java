package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A WAITING parent resolves once every child is terminal: any failed child fails it, else any
 * cancelled child cancels it, else it succeeds. Resolution climbs to the grandparent.
 */
final class ParentResolution {
  private ParentResolution() {}

  static void afterChildTerminal(Tx tx, Job child) throws SQLException {
    String parentId = child.parentId();
    while (parentId != null) {
      // Locking the parent first serialises sibling completions, so the last one always sees
      // every other sibling terminal (each statement reads fresh data under READ COMMITTED).
      Optional<Job> locked = JobRows.lock(tx, parentId);
      if (locked.isEmpty() || locked.get().state() != JobState.WAITING) {
        return;
      }
      Job parent = locked.get();
      settleContinuations(tx, parent.id());
      JobState outcome = outcomeOfChildren(tx, parent.id());
      if (outcome == null) {
        return;
      }
      String error = outcome == JobState.SUCCEEDED ? null : "a child job ended " + outcome;
      JobRows.cas(tx, parent, "state = ?, finished_at = ?, last_error = ?, lease_epoch = NULL, lease_owner = NULL,"
          + " lease_expires_at = NULL", outcome, tx.nowMillis(), error);
      parentId = parent.parentId();
    }
  }

  /**
   * Once every ordinary child is terminal, a continuation that can no longer be useful (a sibling
   * failed or was cancelled) is cancelled, so the parent can resolve.
   */
  private static void settleContinuations(Tx tx, String parentId) throws SQLException {
    long liveOrdinary = tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ? AND after_siblings = 0"
        + " AND state NOT IN " + JobState.TERMINAL_SQL, parentId);
    if (liveOrdinary > 0) {
      return;
    }
    long unsuccessful = tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ? AND after_siblings = 0"
        + " AND state IN ('FAILED', 'CANCELLED')", parentId);
    if (unsuccessful > 0) {
      tx.update("UPDATE jobs SET state = 'CANCELLED', finished_at = ?, updated_at = ?, version = version + 1,"
          + " last_error = 'not run: a sibling job failed or was cancelled' WHERE parent_id = ? AND after_siblings = 1"
          + " AND state = 'QUEUED'", tx.nowMillis(), tx.nowMillis(), parentId);
    }
  }

  /** The resolved state of a parent, or null while some child is still live. */
  static JobState outcomeOfChildren(Tx tx, String parentId) throws SQLException {
    long live = tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ? AND state NOT IN "
        + JobState.TERMINAL_SQL, parentId);
    if (live > 0) {
      return null;
    }
    if (tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ? AND state = 'FAILED'", parentId) > 0) {
      return JobState.FAILED;
    }
    if (tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ? AND state = 'CANCELLED'", parentId) > 0) {
      return JobState.CANCELLED;
    }
    return JobState.SUCCEEDED;
  }
}
