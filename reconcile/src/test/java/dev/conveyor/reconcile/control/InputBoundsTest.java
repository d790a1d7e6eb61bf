package dev.conveyor.reconcile.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.reconcile.CancelJobRequest;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ChunkedSuccess;
import dev.conveyor.api.reconcile.ColumnList;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.GetJobRequest;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.ListJobsRequest;
import dev.conveyor.api.reconcile.Progress;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.ReleaseReconcileLeaseRequest;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.StageLeasedResultChunkRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every ReconcileControl and ReconcileExecutorControl field beyond its bound is refused with
 * INVALID_ARGUMENT and ErrorInfo metadata {@code field} naming it, over gRPC on loopback; nothing
 * refused is stored.
 */
class InputBoundsTest extends LedgerTestBase {
  @TempDir static Path dir;
  private Server server;
  private ManagedChannel channel;
  private ReconcileControlGrpc.ReconcileControlBlockingStub control;
  private ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub executor;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @BeforeEach
  void start() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(new ReconcileControlService(ledger)).addService(new ReconcileExecutorService(ledger, 16))
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    control = ReconcileControlGrpc.newBlockingStub(channel);
    executor = ReconcileExecutorControlGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  static void refused(String field, ThrowingCallable call) {
    assertThatThrownBy(call).as(field).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(ErrorStatus.reasonOf(e)).isEqualTo("INVALID_ARGUMENT");
      assertThat(ErrorStatus.infoOf(e).getMetadataMap()).containsEntry("field", field);
      assertThat(e.getStatus().getDescription()).contains("'" + field + "'").hasSizeLessThan(400);
    });
  }

  private static ConnectorSpec dirConnector(String location) {
    return ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(location).build();
  }

  private RegisterTableRequest register(String tableId) {
    return RegisterTableRequest.newBuilder().setTableId(tableId).setConnector(dirConnector("/data/t")).build();
  }

  @Test
  void registerTableRefusesHugeAndUnprintableIds() {
    refused("table_id", () -> control.registerTable(register("t".repeat(3_000_000))));
    refused("table_id", () -> control.registerTable(register("sales\0")));
    refused("table_id", () -> control.registerTable(register("sales\u202Etxt.exe")));
    refused("table_id", () -> control.registerTable(register("a\u2066b")));
    refused("table_id", () -> control.registerTable(register("a\u0007b")));
    refused("table_id", () -> control.registerTable(register("é".repeat(257)))); // 514 bytes in 257 characters
    refused("connector.location", () -> control.registerTable(RegisterTableRequest.newBuilder().setTableId("t")
        .setConnector(dirConnector("/" + "d".repeat(2048))).build()));
    refused("connector.properties", () -> control.registerTable(RegisterTableRequest.newBuilder().setTableId("t")
        .setConnector(dirConnector("/d").toBuilder().putProperties("k", "v\0")).build()));
    long tables = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_tables"));
    assertThat(tables).as("nothing refused was stored").isZero();
    // at the bound, and in any script, is fine
    assertThat(control.registerTable(register("é".repeat(256))).getCreated()).isTrue();
    assertThat(control.registerTable(register("ventes-été-日本")).getCreated()).isTrue();
  }

  @Test
  void startCaptureBoundsItsIdsListsAndColumns() {
    control.registerTable(register("t"));
    StartCaptureRequest ok = StartCaptureRequest.newBuilder().setTableId("t").build();
    refused("table_id", () -> control.startCapture(ok.toBuilder().setTableId("x".repeat(513)).build()));
    refused("snapshot_id", () -> control.startCapture(ok.toBuilder().setSnapshotId("s".repeat(257)).build()));
    refused("snapshot_ids", () -> control.startCapture(ok.toBuilder()
        .addAllSnapshotIds(Collections.nCopies(101, "s")).build()));
    refused("snapshot_ids", () -> control.startCapture(ok.toBuilder().addSnapshotIds("s\0").build()));
    refused("latest_snapshots", () -> control.startCapture(ok.toBuilder().setLatestSnapshots(-1).build()));
    refused("policy.columns.first_n", () -> control.startCapture(ok.toBuilder().setPolicy(CapturePolicy.newBuilder()
        .setColumns(ColumnSelection.newBuilder().setFirstN(-1))).build()));
    refused("policy.columns.explicit.names", () -> control.startCapture(ok.toBuilder().setPolicy(CapturePolicy
        .newBuilder().setColumns(ColumnSelection.newBuilder().setExplicit(ColumnList.newBuilder()
            .addAllNames(Collections.nCopies(10_001, "c"))))).build()));
    refused("policy.columns.explicit.names", () -> control.startCapture(ok.toBuilder().setPolicy(CapturePolicy
        .newBuilder().setColumns(ColumnSelection.newBuilder().setExplicit(ColumnList.newBuilder()
            .addNames("c\u202E")))).build()));
    long jobs = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs"));
    assertThat(jobs).isZero();
  }

  @Test
  void jobCallsBoundTheirIdsAndListJobsItsLimitAndToken() {
    for (int i = 0; i < 3; i++) {
      ledger.jobs().enqueue(JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.PLAN_TABLE).build());
    }
    String huge = "j".repeat(3_000_000);
    refused("job_id", () -> control.getJob(GetJobRequest.newBuilder().setJobId(huge).build()));
    refused("job_id", () -> control.getJobTree(GetJobTreeRequest.newBuilder().setJobId("j\0").build()));
    refused("job_id", () -> control.cancelJob(CancelJobRequest.newBuilder().setJobId("j\u202E").build()));
    refused("reason", () -> control.cancelJob(CancelJobRequest.newBuilder().setJobId("j").setReason("r".repeat(5000))
        .build()));
    refused("limit", () -> control.listJobs(ListJobsRequest.newBuilder().setLimit(-1).build()));
    refused("limit", () -> control.listJobs(ListJobsRequest.newBuilder().setLimit(1001).build()));
    refused("page_token", () -> control.listJobs(ListJobsRequest.newBuilder().setPageToken("garbage").build()));
    refused("page_token", () -> control.listJobs(ListJobsRequest.newBuilder().setPageToken("%%%").build()));
    refused("page_token", () -> control.listJobs(ListJobsRequest.newBuilder().setPageToken("x".repeat(5000)).build()));

    var first = control.listJobs(ListJobsRequest.newBuilder().setLimit(2).build());
    assertThat(first.getJobsList()).hasSize(2);
    var rest = control.listJobs(ListJobsRequest.newBuilder().setLimit(2).setPageToken(first.getNextPageToken()).build());
    assertThat(rest.getJobsList()).hasSize(1);
    // a token continues only the listing (filters) it came from
    refused("page_token", () -> control.listJobs(ListJobsRequest.newBuilder().setLimit(2).setRootsOnly(true)
        .setPageToken(first.getNextPageToken()).build()));
    refused("page_token", () -> control.listJobs(ListJobsRequest.newBuilder().setLimit(2)
        .addStates(JobState.RJS_QUEUED).setPageToken(first.getNextPageToken()).build()));
  }

  @Test
  void theWorkerProtocolBoundsIdsListsAndResults() {
    LeaseReconcileJobRequest lease = LeaseReconcileJobRequest.newBuilder().setExecutorId("w")
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).build();
    refused("executor_id", () -> executor.leaseReconcileJob(lease.toBuilder().setExecutorId("w\0").build()));
    refused("executor_id", () -> executor.leaseReconcileJob(lease.toBuilder().setExecutorId("w".repeat(513)).build()));
    refused("lanes", () -> executor.leaseReconcileJob(lease.toBuilder().addAllLanes(Collections.nCopies(101, "*"))
        .build()));
    refused("executor_ids", () -> executor.leaseReconcileJob(lease.toBuilder().addExecutorIds("x\u202E").build()));
    refused("execution_classes", () -> executor.leaseReconcileJob(lease.toBuilder()
        .addAllExecutionClasses(Collections.nCopies(101, "c")).build()));
    refused("job_kinds", () -> executor.leaseReconcileJob(lease.toBuilder()
        .addAllJobKinds(Collections.nCopies(101, JobKind.RJK_EXEC_FILE_GROUP)).build()));
    refused("max_jobs", () -> executor.leaseReconcileJob(lease.toBuilder().setMaxJobs(101).build()));
    refused("wait_ms", () -> executor.leaseReconcileJob(lease.toBuilder().setWaitMs(-1).build()));
    refused("job_id", () -> executor.startLeasedReconcileJob(StartLeasedReconcileJobRequest.newBuilder()
        .setJobId("j".repeat(3_000_000)).setLeaseEpoch("e").build()));
    refused("lease_epoch", () -> executor.startLeasedReconcileJob(StartLeasedReconcileJobRequest.newBuilder()
        .setJobId("j").setLeaseEpoch("e\0").build()));
    refused("reason", () -> executor.releaseReconcileLease(ReleaseReconcileLeaseRequest.newBuilder().setJobId("j")
        .setLeaseEpoch("e").setReason("r\u202E").build()));

    ledger.jobs().enqueue(JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.EXEC_FILE_GROUP)
        .payload(LeasedFileGroupExecution.newBuilder().setTableId("t").setSnapshotId("s").setGroupId("g0")
            .addFilePaths("/d/a.parquet").build().toByteArray()).build());
    var job = executor.leaseReconcileJob(lease).getJobs(0);
    String id = job.getJobId();
    String epoch = job.getLeaseEpoch();
    refused("progress.message", () -> executor.reportReconcileProgress(ReportReconcileProgressRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(epoch).setProgress(Progress.newBuilder().setMessage("m".repeat(5000))).build()));
    refused("progress.files_total", () -> executor.reportReconcileProgress(ReportReconcileProgressRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(epoch).setProgress(Progress.newBuilder().setFilesTotal(-1)).build()));
    refused("message", () -> executor.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(epoch).setStatus(ReconcileCompletionStatus.RCS_FAILED)
        .setMessage("m\0").build()));
    var submit = SubmitLeasedFileGroupExecutionResultRequest.newBuilder().setJobId(id).setLeaseEpoch(epoch);
    refused("success.result_id", () -> executor.submitLeasedFileGroupExecutionResult(submit.clone()
        .setSuccess(FileGroupSuccess.newBuilder().setResultId("r".repeat(600) + ":success")).build()));
    refused("chunked_success.chunk_count", () -> executor.submitLeasedFileGroupExecutionResult(submit.clone()
        .setChunkedSuccess(ChunkedSuccess.newBuilder().setResultId(id + ":p:g0:success")
            .setChunkCount(Integer.MAX_VALUE).setSha256("0".repeat(64))).build()));
    refused("chunk_count", () -> executor.stageLeasedResultChunk(StageLeasedResultChunkRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(epoch).setResultId(id + ":p:g0:success").setIndex(0).setChunkCount(10_001)
        .build()));
    refused("index", () -> executor.stageLeasedResultChunk(StageLeasedResultChunkRequest.newBuilder()
        .setJobId(id).setLeaseEpoch(epoch).setResultId(id + ":p:g0:success").setIndex(-1).setChunkCount(2).build()));
    refused("file_results", () -> executor.submitLeasedFileGroupExecutionResult(submit.clone()
        .setSuccess(FileGroupSuccess.newBuilder().setResultId(id + ":p:g0:success").addAllFileResults(List.of(
            dev.conveyor.api.reconcile.FileResult.newBuilder().setPath("/d/a.parquet").setOk(true).build(),
            dev.conveyor.api.reconcile.FileResult.newBuilder().setPath("/d/a.parquet").setOk(true).build())))
        .build()));
    refused("file_results.cause", () -> executor.submitLeasedFileGroupExecutionResult(submit.clone()
        .setSuccess(FileGroupSuccess.newBuilder().setResultId(id + ":p:g0:success").addFileResults(
            dev.conveyor.api.reconcile.FileResult.newBuilder().setPath("/d/a.parquet").setOk(false))).build()));
  }
}
