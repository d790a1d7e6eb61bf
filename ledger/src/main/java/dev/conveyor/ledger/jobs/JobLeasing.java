package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.Outcomes.LeaseStatus;
import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Granting leases and everything a holder does while it holds one. */
final class JobLeasing {
  private JobLeasing() {}

  /**
   * The candidates' query: queued, due, matching the request, whose lane is free and whose earlier
   * siblings are done, in lease order. On SQLite it walks the ready index whatever the planner's statistics
   * (see {@link dev.conveyor.ledger.Dialect#scanUsing}, {@link dev.conveyor.ledger.Dialect#filterOnly}); on
   * PostgreSQL it skips rows other leasers hold.
   */
  static String leaseSql(dev.conveyor.ledger.Dialect dialect, LeaseRequest req) {
    StringBuilder sql = new StringBuilder("SELECT ").append(JobRows.ALIASED_COLUMNS)
        .append(" FROM jobs j").append(dialect.scanUsing("jobs_ready"))
        .append(" WHERE j.state = 'QUEUED' AND j.run_after <= ?");
    if (!req.kinds().isEmpty()) {
      sql.append(" AND ").append(dialect.filterOnly("j.kind")).append(" IN (").append(JobQueue.placeholders(req.kinds().size())).append(')');
    }
    if (!req.executionClasses().isEmpty()) {
      sql.append(" AND j.execution_class IN (").append(JobQueue.placeholders(req.executionClasses().size())).append(')');
    }
    if (!req.anyLane()) {
      sql.append(" AND j.lane IN (").append(JobQueue.placeholders(req.lanes().size())).append(')');
    }
    if (req.executorIds().isEmpty()) {
      sql.append(" AND j.pinned_executor IS NULL");
    } else {
      sql.append(" AND (j.pinned_executor IS NULL OR j.pinned_executor IN (")
          .append(JobQueue.placeholders(req.executorIds().size())).append("))");
    }
    sql.append(" AND (j.lane_key IS NULL OR NOT EXISTS (SELECT 1 FROM jobs r WHERE r.lane_key = j.lane_key"
        + " AND r.state IN ('RUNNING', 'CANCELLING')))");
    sql.append(" AND (j.after_siblings = 0 OR NOT EXISTS (SELECT 1 FROM jobs s WHERE s.parent_id = j.parent_id"
        + " AND s.after_siblings = 0 AND s.state NOT IN " + JobState.TERMINAL_SQL + "))");
    sql.append(" ORDER BY j.run_after, j.id LIMIT ?").append(dialect.forUpdateSkipLocked());
    return sql.toString();
  }

  /** The arguments of {@link #leaseSql}, in order. */
  static List<Object> leaseArgs(long nowMillis, LeaseRequest req) {
    List<Object> args = new ArrayList<>();
    args.add(nowMillis);
    args.addAll(req.kinds());
    args.addAll(req.executionClasses());
    if (!req.anyLane()) {
      args.addAll(req.lanes());
    }
    args.addAll(req.executorIds());
    // Over-fetch a little so jobs sharing a lane key within one batch do not starve the batch.
    args.add(req.maxJobs() == 1 ? 1 : req.maxJobs() + Math.min(req.maxJobs(), 16));
    return args;
  }

  static List<LeaseGrant> lease(Tx tx, LeaseRequest req) throws SQLException {
    String sql = leaseSql(tx.dialect(), req);
    List<Object> args = leaseArgs(tx.nowMillis(), req);
    List<Job> candidates = tx.query(sql, JobRows::map, args.toArray());
    Set<String> lanesTaken = new HashSet<>();
    List<Job> chosen = new ArrayList<>();
    for (Job job : candidates) {
      if (chosen.size() == req.maxJobs()) {
        break;
      }
      if (job.laneKey() == null || lanesTaken.add(job.laneKey())) {
        chosen.add(job);
      }
    }
    if (chosen.isEmpty()) {
      return List.of();
    }
    Instant expires = tx.now().plus(req.leaseDuration());
    List<Object[]> rows = new ArrayList<>();
    List<LeaseGrant> grants = new ArrayList<>();
    for (Job job : chosen) {
      String epoch = Ids.opaque();
      rows.add(new Object[] {epoch, req.executorId(), expires.toEpochMilli(), tx.nowMillis(), job.id(), job.version()});
      grants.add(new LeaseGrant(leased(job, epoch, req.executorId(), expires), epoch, expires));
    }
    int[] counts;
    try {
      counts = tx.batch("UPDATE jobs SET state = 'RUNNING', lease_epoch = ?, lease_owner = ?, lease_expires_at = ?,"
          + " attempts = attempts + 1, started_at = NULL, updated_at = ?, version = version + 1"
          + " WHERE id = ? AND version = ? AND state = 'QUEUED'", rows);
    } catch (BatchUpdateException e) {
      throw conflictOrRethrow(tx, e);
    } catch (SQLException e) {
      throw conflictOrRethrow(tx, e);
    }
    for (int c : counts) {
      if (c == 0) {
        throw new OptimisticConflictException("a leased job changed concurrently");
      }
    }
    return grants;
  }

  private static SQLException conflictOrRethrow(Tx tx, SQLException e) {
    // Two leasers raced for one lane key; the unique index kept the lane exclusive. Try again.
    if (tx.dialect().isUniqueViolation(e)
        || (e.getNextException() != null && tx.dialect().isUniqueViolation(e.getNextException()))) {
      throw new OptimisticConflictException("lane key taken concurrently");
    }
    return e;
  }

  private static Job leased(Job j, String epoch, String owner, Instant expires) {
    return new Job(j.id(), j.kind(), JobState.RUNNING, j.executionClass(), j.lane(), j.laneKey(),
        j.pinnedExecutorId(), j.dedupeKey(), j.parentId(), j.rootId(), j.payload(), j.attempts() + 1,
        j.maxAttempts(), j.runAfter(), epoch, owner, expires, j.cancelRequested(), j.progress(),
        j.childrenFingerprint(), j.lastCompletionEpoch(), j.lastCompletionHash(), j.lastError(), j.createdAt(),
        j.updatedAt(), null, j.finishedAt(), j.version() + 1, j.afterSiblings());
  }

  /** Requires a live, unexpired lease; answers the job as held. */
  static Job requireLive(Tx tx, String jobId, String epoch) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch)) {
      throw new LeaseLostException(jobId, staleReason(job, epoch));
    }
    if (job.leaseExpiredAt(tx.now())) {
      throw new LeaseLostException(jobId, "the lease expired at " + job.leaseExpiresAt());
    }
    return job;
  }

  static String staleReason(Job job, String epoch) {
    if (!epoch.equals(job.leaseEpoch())) {
      return "epoch " + epoch + " is not the job's current lease";
    }
    return "the job is " + job.state();
  }

  static Instant start(Tx tx, String jobId, String epoch) throws SQLException {
    Job job = requireLive(tx, jobId, epoch);
    if (job.startedAt() != null) {
      return job.startedAt();
    }
    JobRows.cas(tx, job, "started_at = ?", tx.nowMillis());
    return tx.now();
  }

  static LeaseStatus renew(Tx tx, String jobId, String epoch, Duration extension) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    boolean cancel = job.cancelRequested() || job.state() == JobState.CANCELLING;
    if (!job.heldWith(epoch) || job.leaseExpiredAt(tx.now())) {
      return new LeaseStatus(false, cancel, job.leaseExpiresAt());
    }
    Instant expires = tx.now().plus(extension);
    JobRows.cas(tx, job, "lease_expires_at = ?", expires.toEpochMilli());
    return new LeaseStatus(true, cancel, expires);
  }

  static LeaseStatus progress(Tx tx, String jobId, String epoch, JobProgress reported, Duration extension)
      throws SQLException {
    Job job = requireLive(tx, jobId, epoch);
    JobProgress merged = job.progress().mergedWith(reported);
    Instant expires = tx.now().plus(extension);
    JobRows.cas(tx, job, "progress_done = ?, progress_total = ?, progress_failed = ?, progress_bytes = ?,"
            + " progress_message = ?, lease_expires_at = ?", merged.done(), merged.total(), merged.failed(),
        merged.bytes(), merged.message(), expires.toEpochMilli());
    return new LeaseStatus(true, job.cancelRequested() || job.state() == JobState.CANCELLING, expires);
  }

  static boolean cancellationRequested(Tx tx, String jobId, String epoch) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch)) {
      throw new LeaseLostException(jobId, staleReason(job, epoch));
    }
    return job.cancelRequested() || job.state() == JobState.CANCELLING;
  }
}
