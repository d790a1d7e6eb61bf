package dev.conveyor.reconcile.executor;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.ReleaseReconcileLeaseRequest;
import dev.conveyor.api.reconcile.ReleaseReconcileLeaseResponse;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.GetLeasedFileGroupExecutionRequest;
import dev.conveyor.api.reconcile.GetReconcileCancellationRequest;
import dev.conveyor.api.reconcile.GetReconcileCancellationResponse;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeaseReconcileJobResponse;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.StageLeasedResultChunkRequest;
import dev.conveyor.api.reconcile.StageLeasedResultChunkResponse;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RenewReconcileLeaseRequest;
import dev.conveyor.api.reconcile.RenewReconcileLeaseResponse;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.ReportReconcileProgressResponse;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultResponse;
import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobProgress;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.Outcomes.LeaseStatus;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.Semaphore;

/**
 * The leased reconcile protocol over the ledger's leased jobs. Every call after a lease presents
 * the epoch; failures map to precise statuses with an ErrorInfo reason (see {@link GrpcErrors}).
 * Admission control refuses calls beyond {@code maxConcurrentCalls} with RESOURCE_EXHAUSTED.
 */
public final class ReconcileExecutorService extends ReconcileExecutorControlGrpc.ReconcileExecutorControlImplBase {
  public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);
  public static final Duration MAX_LEASE = Duration.ofMinutes(30);
  /** LeaseReconcileJob: at most this many jobs per call. */
  static final int MAX_JOBS_PER_LEASE = 100;

  private final Ledger ledger;
  private final LeasedJobs jobs;
  private final Semaphore admission;
  private final dev.conveyor.reconcile.artifacts.ArtifactStore artifacts;

  public ReconcileExecutorService(Ledger ledger, int maxConcurrentCalls) {
    this(ledger, maxConcurrentCalls, dev.conveyor.reconcile.artifacts.ArtifactStore.NONE);
  }

  public ReconcileExecutorService(Ledger ledger, int maxConcurrentCalls,
      dev.conveyor.reconcile.artifacts.ArtifactStore artifacts) {
    this.ledger = ledger;
    this.jobs = ledger.jobs();
    this.admission = new Semaphore(maxConcurrentCalls);
    this.artifacts = artifacts;
  }

  private <T> void call(StreamObserver<T> out, Callable<T> body) {
    if (!admission.tryAcquire()) {
      out.onError(GrpcErrors.overloaded("the reconcile control plane is at its concurrent call limit; retry shortly"));
      return;
    }
    T response;
    try {
      response = body.call();
    } catch (Throwable e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    } finally {
      admission.release();
    }
    out.onNext(response);
    out.onCompleted();
  }

  /** A file group may succeed only once a success result covering its planned files was accepted. */
  private static java.util.Optional<RuntimeException> fileGroupSucceedsWithItsResult(dev.conveyor.ledger.Tx tx,
      Job job, Completion completion) throws java.sql.SQLException {
    if (completion instanceof Completion.Succeeded && job.kind() == JobKind.EXEC_FILE_GROUP
        && !job.state().isTerminal() && tx.queryLong("SELECT COUNT(*) FROM job_results WHERE job_id = ?"
            + " AND result_id LIKE ?", job.id(), "%" + FileGroupResults.SUCCESS_SUFFIX) == 0) {
      return java.util.Optional.of(new dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException("job " + job.id()
          + " has no accepted success result covering its planned files; submit one before RCS_SUCCEEDED"));
    }
    return java.util.Optional.empty();
  }

  private static Duration lease(long leaseMs) {
    Bounds.range("lease_ms", leaseMs, 0, MAX_LEASE.toMillis());
    return leaseMs == 0 ? DEFAULT_LEASE : Duration.ofMillis(leaseMs);
  }

  /** Ids and epochs: non-empty printable UTF-8 within {@link Bounds#MAX_ID_BYTES}. */
  private static String required(String field, String value) {
    return Bounds.id(field, value);
  }

  @Override
  public void leaseReconcileJob(LeaseReconcileJobRequest req, StreamObserver<LeaseReconcileJobResponse> out) {
    call(out, () -> {
      Set<JobKind> kinds = new HashSet<>();
      req.getJobKindsList().forEach(k -> kinds.add(JobKinds.fromWire(k)));
      Bounds.range("max_jobs", req.getMaxJobs(), 0, MAX_JOBS_PER_LEASE);
      Bounds.list("job_kinds", req.getJobKindsList(), Bounds.MAX_LIST_ITEMS);
      Bounds.ids("execution_classes", req.getExecutionClassesList(), Bounds.MAX_LIST_ITEMS);
      Bounds.ids("lanes", req.getLanesList(), Bounds.MAX_LIST_ITEMS);
      Bounds.ids("executor_ids", req.getExecutorIdsList(), Bounds.MAX_LIST_ITEMS);
      LeaseRequest request = new LeaseRequest(required("executor_id", req.getExecutorId()), kinds,
          Set.copyOf(req.getExecutionClassesList()), Set.copyOf(req.getLanesList()), Set.copyOf(req.getExecutorIdsList()),
          Math.max(1, req.getMaxJobs()), lease(req.getLeaseMs()));
      LeaseReconcileJobResponse.Builder response = LeaseReconcileJobResponse.newBuilder();
      for (LeaseGrant g : jobs.lease(request)) {
        Job j = g.job();
        response.addJobs(LeasedReconcileJob.newBuilder().setJobId(j.id()).setLeaseEpoch(g.epoch())
            .setKind(JobKinds.toWire(j.kind())).setExecutionClass(j.executionClass()).setLane(j.lane())
            .setParentJobId(j.parentId() == null ? "" : j.parentId()).setAttempt(j.attempts())
            .setLeaseExpiresAtMs(g.expiresAt().toEpochMilli()));
      }
      return response.build();
    });
  }

  @Override
  public void startLeasedReconcileJob(StartLeasedReconcileJobRequest req,
      StreamObserver<StartLeasedReconcileJobResponse> out) {
    call(out, () -> {
      String id = required("job_id", req.getJobId());
      String epoch = required("lease_epoch", req.getLeaseEpoch());
      long started = jobs.start(id, epoch).toEpochMilli();
      return StartLeasedReconcileJobResponse.newBuilder().setStartedAtMs(started)
          .setCancellationRequested(jobs.cancellationRequested(id, epoch)).build();
    });
  }

  @Override
  public void renewReconcileLease(RenewReconcileLeaseRequest req, StreamObserver<RenewReconcileLeaseResponse> out) {
    call(out, () -> {
      LeaseStatus s = jobs.renew(required("job_id", req.getJobId()), required("lease_epoch", req.getLeaseEpoch()),
          lease(req.getLeaseMs()));
      return RenewReconcileLeaseResponse.newBuilder().setRenewed(s.renewed())
          .setCancellationRequested(s.cancellationRequested())
          .setLeaseExpiresAtMs(s.expiresAt() == null ? 0 : s.expiresAt().toEpochMilli()).build();
    });
  }

  @Override
  public void releaseReconcileLease(ReleaseReconcileLeaseRequest req, StreamObserver<ReleaseReconcileLeaseResponse> out) {
    call(out, () -> ReleaseReconcileLeaseResponse.newBuilder().setReleased(jobs.handBack(
        required("job_id", req.getJobId()), required("lease_epoch", req.getLeaseEpoch()),
        Bounds.text("reason", req.getReason()))).build());
  }

  @Override
  public void reportReconcileProgress(ReportReconcileProgressRequest req,
      StreamObserver<ReportReconcileProgressResponse> out) {
    call(out, () -> {
      var p = ExecutorBounds.progress("progress", req.getProgress());
      LeaseStatus s = jobs.progress(required("job_id", req.getJobId()), required("lease_epoch", req.getLeaseEpoch()),
          new JobProgress(p.getFilesDone(), p.getFilesTotal(), p.getFilesFailed(), p.getBytesDone(),
              p.getMessage().isEmpty() ? null : p.getMessage()), DEFAULT_LEASE);
      return ReportReconcileProgressResponse.newBuilder().setRenewed(s.renewed())
          .setCancellationRequested(s.cancellationRequested()).setLeaseExpiresAtMs(s.expiresAt().toEpochMilli()).build();
    });
  }

  @Override
  public void getReconcileCancellation(GetReconcileCancellationRequest req,
      StreamObserver<GetReconcileCancellationResponse> out) {
    call(out, () -> GetReconcileCancellationResponse.newBuilder().setCancellationRequested(
        jobs.cancellationRequested(required("job_id", req.getJobId()), required("lease_epoch", req.getLeaseEpoch())))
        .build());
  }

  @Override
  public void getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest req,
      StreamObserver<LeasedFileGroupExecution> out) {
    call(out, () -> {
      String id = required("job_id", req.getJobId());
      String epoch = required("lease_epoch", req.getLeaseEpoch());
      jobs.cancellationRequested(id, epoch); // refuses a stale epoch with LEASE_LOST
      Job job = jobs.get(id);
      return fileGroup(job).toBuilder().setJobId(id).setLeaseEpoch(epoch)
          .setParentJobId(job.parentId() == null ? "" : job.parentId()).build();
    });
  }

  private static LeasedFileGroupExecution fileGroup(Job job) throws InvalidProtocolBufferException {
    if (job.kind() != JobKind.EXEC_FILE_GROUP) {
      throw new IllegalArgumentException("job_id " + job.id() + " is a " + job.kind() + " job, not a file group");
    }
    return LeasedFileGroupExecution.parseFrom(job.payload());
  }

  @Override
  public void submitLeasedFileGroupExecutionResult(SubmitLeasedFileGroupExecutionResultRequest req,
      StreamObserver<SubmitLeasedFileGroupExecutionResultResponse> out) {
    call(out, () -> {
      String id = required("job_id", req.getJobId());
      String epoch = required("lease_epoch", req.getLeaseEpoch());
      String resultId = FileGroupResults.resultId(req);
      LeasedFileGroupExecution group = fileGroup(jobs.get(id));
      ExecutorBounds.submit(req, group);
      // a replayed chunked submit finds its pieces already dropped; the recorded answer is replayed instead
      boolean chunked = req.hasChunkedSuccess() && jobs.findResult(id, resultId).isEmpty();
      FileGroupSuccess success = req.hasSuccess() ? req.getSuccess()
          : chunked ? ledger.transact(tx -> ResultChunks.assemble(tx, id, req.getChunkedSuccess())) : null;
      if (success != null) {
        FileGroupResults.validateSuccess(success, group);
      }
      var recorded = jobs.recordResult(id, epoch, resultId, FileGroupResults.canonical(req), (tx, job) -> {
        var response = SubmitLeasedFileGroupExecutionResultResponse.newBuilder().setResultId(resultId);
        if (success != null) {
          response.setStatsWritten(FileGroupResults.storeStats(tx, id, success))
              .setArtifactsWritten(FileGroupResults.storeArtifacts(tx, id, success, artifacts))
              .setUnreadableFiles(FileGroupResults.storeUnreadable(tx, id, success, group));
          ResultChunks.discard(tx, id, resultId);
        }
        return response.build().toByteArray();
      });
      return SubmitLeasedFileGroupExecutionResultResponse.parseFrom(recorded.response()).toBuilder()
          .setReplayed(recorded.replayed()).build();
    });
  }

  @Override
  public void stageLeasedResultChunk(StageLeasedResultChunkRequest req,
      StreamObserver<StageLeasedResultChunkResponse> out) {
    call(out, () -> {
      String id = required("job_id", req.getJobId());
      jobs.cancellationRequested(id, required("lease_epoch", req.getLeaseEpoch())); // LEASE_LOST for a stale epoch
      int staged = ledger.transact(tx -> ResultChunks.stage(tx, req));
      return StageLeasedResultChunkResponse.newBuilder().setStaged(staged).build();
    });
  }

  @Override
  public void completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest req,
      StreamObserver<CompleteLeasedReconcileJobResponse> out) {
    call(out, () -> {
      String id = required("job_id", req.getJobId());
      String epoch = required("lease_epoch", req.getLeaseEpoch());
      String message = req.getMessage().isEmpty() ? null : Bounds.text("message", req.getMessage());
      ExecutorBounds.progress("progress", req.getProgress());
      Completion completion = switch (req.getStatus()) {
        case RCS_SUCCEEDED -> new Completion.Succeeded(message);
        case RCS_CANCELLED -> new Completion.Cancelled(message);
        case RCS_FAILED -> new Completion.Failed(message == null ? "failed" : message, switch (req.getRetry()) {
          case RD_TERMINAL -> Completion.Disposition.TERMINAL;
          case RD_WAITING_ON_DEPENDENCY -> Completion.Disposition.WAITING_ON_DEPENDENCY;
          default -> Completion.Disposition.RETRYABLE;
        });
        default -> throw new IllegalArgumentException("status must be RCS_SUCCEEDED, RCS_FAILED or RCS_CANCELLED");
      };
      // concurrent workers' completions share one read and one batched write (group commit)
      Completed done = jobs.complete(id, epoch, completion, ReconcileExecutorService::fileGroupSucceedsWithItsResult);
      return CompleteLeasedReconcileJobResponse.newBuilder().setState(JobKinds.toWire(done.state()))
          .setReplayed(done.replayed()).build();
    });
  }
}
