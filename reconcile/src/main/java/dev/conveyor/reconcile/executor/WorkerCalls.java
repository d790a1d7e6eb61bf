package dev.conveyor.reconcile.executor;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeaseReconcileJobResponse;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.RenewReconcileLeaseResponse;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.ReportReconcileProgressResponse;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobProgress;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.Outcomes.LeaseStatus;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The holder's calls between wire and ledger, shared by the unary RPCs and the worker session so both
 * check the same bounds and answer the same way: each {@code *Request} method validates a request
 * (naming the field it refuses) and each {@code *Response} method renders the ledger's outcome.
 */
final class WorkerCalls {
  static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
  static final Duration MAX_LEASE = Duration.ofMinutes(30);
  /** LeaseReconcileJob: at most this many jobs per call. */
  static final int MAX_JOBS_PER_LEASE = 100;

  private WorkerCalls() {}

  static LeaseRequest leaseRequest(LeaseReconcileJobRequest req) {
    Bounds.range("max_jobs", req.getMaxJobs(), 0, MAX_JOBS_PER_LEASE);
    Bounds.list("job_kinds", req.getJobKindsList(), Bounds.MAX_LIST_ITEMS);
    Bounds.ids("execution_classes", req.getExecutionClassesList(), Bounds.MAX_LIST_ITEMS);
    Bounds.ids("lanes", req.getLanesList(), Bounds.MAX_LIST_ITEMS);
    Bounds.ids("executor_ids", req.getExecutorIdsList(), Bounds.MAX_LIST_ITEMS);
    Set<JobKind> kinds = new HashSet<>();
    req.getJobKindsList().forEach(k -> kinds.add(JobKinds.fromWire(k)));
    return new LeaseRequest(required("executor_id", req.getExecutorId()), kinds,
        Set.copyOf(req.getExecutionClassesList()), Set.copyOf(req.getLanesList()), Set.copyOf(req.getExecutorIdsList()),
        Math.max(1, req.getMaxJobs()), lease(req.getLeaseMs()));
  }

  static LeaseReconcileJobResponse leaseResponse(List<LeaseGrant> grants) {
    LeaseReconcileJobResponse.Builder response = LeaseReconcileJobResponse.newBuilder();
    for (LeaseGrant g : grants) {
      Job j = g.job();
      response.addJobs(LeasedReconcileJob.newBuilder().setJobId(j.id()).setLeaseEpoch(g.epoch())
          .setKind(JobKinds.toWire(j.kind())).setExecutionClass(j.executionClass()).setLane(j.lane())
          .setParentJobId(j.parentId() == null ? "" : j.parentId()).setAttempt(j.attempts())
          .setLeaseExpiresAtMs(g.expiresAt().toEpochMilli()));
    }
    return response.build();
  }

  static RenewReconcileLeaseResponse renewResponse(LeaseStatus s) {
    return RenewReconcileLeaseResponse.newBuilder().setRenewed(s.renewed())
        .setCancellationRequested(s.cancellationRequested())
        .setLeaseExpiresAtMs(s.expiresAt() == null ? 0 : s.expiresAt().toEpochMilli()).build();
  }

  static JobProgress progress(ReportReconcileProgressRequest req) {
    var p = ExecutorBounds.progress("progress", req.getProgress());
    return new JobProgress(p.getFilesDone(), p.getFilesTotal(), p.getFilesFailed(), p.getBytesDone(),
        p.getMessage().isEmpty() ? null : p.getMessage());
  }

  static ReportReconcileProgressResponse progressResponse(LeaseStatus s) {
    return ReportReconcileProgressResponse.newBuilder().setRenewed(s.renewed())
        .setCancellationRequested(s.cancellationRequested()).setLeaseExpiresAtMs(s.expiresAt().toEpochMilli()).build();
  }

  static Completion completion(CompleteLeasedReconcileJobRequest req) {
    String message = req.getMessage().isEmpty() ? null : Bounds.text("message", req.getMessage());
    ExecutorBounds.progress("progress", req.getProgress());
    return switch (req.getStatus()) {
      case RCS_SUCCEEDED -> new Completion.Succeeded(message);
      case RCS_CANCELLED -> new Completion.Cancelled(message);
      case RCS_FAILED -> new Completion.Failed(message == null ? "failed" : message, switch (req.getRetry()) {
        case RD_TERMINAL -> Completion.Disposition.TERMINAL;
        case RD_WAITING_ON_DEPENDENCY -> Completion.Disposition.WAITING_ON_DEPENDENCY;
        default -> Completion.Disposition.RETRYABLE;
      });
      default -> throw new IllegalArgumentException("status must be RCS_SUCCEEDED, RCS_FAILED or RCS_CANCELLED");
    };
  }

  static CompleteLeasedReconcileJobResponse completeResponse(Completed done) {
    return CompleteLeasedReconcileJobResponse.newBuilder().setState(JobKinds.toWire(done.state()))
        .setReplayed(done.replayed()).build();
  }

  /** A file group may succeed only once a success result covering its planned files was accepted. */
  static Optional<RuntimeException> fileGroupSucceedsWithItsResult(Tx tx, Job job, Completion completion)
      throws SQLException {
    if (completion instanceof Completion.Succeeded && job.kind() == JobKind.EXEC_FILE_GROUP
        && !job.state().isTerminal() && tx.queryLong("SELECT COUNT(*) FROM job_results WHERE job_id = ?"
            + " AND result_id LIKE ?", job.id(), "%" + FileGroupResults.SUCCESS_SUFFIX) == 0) {
      return Optional.of(new InvalidJobStateException("job " + job.id()
          + " has no accepted success result covering its planned files; submit one before RCS_SUCCEEDED"));
    }
    return Optional.empty();
  }

  static Duration lease(long leaseMs) {
    Bounds.range("lease_ms", leaseMs, 0, MAX_LEASE.toMillis());
    return leaseMs == 0 ? DEFAULT_LEASE : Duration.ofMillis(leaseMs);
  }

  /** Ids and epochs: non-empty printable UTF-8 within {@link Bounds#MAX_ID_BYTES}. */
  static String required(String field, String value) {
    return Bounds.id(field, value);
  }
}
