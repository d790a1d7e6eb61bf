package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Cancel: queued and waiting jobs end CANCELLED at once; running ones become CANCELLING and
 * their holders (or the reaper, at lease expiry) finish the cancel. Descendants follow.
 */
final class JobCancellation {
  private JobCancellation() {}

  static JobState cancel(Tx tx, String jobId, String reason) throws SQLException {
    Job top = JobRows.require(tx, jobId);
    String why = reason == null || reason.isBlank() ? "cancelled" : reason;
    Deque<Job> pending = new ArrayDeque<>();
    pending.add(top);
    JobState topState = top.state();
    while (!pending.isEmpty()) {
      Job job = pending.poll();
      JobState next = cancelOne(tx, job, why);
      if (job.id().equals(top.id())) {
        topState = next;
      }
      pending.addAll(JobRows.children(tx, job.id()));
    }
    if (topState.isTerminal() && !top.state().isTerminal()) {
      ParentResolution.afterChildTerminal(tx, top);
    }
    return topState;
  }

  private static JobState cancelOne(Tx tx, Job job, String why) throws SQLException {
    switch (job.state()) {
      case QUEUED, WAITING -> {
        JobRows.cas(tx, job, "state = 'CANCELLED', cancel_requested = 1, finished_at = ?, last_error = ?,"
            + " lease_epoch = NULL, lease_owner = NULL, lease_expires_at = NULL", tx.nowMillis(), why);
        return JobState.CANCELLED;
      }
      case RUNNING -> {
        JobRows.cas(tx, job, "state = 'CANCELLING', cancel_requested = 1, last_error = ?", why);
        return JobState.CANCELLING;
      }
      default -> {
        return job.state();
      }
    }
  }
}
