package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;

/**
 * A holder giving its lease back before it ends (a worker shutting down): the job is ready again at
 * once and the attempt is not counted, because nothing failed. A job being cancelled ends CANCELLED
 * instead. Only the current holder can hand back; anyone else is answered false.
 */
final class JobHandBack {
  private JobHandBack() {}

  static boolean handBack(Tx tx, String jobId, String epoch, String reason) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch) || job.leaseExpiredAt(tx.now())) {
      return false;
    }
    String note = "handed back by " + job.leaseOwner() + (reason == null || reason.isBlank() ? "" : ": " + reason);
    if (job.state() == JobState.CANCELLING) {
      JobRows.cas(tx, job, "state = 'CANCELLED', finished_at = ?, last_error = ?, lease_epoch = NULL,"
          + " lease_owner = NULL, lease_expires_at = NULL", tx.nowMillis(), note);
      ParentResolution.afterChildTerminal(tx, job);
      return true;
    }
    JobRows.cas(tx, job, "state = 'QUEUED', run_after = ?, attempts = ?, last_error = ?, lease_epoch = NULL,"
        + " lease_owner = NULL, lease_expires_at = NULL, started_at = NULL", tx.nowMillis(),
        Math.max(0, job.attempts() - 1), note);
    return true;
  }

  /**
   * The holder parks its job until {@code until}: it waits on something outside the ledger (an external
   * CI's verdict). The job is queued again, due at {@code until}, its attempt not counted, its lease gone; a
   * job being cancelled ends CANCELLED. False when {@code epoch} no longer holds the job.
   */
  static boolean park(Tx tx, String jobId, String epoch, java.time.Instant until, String note) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch) || job.leaseExpiredAt(tx.now())) {
      return false;
    }
    if (job.state() == JobState.CANCELLING) {
      JobRows.cas(tx, job, "state = 'CANCELLED', finished_at = ?, last_error = ?, lease_epoch = NULL,"
          + " lease_owner = NULL, lease_expires_at = NULL", tx.nowMillis(), "cancelled while " + note);
      ParentResolution.afterChildTerminal(tx, job);
      return true;
    }
    long due = Math.max(tx.nowMillis(), until.toEpochMilli());
    JobRows.cas(tx, job, "state = 'QUEUED', run_after = ?, attempts = ?, last_error = ?, lease_epoch = NULL,"
        + " lease_owner = NULL, lease_expires_at = NULL, started_at = NULL", due, Math.max(0, job.attempts() - 1), note);
    JobWakeups.announce(tx, job.kind(), due);
    return true;
  }

  /** A parked job is due now (what it waited for happened); false when it is not queued. */
  static boolean wake(Tx tx, String jobId) throws SQLException {
    Job job = JobRows.require(tx, jobId);
    if (job.state() != JobState.QUEUED) {
      return false;
    }
    if (job.runAfter().toEpochMilli() > tx.nowMillis()) {
      JobRows.cas(tx, job, "run_after = ?", tx.nowMillis());
    }
    return true;
  }
}
