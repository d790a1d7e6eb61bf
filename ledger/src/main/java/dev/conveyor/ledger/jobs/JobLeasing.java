package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Coalesced;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** The arguments of {@link #leaseSql}, in order, for one request's {@code maxJobs}. */
  static List<Object> leaseArgs(long nowMillis, LeaseRequest req) {
    return leaseArgs(nowMillis, req, req.maxJobs());
  }

  /** The arguments of {@link #leaseSql} for {@code wanted} jobs matching {@code req}'s filters. */
  static List<Object> leaseArgs(long nowMillis, LeaseRequest req, int wanted) {
    List<Object> args = new ArrayList<>();
    args.add(nowMillis);
    args.addAll(req.kinds());
    args.addAll(req.executionClasses());
    if (!req.anyLane()) {
      args.addAll(req.lanes());
    }
    args.addAll(req.executorIds());
    // Over-fetch a little so jobs sharing a lane key within one batch do not starve the batch; only a
    // little, for every row fetched is locked (a heap write on PostgreSQL) whether it is taken or not.
    args.add(wanted + Math.min(wanted / 8, 16));
    return args;
  }

  /** What decides a lease's candidates: requests that agree on it can share one query. */
  private record Filters(Set<JobKind> kinds, Set<String> executionClasses, Set<String> lanes,
      Set<String> executorIds) {
    static Filters of(LeaseRequest r) {
      return new Filters(r.kinds(), r.executionClasses(), r.anyLane() ? Set.of() : r.lanes(), r.executorIds());
    }
  }

  /**
   * Takes one chosen candidate. By id and version only: the version fences any concurrent change. With a
   * {@code state = 'QUEUED'} condition as well, pg_stat_statements showed this update at 497 µs and 150
   * buffers a row on a fresh, never-analyzed queue under load, against 94 µs and 25 buffers without it;
   * the condition invites indexes on state, whose queued entries are mostly dead.
   */
  static final String TAKE_SQL = "UPDATE jobs SET state = 'RUNNING', lease_epoch = ?, lease_owner = ?,"
      + " lease_expires_at = ?, attempts = attempts + 1, started_at = NULL, updated_at = ?, version = version + 1"
      + " WHERE id = ? AND version = ?";

  /** The most jobs one shared candidates' query asks for. */
  static final int MAX_SHARED_LEASE = 1000;

  static List<LeaseGrant> lease(Tx tx, LeaseRequest req) throws SQLException {
    return leaseEach(tx, List.of(req)).get(0).valueOrThrow();
  }

  /**
   * Leases for several callers in one transaction (group commit's {@link Coalesced} lease): requests with
   * the same filters share one candidates' query for all the jobs they want, and the chosen jobs go to
   * them in the order they asked, each up to its {@code maxJobs}; one batched update takes them all. A
   * lease refuses nobody: a request may get fewer jobs than it asked for, or none.
   */
  static List<Coalesced.Answer<List<LeaseGrant>>> leaseEach(Tx tx, List<LeaseRequest> requests) throws SQLException {
    Map<Filters, List<Integer>> groups = new LinkedHashMap<>();
    for (int i = 0; i < requests.size(); i++) {
      groups.computeIfAbsent(Filters.of(requests.get(i)), f -> new ArrayList<>()).add(i);
    }
    List<List<LeaseGrant>> granted = new ArrayList<>(requests.size());
    for (int i = 0; i < requests.size(); i++) {
      granted.add(new ArrayList<>());
    }
    List<Object[]> rows = new ArrayList<>();
    Set<String> lanesTaken = new HashSet<>();
    // groups' filters may overlap, and a transaction does not skip its own row locks: a job is granted once
    Set<String> taken = new HashSet<>();
    for (List<Integer> members : groups.values()) {
      LeaseRequest first = requests.get(members.get(0));
      int wanted = 0;
      for (int i : members) {
        wanted = Math.min(MAX_SHARED_LEASE, wanted + requests.get(i).maxJobs());
      }
      List<Job> candidates = tx.query(leaseSql(tx.dialect(), first), JobRows::map,
          leaseArgs(tx.nowMillis(), first, wanted).toArray());
      int member = 0;
      for (Job job : candidates) {
        while (member < members.size()
            && granted.get(members.get(member)).size() == requests.get(members.get(member)).maxJobs()) {
          member++;
        }
        if (member == members.size()) {
          break;
        }
        if (taken.contains(job.id()) || (job.laneKey() != null && !lanesTaken.add(job.laneKey()))) {
          continue;
        }
        taken.add(job.id());
        LeaseRequest req = requests.get(members.get(member));
        Instant expires = tx.now().plus(req.leaseDuration());
        String epoch = Ids.opaque();
        rows.add(new Object[] {epoch, req.executorId(), expires.toEpochMilli(), tx.nowMillis(), job.id(), job.version()});
        granted.get(members.get(member)).add(new LeaseGrant(leased(job, epoch, req.executorId(), expires), epoch, expires));
      }
    }
    List<Coalesced.Answer<List<LeaseGrant>>> answers = new ArrayList<>(requests.size());
    for (List<LeaseGrant> g : granted) {
      answers.add(Coalesced.Answer.of(g.isEmpty() ? List.of() : List.copyOf(g)));
    }
    if (rows.isEmpty()) {
      return answers;
    }
    int[] counts;
    try {
      counts = tx.batch(TAKE_SQL, rows);
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
    return answers;
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

  /**
   * The job is still held with {@code epoch}, whether or not its lease ran out meanwhile (nobody took it yet):
   * what a result or a completion requires, and so what writes that go with them require.
   */
  static Job requireEpoch(Tx tx, String jobId, String epoch) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch)) {
      throw new LeaseLostException(jobId, staleReason(job, epoch));
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

  /** Progress a job's result states (in its transaction): merged like a report, the lease left as it is. */
  static void recordProgress(Tx tx, String jobId, String epoch, JobProgress reported) throws SQLException {
    Job job = requireEpoch(tx, jobId, epoch);
    JobProgress merged = job.progress().mergedWith(reported);
    JobRows.cas(tx, job, "progress_done = ?, progress_total = ?, progress_failed = ?, progress_bytes = ?,"
        + " progress_message = ?", merged.done(), merged.total(), merged.failed(), merged.bytes(), merged.message());
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
