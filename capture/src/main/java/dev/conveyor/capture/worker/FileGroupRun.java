package dev.conveyor.capture.worker;

import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.FileResult;
import dev.conveyor.api.reconcile.FileAccess;
import dev.conveyor.api.reconcile.GetLeasedFileGroupExecutionRequest;
import dev.conveyor.capture.io.RemoteInputFile;
import java.net.URI;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.Progress;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.RetryDisposition;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.capture.stats.FileCaptureException;
import dev.conveyor.capture.stats.FileFailure;
import dev.conveyor.capture.pageindex.PageIndexArtifact;
import dev.conveyor.capture.pageindex.PageIndexReader;
import dev.conveyor.capture.stats.ParquetFileStats;
import dev.conveyor.api.catalog.LeasedFileGroupIndexArtifact;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * One leased file group: start → get execution → capture → submit → complete, with a heartbeat
 * renewing at a third of the lease. Work stops on lease loss (and nothing more is sent) or on
 * cancellation (completed RCS_CANCELLED). A lost submit or complete response is retried unchanged;
 * after a handled completion the heartbeat is already stopped, so nothing renews. An unreadable file
 * (missing, truncated, not Parquet, unsupported, corrupt) is listed with its cause in the group's
 * success and the rest are captured; a transient filesystem fault fails the attempt retryably.
 */
final class FileGroupRun {
  private static final int RPC_ATTEMPTS = 5;

  private final ReconcileExecutorControlBlockingStub rpc;
  private final ScheduledExecutorService heartbeats;
  private final Duration lease;
  private final LeasedReconcileJob job;
  /** Heartbeats carry progress, so people see it move at least this often even with long leases. */
  private static final long MAX_HEARTBEAT_MS = 2000;

  private final dev.conveyor.supervise.Supervisor supervisor;
  private volatile boolean lost;
  private volatile int filesTotal;
  private final java.util.concurrent.atomic.AtomicInteger filesDone = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicInteger filesFailed = new java.util.concurrent.atomic.AtomicInteger();
  private final java.util.concurrent.atomic.AtomicLong bytesDone = new java.util.concurrent.atomic.AtomicLong();
  private volatile boolean cancelled;
  /** Set when the filesystem (not a file) failed: the group is retried rather than recorded. */
  private String transientFault;
  private final int maxResultBytes;

  FileGroupRun(ReconcileExecutorControlBlockingStub rpc, ScheduledExecutorService heartbeats, Duration lease,
      int maxResultBytes, LeasedReconcileJob job) {
    this(rpc, heartbeats, lease, maxResultBytes, job, dev.conveyor.supervise.Supervisor.create());
  }

  /** {@code supervisor} watches the heartbeat: a failure it does not expect is logged and counted, never silent. */
  FileGroupRun(ReconcileExecutorControlBlockingStub rpc, ScheduledExecutorService heartbeats, Duration lease,
      int maxResultBytes, LeasedReconcileJob job, dev.conveyor.supervise.Supervisor supervisor) {
    this.supervisor = supervisor;
    this.maxResultBytes = maxResultBytes;
    this.rpc = rpc;
    this.heartbeats = heartbeats;
    this.lease = lease;
    this.job = job;
  }

  /** Where page-index artifacts are written before they are read back, hashed and sent. */
  /** New URLs are asked for when the lease's would expire within this. */
  static final java.time.Duration REFRESH_BEFORE = java.time.Duration.ofSeconds(5);
  private java.util.Map<String, FileAccess> accessByPath;
  private long accessRefreshAt;
  private static final Path SCRATCH = Path.of(System.getProperty("java.io.tmpdir"), "conveyor-page-index");

  void run() {
    rpc.startLeasedReconcileJob(StartLeasedReconcileJobRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch()).build());
    // the heartbeat starts with the job, so a slow (or retried) execution fetch cannot let the lease lapse
    long every = Math.max(50, Math.min(MAX_HEARTBEAT_MS, lease.toMillis() / 3));
    ScheduledFuture<?> heartbeat = heartbeats.scheduleAtFixedRate(
        supervisor.periodic("capture-heartbeat", this::beat), every, every, TimeUnit.MILLISECONDS);
    LeasedFileGroupExecution exec;
    List<FileResult> results = new ArrayList<>();
    List<TargetStatsRecord> stats = new ArrayList<>();
    List<LeasedFileGroupIndexArtifact> artifacts = new ArrayList<>();
    try {
      exec = rpc.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
          .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch()).build());
      filesTotal = exec.getFilePathsCount();
      capture(exec, results, stats, artifacts);
    } finally {
      heartbeat.cancel(false);
    }
    if (lost) {
      return; // someone else owns the group now; sending anything would only be refused
    }
    if (cancelled) {
      complete(ReconcileCompletionStatus.RCS_CANCELLED, RetryDisposition.RD_TERMINAL, "cancellation requested");
      return;
    }
    if (transientFault != null) {
      // the filesystem failed, not a file: the whole group is tried again after backoff
      complete(ReconcileCompletionStatus.RCS_FAILED, RetryDisposition.RD_RETRYABLE, transientFault);
      return;
    }
    // every planned file is accounted for: readable ones with their statistics, unreadable ones with
    // their cause; the snapshot is finalized as partial when any is unreadable
    String prefix = job.getJobId() + ":" + exec.getPlanId() + ":" + exec.getGroupId();
    submitSuccess(FileGroupSuccess.newBuilder().setResultId(prefix + ":success").addAllFileResults(results)
        .addAllStatsRecords(stats).addAllIndexArtifacts(artifacts).build());
    complete(ReconcileCompletionStatus.RCS_SUCCEEDED, RetryDisposition.RD_RETRYABLE, null);
  }

  private void capture(LeasedFileGroupExecution exec, List<FileResult> results, List<TargetStatsRecord> stats,
      List<LeasedFileGroupIndexArtifact> artifacts) {
    var policy = exec.getCapturePolicy();
    boolean wantsStats = policy.getFileStats() || policy.getColumnStats() || policy.getTableStats()
        || policy.getPageIndex();
    for (var file : exec.getFilesList().isEmpty() ? exec.getFilePathsList().stream()
        .map(p -> dev.conveyor.api.reconcile.PlannedFile.newBuilder().setPath(p).build()).toList() : exec.getFilesList()) {
      if (lost || cancelled) {
        return;
      }
      if (!wantsStats) {
        results.add(FileResult.newBuilder().setPath(file.getPath()).setOk(true).build());
        continue;
      }
      boolean remote = isObjectStore(file.getPath());
      org.apache.parquet.io.InputFile input;
      if (remote) {
        FileAccess access = access(exec, file.getPath());
        if (access == null) {
          transientFault = file.getPath() + ": the control plane granted no read access to this object";
          return;
        }
        input = new RemoteInputFile(URI.create(access.getUrl()), file.getSizeBytes(), file.getPath());
      } else {
        input = new org.apache.parquet.io.LocalInputFile(Path.of(file.getPath()));
      }
      try {
        TargetStatsRecord rec = remote
            ? ParquetFileStats.capture(input, file.getSizeBytes(), file.getPath(), exec.getTableId(),
                exec.getSnapshotId(), policy.getColumns(), policy.getColumnStats(), false)
            : ParquetFileStats.capture(Path.of(file.getPath()), exec.getTableId(), exec.getSnapshotId(),
                policy.getColumns(), policy.getColumnStats());
        if (!policy.getColumnStats() && !policy.getTableStats()) {
          rec = rec.toBuilder().clearColumns().build();
        }
        LeasedFileGroupIndexArtifact artifact = null;
        if (policy.getPageIndex()) {
          // one validated sidecar per readable file
          artifact = PageIndexArtifact.build(PageIndexReader.read(input, file.getPath(), policy.getColumns()),
              exec.getTableId(), exec.getSnapshotId(), SCRATCH);
        }
        if (artifact != null) {
          artifacts.add(artifact);
        }
        if (policy.getFileStats() || policy.getColumnStats() || policy.getTableStats()) {
          stats.add(rec);
        }
        results.add(FileResult.newBuilder().setPath(file.getPath()).setOk(true).setRowCount(rec.getRowCount()).build());
      } catch (FileCaptureException e) {
        FileFailure failure = remote ? FileFailure.classifyRemote(e)
            : FileFailure.classify(Path.of(file.getPath()), file.getSizeBytes(), e);
        if (failure instanceof FileFailure.Transient) {
          transientFault = file.getPath() + ": " + failure.message();
          return;
        }
        results.add(FileResult.newBuilder().setPath(file.getPath()).setOk(false)
            .setCause(((FileFailure.Unreadable) failure).cause()).setMessage(failure.message()).build());
        filesFailed.incrementAndGet();
      }
      // the heartbeat thread reports these; the work never waits on a progress call
      filesDone.incrementAndGet();
      bytesDone.addAndGet(file.getSizeBytes());
    }
  }

  private static boolean isObjectStore(String path) {
    return path.startsWith("s3://") || path.startsWith("s3a://");
  }

  /**
   * The read access the lease granted for {@code path}; when it would expire within {@link #REFRESH_BEFORE}
   * (the heartbeat has renewed the lease meanwhile), the execution is fetched again for new URLs.
   */
  private FileAccess access(LeasedFileGroupExecution exec, String path) {
    if (accessByPath == null || System.nanoTime() >= accessRefreshAt) {
      LeasedFileGroupExecution fresh = accessByPath == null ? exec
          : rpc.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
              .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch()).build());
      long now = System.nanoTime();
      accessByPath = new java.util.HashMap<>();
      long earliest = Long.MAX_VALUE;
      for (FileAccess a : fresh.getFileAccessList()) {
        accessByPath.put(a.getPath(), a);
        earliest = Math.min(earliest, a.getExpiresInMs());
      }
      accessRefreshAt = earliest == Long.MAX_VALUE ? Long.MAX_VALUE
          : now + java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(Math.max(0, earliest - REFRESH_BEFORE.toMillis()));
    }
    return accessByPath.get(path);
  }

  /** Renews the lease by reporting progress (progress renews too) and learns about cancellation. */
  private void beat() {
    try {
      var r = rpc.reportReconcileProgress(ReportReconcileProgressRequest.newBuilder().setJobId(job.getJobId())
          .setLeaseEpoch(job.getLeaseEpoch()).setProgress(Progress.newBuilder().setFilesTotal(filesTotal)
              .setFilesDone(filesDone.get()).setFilesFailed(filesFailed.get()).setBytesDone(bytesDone.get()))
          .build());
      cancelled |= r.getCancellationRequested();
    } catch (StatusRuntimeException e) {
      // LEASE_LOST means someone else owns the group now; anything else is retried at the next tick
      lost |= e.getStatus().getCode() == Status.Code.FAILED_PRECONDITION;
    }
  }

  /** A success too large for one message is staged in chunks and then named by its size and digest. */
  private void submitSuccess(FileGroupSuccess success) {
    var request = SubmitLeasedFileGroupExecutionResultRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch());
    byte[] bytes = success.toByteArray();
    if (bytes.length <= maxResultBytes) {
      submit(request.setSuccess(success).build());
      return;
    }
    int count = (bytes.length + maxResultBytes - 1) / maxResultBytes;
    for (int i = 0; i < count; i++) {
      var chunk = dev.conveyor.api.reconcile.StageLeasedResultChunkRequest.newBuilder().setJobId(job.getJobId())
          .setLeaseEpoch(job.getLeaseEpoch()).setResultId(success.getResultId()).setIndex(i).setChunkCount(count)
          .setData(com.google.protobuf.ByteString.copyFrom(bytes, i * maxResultBytes,
              Math.min(maxResultBytes, bytes.length - i * maxResultBytes)))
          .build();
      retryUnchanged(() -> rpc.stageLeasedResultChunk(chunk));
    }
    submit(request.setChunkedSuccess(dev.conveyor.api.reconcile.ChunkedSuccess.newBuilder()
        .setResultId(success.getResultId()).setChunkCount(count).setSizeBytes(bytes.length)
        .setSha256(sha256(bytes))).build());
  }

  private static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  private void submit(SubmitLeasedFileGroupExecutionResultRequest request) {
    retryUnchanged(() -> rpc.submitLeasedFileGroupExecutionResult(request));
  }

  private void complete(ReconcileCompletionStatus status, RetryDisposition retry, String message) {
    CompleteLeasedReconcileJobRequest.Builder b = CompleteLeasedReconcileJobRequest.newBuilder()
        .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch()).setStatus(status).setRetry(retry);
    if (message != null) {
      b.setMessage(message);
    }
    CompleteLeasedReconcileJobRequest request = b.build();
    retryUnchanged(() -> rpc.completeLeasedReconcileJob(request));
  }

  /** Retries the identical request when the answer was lost in transit; the server's idempotency makes it safe. */
  private static <T> T retryUnchanged(Supplier<T> call) {
    for (int attempt = 1; ; attempt++) {
      try {
        return call.get();
      } catch (StatusRuntimeException e) {
        Status.Code code = e.getStatus().getCode();
        boolean transient_ = code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED
            || code == Status.Code.RESOURCE_EXHAUSTED;
        if (!transient_ || attempt >= RPC_ATTEMPTS) {
          throw e;
        }
        try {
          TimeUnit.MILLISECONDS.sleep(100L << attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
  }
}
