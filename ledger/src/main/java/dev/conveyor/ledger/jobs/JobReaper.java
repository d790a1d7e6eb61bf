package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/**
 * Reclaims expired leases: a RUNNING job goes back to QUEUED after backoff (or FAILED once its
 * attempts are spent); a CANCELLING job ends CANCELLED. The dead holder's epoch is cleared, so
 * its late calls are refused.
 */
final class JobReaper {
  private JobReaper() {}

  static int reap(Tx tx, RetryPolicy policy, int limit) throws SQLException {
    List<Job> expired = tx.query("SELECT " + JobRows.COLUMNS + " FROM jobs WHERE state IN ('RUNNING', 'CANCELLING')"
        + " AND lease_expires_at <= ? ORDER BY lease_expires_at LIMIT ?" + tx.dialect().forUpdateSkipLocked(),
        JobRows::map, tx.nowMillis(), limit);
    long now = tx.nowMillis();
    for (Job job : expired) {
      if (job.state() == JobState.CANCELLING) {
        terminal(tx, job, JobState.CANCELLED, "cancelled (holder's lease expired)");
      } else if (job.attempts() >= job.maxAttempts()) {
        terminal(tx, job, JobState.FAILED, "lease expired on attempt " + job.attempts() + " of " + job.maxAttempts());
      } else {
        long due = now + policy.backoff(job.attempts()).toMillis();
        JobWakeups.announce(tx, job.kind(), due);
        JobRows.cas(tx, job, "state = 'QUEUED', run_after = ?, last_error = ?, lease_epoch = NULL, lease_owner = NULL,"
                + " lease_expires_at = NULL", due,
            "lease expired on attempt " + job.attempts() + " (holder " + job.leaseOwner() + ")");
      }
    }
    return expired.size();
  }

  private static void terminal(Tx tx, Job job, JobState state, String error) throws SQLException {
    JobRows.cas(tx, job, "state = ?, finished_at = ?, last_error = ?, lease_epoch = NULL, lease_owner = NULL,"
        + " lease_expires_at = NULL", state, tx.nowMillis(), error);
    ParentResolution.afterChildTerminal(tx, job);
    if (job.fanningOut()) {
      JobCompletion.abandonChildren(tx, job.id());
    }
  }
}
