package dev.conveyor.reconcile.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.catalog.FileTarget;
import dev.conveyor.api.catalog.StatsTarget;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.FileGroupFailure;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.FileResult;
import dev.conveyor.api.reconcile.GetLeasedFileGroupExecutionRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.Progress;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RenewReconcileLeaseRequest;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.RetryDisposition;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The executor protocol over a real gRPC server on loopback, against every ledger backend. */
public abstract class ExecutorServiceContract extends LedgerTestBase {
  private Server server;
  private ManagedChannel channel;
  private ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub rpc;
  private ReconcileExecutorService service;

  @BeforeEach
  void startServer() throws Exception {
    service = new ReconcileExecutorService(ledger, 64);
    server = start(service);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    rpc = ReconcileExecutorControlGrpc.newBlockingStub(channel);
  }

  private static Server start(ReconcileExecutorService service) throws Exception {
    return NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(service).build().start();
  }

  @AfterEach
  void stopServer() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private static final List<String> FILES = List.of("/data/t1/a.parquet", "/data/t1/b.parquet");

  private String enqueueGroup() {
    LeasedFileGroupExecution payload = LeasedFileGroupExecution.newBuilder().setTableId("t1").setSnapshotId("s1")
        .setPlanId("p1").setGroupId("g1").addAllFilePaths(FILES)
        .setCapturePolicy(CapturePolicy.newBuilder().setFileStats(true)).build();
    return ledger.jobs().enqueue(JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.EXEC_FILE_GROUP)
        .payload(payload.toByteArray()).build()).jobId();
  }

  private LeasedReconcileJob lease(String executor) {
    var response = rpc.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId(executor)
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).build());
    assertThat(response.getJobsList()).hasSize(1);
    return response.getJobs(0);
  }

  private static SubmitLeasedFileGroupExecutionResultRequest success(LeasedReconcileJob job, String rowsNote) {
    FileGroupSuccess.Builder s = FileGroupSuccess.newBuilder().setResultId(job.getJobId() + ":p1:g1:success");
    for (String f : FILES) {
      s.addFileResults(FileResult.newBuilder().setPath(f).setOk(true).setRowCount(10));
      s.addStatsRecords(TargetStatsRecord.newBuilder().setTableId("t1").setSnapshotId("s1").setRowCount(10)
          .setTarget(StatsTarget.newBuilder().setFile(FileTarget.newBuilder().setPath(f))));
    }
    s.addFileResults(0, FileResult.newBuilder().setPath(FILES.get(0)).setOk(true).setMessage(rowsNote).setRowCount(10))
        .removeFileResults(1);
    return SubmitLeasedFileGroupExecutionResultRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch()).setSuccess(s).build();
  }

  private static void assertStatus(ThrowingCallable call, Status.Code code, String reason, String messagePart) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(GrpcErrors.reasonOf(e)).isEqualTo(reason);
      assertThat(e.getStatus().getDescription()).contains(messagePart);
    });
  }

  private long storedStats() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats"));
  }

  @Test
  void aLeaseThatWaitsIsAnsweredByTheNextEnqueueAndEndsWhenTheServerStops() throws Exception {
    LeaseReconcileJobRequest waitLong = LeaseReconcileJobRequest.newBuilder().setExecutorId("w")
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).setWaitMs(60_000).build();
    var answer = java.util.concurrent.CompletableFuture.supplyAsync(() -> rpc.leaseReconcileJob(waitLong));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> service.waitingCalls() == 1);
    String id = enqueueGroup();
    // woken by the enqueue's signal, not by the end of its minute
    assertThat(answer.get(10, TimeUnit.SECONDS).getJobsList()).extracting(LeasedReconcileJob::getJobId)
        .containsExactly(id);

    var second = java.util.concurrent.CompletableFuture.supplyAsync(() -> rpc.leaseReconcileJob(waitLong));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> service.waitingCalls() == 1);
    service.stopWaiting();
    assertThat(second.get(10, TimeUnit.SECONDS).getJobsList()).isEmpty();
    assertThat(service.waitingCalls()).isZero();
  }

  @Test
  void theWholeProtocolWithAReplayedSubmit() {
    String id = enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    assertThat(job.getJobId()).isEqualTo(id);
    assertThat(job.getKind()).isEqualTo(JobKind.RJK_EXEC_FILE_GROUP);
    rpc.startLeasedReconcileJob(StartLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).build());
    LeasedFileGroupExecution exec = rpc.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(job.getLeaseEpoch()).build());
    assertThat(exec.getFilePathsList()).containsExactlyElementsOf(FILES);
    assertThat(exec.getLeaseEpoch()).isEqualTo(job.getLeaseEpoch());
    assertThat(rpc.reportReconcileProgress(ReportReconcileProgressRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setProgress(Progress.newBuilder().setFilesTotal(2).setFilesDone(1))
        .build()).getRenewed()).isTrue();

    var first = rpc.submitLeasedFileGroupExecutionResult(success(job, "ok"));
    assertThat(first.getReplayed()).isFalse();
    assertThat(first.getStatsWritten()).isEqualTo(2);
    var replay = rpc.submitLeasedFileGroupExecutionResult(success(job, "ok"));
    assertThat(replay.getReplayed()).isTrue();
    assertThat(replay.getStatsWritten()).isEqualTo(2);
    assertThat(storedStats()).isEqualTo(2);

    var done = rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build());
    assertThat(done.getState()).isEqualTo(JobState.RJS_SUCCEEDED);
    var again = rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build());
    assertThat(again.getReplayed()).isTrue();
    // the last heartbeat said 1 of 2; the result said both: a finished group never shows a stale count
    var progress = ledger.jobs().get(id).progress();
    assertThat(progress.done()).isEqualTo(2);
    assertThat(progress.total()).isEqualTo(2);
  }

  @Test
  void aChangedPayloadUnderTheSameResultIdIsAnIdempotencyMismatch() {
    enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    rpc.submitLeasedFileGroupExecutionResult(success(job, "ok"));
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(success(job, "different")), Status.Code.ABORTED,
        "IDEMPOTENCY_MISMATCH", job.getJobId() + ":p1:g1:success");
    assertThat(storedStats()).isEqualTo(2);
  }

  @Test
  void chunkedResultsAreStagedIdempotentlyCheckedAndDroppedOnceRecorded() {
    enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    byte[] whole = success(job, "ok").getSuccess().toByteArray();
    String resultId = job.getJobId() + ":p1:g1:success";
    int half = whole.length / 2;
    java.util.function.IntFunction<dev.conveyor.api.reconcile.StageLeasedResultChunkRequest> chunk = i ->
        dev.conveyor.api.reconcile.StageLeasedResultChunkRequest.newBuilder().setJobId(job.getJobId())
            .setLeaseEpoch(job.getLeaseEpoch()).setResultId(resultId).setIndex(i).setChunkCount(2)
            .setData(com.google.protobuf.ByteString.copyFrom(whole, i * half, i == 0 ? half : whole.length - half))
            .build();
    var named = SubmitLeasedFileGroupExecutionResultRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch()).setChunkedSuccess(dev.conveyor.api.reconcile.ChunkedSuccess.newBuilder()
            .setResultId(resultId).setChunkCount(2).setSizeBytes(whole.length)
            .setSha256(FileGroupResults.sha256(whole))).build();

    assertThat(rpc.stageLeasedResultChunk(chunk.apply(0)).getStaged()).isEqualTo(1);
    assertThat(rpc.stageLeasedResultChunk(chunk.apply(0)).getStaged()).as("a retried chunk is a no-op").isEqualTo(1);
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(named), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "chunks [1] are not staged");
    assertStatus(() -> rpc.stageLeasedResultChunk(chunk.apply(0).toBuilder()
        .setData(com.google.protobuf.ByteString.copyFromUtf8("other")).build()), Status.Code.ABORTED,
        "IDEMPOTENCY_MISMATCH", "different bytes");
    assertThat(rpc.stageLeasedResultChunk(chunk.apply(1)).getStaged()).isEqualTo(2);

    var first = rpc.submitLeasedFileGroupExecutionResult(named);
    assertThat(first.getStatsWritten()).isEqualTo(2);
    assertThat(rpc.submitLeasedFileGroupExecutionResult(named).getReplayed()).isTrue();
    assertThat(storedStats()).isEqualTo(2);
    long staged = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_result_chunks"));
    assertThat(staged).isZero();
  }

  @Test
  void stagedResultsAreBoundedPerJobAndCheckedBeforeTheyAreJoined() {
    enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    byte[] piece = new byte[2 << 20]; // under gRPC's 4 MiB message limit
    int accepted = 0;
    StatusRuntimeException refused = null;
    // distinct result ids do not get round the per-job bound
    for (int i = 0; i < 140 && refused == null; i++) {
      var req = dev.conveyor.api.reconcile.StageLeasedResultChunkRequest.newBuilder().setJobId(job.getJobId())
          .setLeaseEpoch(job.getLeaseEpoch()).setResultId(job.getJobId() + ":p1:g" + i + ":success").setIndex(0)
          .setChunkCount(1).setData(com.google.protobuf.ByteString.copyFrom(piece)).build();
      try {
        rpc.stageLeasedResultChunk(req);
        accepted++;
      } catch (StatusRuntimeException e) {
        refused = e;
      }
    }
    assertThat(accepted).isEqualTo((int) (ResultChunks.MAX_RESULT_BYTES / piece.length));
    assertThat(refused).isNotNull();
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(refused.getMessage()).contains("data").contains("at most " + ResultChunks.MAX_RESULT_BYTES);
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(SubmitLeasedFileGroupExecutionResultRequest
        .newBuilder().setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch())
        .setChunkedSuccess(dev.conveyor.api.reconcile.ChunkedSuccess.newBuilder()
            .setResultId(job.getJobId() + ":p1:g0:success").setChunkCount(1).setSizeBytes(1L << 40)
            .setSha256("00")).build()), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "size_bytes");
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(SubmitLeasedFileGroupExecutionResultRequest
        .newBuilder().setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch())
        .setChunkedSuccess(dev.conveyor.api.reconcile.ChunkedSuccess.newBuilder()
            .setResultId(job.getJobId() + ":p1:g0:success").setChunkCount(1).setSizeBytes(7)
            .setSha256("00")).build()), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "hold " + piece.length);
  }

  @Test
  void aStaleEpochIsLeaseLostAndRenewAnswersNotRenewed() {
    String id = enqueueGroup();
    LeasedReconcileJob first = lease("worker-1");
    clock.advance(Duration.ofMinutes(1));
    ledger.jobs().reapExpired(10);
    clock.advance(Duration.ofMinutes(1));
    LeasedReconcileJob second = lease("worker-2");
    assertThat(second.getLeaseEpoch()).isNotEqualTo(first.getLeaseEpoch());

    assertThat(rpc.renewReconcileLease(RenewReconcileLeaseRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(first.getLeaseEpoch()).build()).getRenewed()).isFalse();
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(success(first, "late")),
        Status.Code.FAILED_PRECONDITION, "LEASE_LOST", id);
    assertStatus(() -> rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(first.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_FAILED).build()),
        Status.Code.FAILED_PRECONDITION, "LEASE_LOST", id);
    assertThat(storedStats()).isZero();
  }

  @Test
  void successMustCoverEveryPlannedFileBeforeCompletion() {
    String id = enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    assertStatus(() -> rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build()),
        Status.Code.FAILED_PRECONDITION, "INVALID_STATE", "no accepted success result");

    var missingOne = success(job, "ok").toBuilder();
    missingOne.getSuccessBuilder().removeFileResults(1);
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(missingOne.build()), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "no entry for planned file '" + FILES.get(1) + "'");

    var outsider = success(job, "ok").toBuilder();
    outsider.getSuccessBuilder().addFileResults(FileResult.newBuilder().setPath("/data/other.parquet"));
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(outsider.build()), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "'/data/other.parquet', which is not a file of group g1");
    assertThat(storedStats()).isZero();
  }

  @Test
  void successAndFailureNeverShareAResultId() {
    enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    var failureWithSuccessId = SubmitLeasedFileGroupExecutionResultRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch()).setFailure(FileGroupFailure.newBuilder()
            .setResultId(job.getJobId() + ":p1:g1:success").setMessage("corrupt footer")).build();
    assertStatus(() -> rpc.submitLeasedFileGroupExecutionResult(failureWithSuccessId), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "failure.result_id");
    var failure = failureWithSuccessId.toBuilder().setFailure(failureWithSuccessId.getFailure().toBuilder()
        .setResultId(job.getJobId() + ":p1:g1:failure")).build();
    assertThat(rpc.submitLeasedFileGroupExecutionResult(failure).getReplayed()).isFalse();
    var failed = rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(job.getJobId())
        .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_FAILED)
        .setRetry(RetryDisposition.RD_TERMINAL).setMessage("corrupt footer").build());
    assertThat(failed.getState()).isEqualTo(JobState.RJS_FAILED);
  }

  @Test
  void cancellationIsReportedAndACancelledCompletionEndsTheJob() {
    String id = enqueueGroup();
    LeasedReconcileJob job = lease("worker-1");
    ledger.jobs().cancel(id, "user cancelled the capture");
    assertThat(rpc.renewReconcileLease(RenewReconcileLeaseRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).build()).getCancellationRequested()).isTrue();
    var done = rpc.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_CANCELLED).build());
    assertThat(done.getState()).isEqualTo(JobState.RJS_CANCELLED);
  }

  @Test
  void malformedRequestsNameTheField() {
    assertStatus(() -> rpc.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "executor_id' must not be empty");
    assertStatus(() -> rpc.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId("w")
        .addJobKinds(JobKind.RJK_UNSPECIFIED).build()), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "job_kinds");
    assertStatus(() -> rpc.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId("w")
        .setLeaseMs(-5).build()), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "lease_ms");
    assertStatus(() -> rpc.startLeasedReconcileJob(StartLeasedReconcileJobRequest.newBuilder().setJobId("x").build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "lease_epoch' must not be empty");
    assertStatus(() -> rpc.reportReconcileProgress(ReportReconcileProgressRequest.newBuilder().setJobId(enqueueGroup())
        .setLeaseEpoch("e").setProgress(Progress.newBuilder().setFilesDone(-1)).build()),
        Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "progress.files_done");
    assertStatus(() -> rpc.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
        .setJobId("missing").setLeaseEpoch("e").build()), Status.Code.NOT_FOUND, "NOT_FOUND", "missing");
  }

  @Test
  void admissionOverloadIsResourceExhausted() throws Exception {
    Server closed = start(new ReconcileExecutorService(ledger, 0));
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", closed.getPort()).usePlaintext().build();
    try {
      var stub = ReconcileExecutorControlGrpc.newBlockingStub(ch);
      assertStatus(() -> stub.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId("w").build()),
          Status.Code.RESOURCE_EXHAUSTED, "OVERLOADED", "concurrent call limit");
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      closed.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
