package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A WAITING parent resolves once every child is terminal: any failed child fails it, else any
 * cancelled child cancels it, else it succeeds. Resolution climbs to the grandparent. Each question
 * ("is any child still live / failed / cancelled?") is an existence check on (parent_id, state), so it
 * stays a seek for a parent of 100,000 children.
 */
final class ParentResolution {
  private ParentResolution() {}

  static void afterChildTerminal(Tx tx, Job child) throws SQLException {
    resolveFrom(tx, child.parentId());
  }

  /** Resolves {@code parentId} (and upwards) if it is WAITING and its children are all terminal. */
  static void resolveFrom(Tx tx, String parentId) throws SQLException {
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
    if (anyChild(tx, parentId, "after_siblings = 0 AND state IN " + JobState.LIVE_SQL)) {
      return;
    }
    if (anyChild(tx, parentId, "after_siblings = 1 AND state = 'QUEUED'")) {
      JobWakeups.announce(tx); // the continuations may run now (or are cancelled below)
    }
    if (anyChild(tx, parentId, "after_siblings = 0 AND state IN ('FAILED', 'CANCELLED')")) {
      tx.update("UPDATE jobs SET state = 'CANCELLED', finished_at = ?, updated_at = ?, version = version + 1,"
          + " last_error = 'not run: a sibling job failed or was cancelled' WHERE parent_id = ? AND after_siblings = 1"
          + " AND state = 'QUEUED'", tx.nowMillis(), tx.nowMillis(), parentId);
    }
  }

  /** The resolved state of a parent, or null while some child is still live. */
  static JobState outcomeOfChildren(Tx tx, String parentId) throws SQLException {
    if (anyChild(tx, parentId, "state IN " + JobState.LIVE_SQL)) {
      return null;
    }
    if (anyChild(tx, parentId, "state = 'FAILED'")) {
      return JobState.FAILED;
    }
    if (anyChild(tx, parentId, "state = 'CANCELLED'")) {
      return JobState.CANCELLED;
    }
    return JobState.SUCCEEDED;
  }

  private static boolean anyChild(Tx tx, String parentId, String condition) throws SQLException {
    return tx.queryOne("SELECT 1 FROM jobs WHERE parent_id = ? AND " + condition + " LIMIT 1", rs -> 1, parentId)
        .isPresent();
  }
}
