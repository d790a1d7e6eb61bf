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
import dev.conveyor.api.reconcile.WorkerSessionAnswer;
import dev.conveyor.api.reconcile.WorkerSessionCall;
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
  public static final Duration DEFAULT_LEASE = WorkerCalls.DEFAULT_LEASE;
  public static final Duration MAX_LEASE = WorkerCalls.MAX_LEASE;

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

  private static Duration lease(long leaseMs) {
    return WorkerCalls.lease(leaseMs);
  }

  private static String required(String field, String value) {
    return WorkerCalls.required(field, value);
  }

  /** The longest a lease call waits for work (wait_ms); longer asks are cut to this. */
  public static final Duration MAX_LEASE_WAIT = Duration.ofSeconds(20);
  /** Calls waiting for work at once; past this, a call asking to wait answers at once. */
  private static final int MAX_WAITING = 64;
  private final Semaphore waiting = new Semaphore(MAX_WAITING);
  private volatile boolean stopping;

  /**
   * Leases; with {@code wait_ms} and nothing ready, waits (up to {@link #MAX_LEASE_WAIT}) for the ledger's
   * job wake-up and leases again, so an idle remote worker costs one call (and the ledger a transaction
   * only when something may be ready) per wait instead of one per poll.
   */
  @Override
  public void leaseReconcileJob(LeaseReconcileJobRequest req, StreamObserver<LeaseReconcileJobResponse> out) {
    if (req.getWaitMs() < 0) {
      out.onError(new dev.conveyor.api.bounds.InvalidField("wait_ms", "'wait_ms' must not be negative, got "
          + req.getWaitMs()));
      return;
    }
    long waitNanos = Duration.ofMillis(Math.min(req.getWaitMs(), MAX_LEASE_WAIT.toMillis())).toNanos();
    call(out, () -> {
      var request = WorkerCalls.leaseRequest(req);
      var ready = jobs.ready().of(request.kinds());
      long seen = ready.version();
      var granted = jobs.lease(request);
      if (!granted.isEmpty() || waitNanos == 0 || !waiting.tryAcquire()) {
        return WorkerCalls.leaseResponse(granted);
      }
      try {
        long deadline = System.nanoTime() + waitNanos;
        io.grpc.Context context = io.grpc.Context.current();
        for (long left = waitNanos; granted.isEmpty() && left > 0 && !stopping && !context.isCancelled();
            left = deadline - System.nanoTime()) {
          ready.awaitAfter(seen, Duration.ofNanos(Math.min(left, Duration.ofSeconds(1).toNanos())));
          long now = ready.version();
          if (now != seen && !context.isCancelled()) {
            seen = now;
            granted = jobs.lease(request);
          }
        }
      } finally {
        waiting.release();
      }
      return WorkerCalls.leaseResponse(granted);
    });
  }

  /** Lease calls waiting for work now. */
  public int waitingCalls() {
    return MAX_WAITING - waiting.availablePermits();
  }

  /** Ends every waiting lease call (with what it has: nothing); the server is shutting down. */
  public void stopWaiting() {
    stopping = true;
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
    call(out, () -> WorkerCalls.renewResponse(jobs.renew(required("job_id", req.getJobId()),
        required("lease_epoch", req.getLeaseEpoch()), lease(req.getLeaseMs()))));
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
      JobProgress progress = WorkerCalls.progress(req);
      return WorkerCalls.progressResponse(jobs.progress(required("job_id", req.getJobId()),
          required("lease_epoch", req.getLeaseEpoch()), progress, DEFAULT_LEASE));
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
      LeasedFileGroupExecution.Builder exec = fileGroup(job).toBuilder().setJobId(id).setLeaseEpoch(epoch)
          .setParentJobId(job.parentId() == null ? "" : job.parentId());
      FileAccessGrants.grant(exec, job, ledger.clock().instant());
      return exec.build();
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
          int unreadable = FileGroupResults.storeUnreadable(tx, id, success, group);
          response.setStatsWritten(FileGroupResults.storeStats(tx, id, success))
              .setArtifactsWritten(FileGroupResults.storeArtifacts(tx, id, success, artifacts))
              .setUnreadableFiles(unreadable);
          // the result says exactly how far the group got: progress never stays at the last heartbeat's count
          jobs.recordProgress(tx, id, epoch, new dev.conveyor.ledger.jobs.JobProgress(success.getFileResultsCount(),
              group.getFilePathsCount(), unreadable, 0, null));
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
      Completion completion = WorkerCalls.completion(req);
      // concurrent workers' completions share one read and one batched write (group commit)
      return WorkerCalls.completeResponse(jobs.complete(id, epoch, completion, WorkerCalls::fileGroupSucceedsWithItsResult));
    });
  }

  @Override
  public StreamObserver<WorkerSessionCall> workerSession(StreamObserver<WorkerSessionAnswer> out) {
    return new WorkerSession(jobs, (io.grpc.stub.ServerCallStreamObserver<WorkerSessionAnswer>) out);
  }
}
