package dev.conveyor.reconcile.planning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.FileTarget;
import dev.conveyor.api.catalog.StatValue;
import dev.conveyor.api.catalog.StatsTarget;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.FileResult;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.GetLeasedFileGroupExecutionRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.JobTreeNode;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.control.ReconcileControlService;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture planning end to end over real gRPC: register, start, plan, file groups, finalize. */
public abstract class PlanningContract extends LedgerTestBase {
  @TempDir Path tableDir;
  private Server server;
  private ManagedChannel channel;
  private CapturePlanner planner;
  private ReconcileControlGrpc.ReconcileControlBlockingStub control;
  private ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub executor;

  @BeforeEach
  void start() throws Exception {
    CaptureTables tables = new CaptureTables(ledger);
    planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(2, 1L << 30));
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(new ReconcileControlService(ledger, tables, planner))
        .addService(new ReconcileExecutorService(ledger, 16)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    control = ReconcileControlGrpc.newBlockingStub(channel);
    executor = ReconcileExecutorControlGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private void register() throws Exception {
    for (int i = 0; i < 5; i++) {
      Files.write(tableDir.resolve("part-" + i + ".parquet"), new byte[100 + i]);
    }
    Files.writeString(tableDir.resolve("_SUCCESS"), "");
    control.registerTable(RegisterTableRequest.newBuilder().setTableId("sales").setConnector(ConnectorSpec.newBuilder()
        .setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(tableDir.toString())).build());
  }

  private static StatValue intValue(long v) {
    return StatValue.newBuilder().setIntValue(v).setLogicalType("INT64").setRendered(Long.toString(v)).build();
  }

  /** Plays a capture worker over the executor protocol: each file has (index+1)*10 rows, id in [index, index*100]. */
  private int workAllGroups() {
    var leased = executor.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId("worker")
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).setMaxJobs(10).build());
    for (var job : leased.getJobsList()) {
      var exec = executor.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
          .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch()).build());
      FileGroupSuccess.Builder success = FileGroupSuccess.newBuilder()
          .setResultId(job.getJobId() + ":" + exec.getPlanId() + ":" + exec.getGroupId() + ":success");
      for (String path : exec.getFilePathsList()) {
        int index = Integer.parseInt(path.replaceAll(".*part-(\\d+)\\.parquet", "$1"));
        success.addFileResults(FileResult.newBuilder().setPath(path).setOk(true).setRowCount((index + 1) * 10L));
        success.addStatsRecords(TargetStatsRecord.newBuilder().setTableId(exec.getTableId())
            .setSnapshotId(exec.getSnapshotId()).setRowCount((index + 1) * 10L).setSizeBytes(100 + index)
            .setTarget(StatsTarget.newBuilder().setFile(FileTarget.newBuilder().setPath(path)))
            .addColumns(ColumnStats.newBuilder().setColumn("id").setValueCount((index + 1) * 10L).setNullCount(index)
                .setMin(intValue(index)).setMax(intValue(index * 100L))));
      }
      executor.submitLeasedFileGroupExecutionResult(SubmitLeasedFileGroupExecutionResultRequest.newBuilder()
          .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch()).setSuccess(success).build());
      executor.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(job.getJobId())
          .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build());
    }
    return leased.getJobsCount();
  }

  @Test
  void aCaptureIsPlannedIntoGroupsAndFinalizedAfterTheLastOne() throws Exception {
    register();
    String root = control.startCapture(StartCaptureRequest.newBuilder().setTableId("sales").build()).getJobId();
    assertThat(planner.runOnce("planner", 1)).isEqualTo(1); // PLAN_TABLE
    assertThat(planner.runOnce("planner", 1)).isEqualTo(1); // PLAN_SNAPSHOT
    assertThat(planner.runOnce("planner", 10)).isZero(); // the finalizer waits for the groups
    assertThat(workAllGroups()).isEqualTo(3); // 5 files, at most 2 per group
    assertThat(planner.runOnce("planner", 10)).isEqualTo(1); // FINALIZE_SNAPSHOT

    JobTreeNode tree = control.getJobTree(GetJobTreeRequest.newBuilder().setJobId(root).build()).getRoot();
    assertThat(tree.getJob().getState()).isEqualTo(JobState.RJS_SUCCEEDED);
    JobTreeNode snapshot = tree.getChildren(0);
    assertThat(snapshot.getJob().getKind()).isEqualTo(JobKind.RJK_PLAN_SNAPSHOT);
    assertThat(snapshot.getChildrenList()).extracting(c -> c.getJob().getKind()).containsExactly(
        JobKind.RJK_EXEC_FILE_GROUP, JobKind.RJK_EXEC_FILE_GROUP, JobKind.RJK_EXEC_FILE_GROUP,
        JobKind.RJK_FINALIZE_SNAPSHOT);
    long lastGroupFinished = snapshot.getChildrenList().stream().limit(3)
        .mapToLong(c -> c.getJob().getFinishedAtMs()).max().orElseThrow();
    assertThat(snapshot.getChildren(3).getJob().getStartedAtMs()).isGreaterThanOrEqualTo(lastGroupFinished);

    String snapshotId = ledger.transact(tx -> tx.queryOne("SELECT snapshot_id FROM capture_snapshots WHERE"
        + " table_id = 'sales'", rs -> rs.getString(1)).orElseThrow());
    byte[] tableBytes = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 'sales'"
        + " AND snapshot_id = ? AND target_key = 'table'", rs -> rs.getBytes(1), snapshotId).orElseThrow());
    TargetStatsRecord table = TargetStatsRecord.parseFrom(tableBytes);
    assertThat(table.getFileCount()).isEqualTo(5);
    assertThat(table.getRowCount()).isEqualTo(10 + 20 + 30 + 40 + 50);
    assertThat(table.getSizeBytes()).isEqualTo(100 + 101 + 102 + 103 + 104);
    ColumnStats id = table.getColumns(0);
    assertThat(id.getNullCount()).isEqualTo(0 + 1 + 2 + 3 + 4);
    assertThat(id.getMin().getRendered()).isEqualTo("0");
    assertThat(id.getMax().getRendered()).isEqualTo("400");
  }

  @Test
  void theSameFilesAreTheSameSnapshotAndAStaleSnapshotIdFailsThePlan() throws Exception {
    register();
    List<PlannedFile> listed = new ArrayList<>();
    var first = DirectorySnapshot.scan(tableDir, listed::add);
    assertThat(DirectorySnapshot.scan(tableDir, f -> { }).snapshotId()).isEqualTo(first.snapshotId());
    assertThat(first.files()).isEqualTo(5); // _SUCCESS is not a data file
    assertThat(listed).extracting(PlannedFile::getSizeBytes).containsExactlyInAnyOrder(100L, 101L, 102L, 103L, 104L);
    Files.write(tableDir.resolve("part-4.parquet"), new byte[104]); // same size, new modification time
    Files.setLastModifiedTime(tableDir.resolve("part-4.parquet"), java.nio.file.attribute.FileTime.fromMillis(1));
    assertThat(DirectorySnapshot.scan(tableDir, f -> { }).snapshotId()).isNotEqualTo(first.snapshotId());
    first = DirectorySnapshot.scan(tableDir, f -> { });
    String root = control.startCapture(StartCaptureRequest.newBuilder().setTableId("sales")
        .setSnapshotId("dir-0000000000000000").build()).getJobId();
    planner.runOnce("planner", 10);
    var job = ledger.jobs().get(root);
    assertThat(job.state()).isEqualTo(dev.conveyor.ledger.jobs.JobState.FAILED);
    assertThat(job.lastError()).contains("is not its current snapshot").contains(first.snapshotId());
    assertThat(pageCount()).isZero(); // a plan that failed for good leaves no file list behind
  }

  private long pageCount() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_plan_pages"));
  }

  @Test
  void unknownTablesUnsupportedConnectorsAndSnapshotChoicesAreInvalidArguments() {
    assertThatThrownBy(() -> control.startCapture(StartCaptureRequest.newBuilder().setTableId("nope").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("table_id 'nope' is not registered");
        });
    assertThatThrownBy(() -> control.registerTable(RegisterTableRequest.newBuilder().setTableId("x")
        .setConnector(ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.KIND_UNSPECIFIED).setLocation("/w"))
        .build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
            .contains("connector.kind must be PARQUET_DIRECTORY or ICEBERG, got KIND_UNSPECIFIED"));
    control.registerTable(RegisterTableRequest.newBuilder().setTableId("dir").setConnector(ConnectorSpec.newBuilder()
        .setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation("/w")).build());
    assertThatThrownBy(() -> control.startCapture(StartCaptureRequest.newBuilder().setTableId("dir")
        .setLatestSnapshots(3).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getDescription())
            .contains("latest_snapshots and snapshot_ids need an Iceberg table"));
  }
}
