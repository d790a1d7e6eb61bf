package dev.conveyor.reconcile.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.reconcile.CancelJobRequest;
import dev.conveyor.api.reconcile.GetJobRequest;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.ListJobsRequest;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.executor.GrpcErrors;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ControlServiceTest extends LedgerTestBase {
  @TempDir static Path dir;
  private Server server;
  private ManagedChannel channel;
  private ReconcileControlGrpc.ReconcileControlBlockingStub rpc;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @BeforeEach
  void start() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(new ReconcileControlService(ledger)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    rpc = ReconcileControlGrpc.newBlockingStub(channel);
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private String plannedSnapshot(int groups) {
    String root = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    var planner = ledger.jobs().leaseOne(LeaseRequest.of("p", Set.of(JobKind.PLAN_SNAPSHOT), Duration.ofSeconds(30)))
        .orElseThrow();
    List<JobSpec> children = new ArrayList<>();
    for (int i = 0; i < groups; i++) {
      children.add(JobSpec.builder(JobKind.EXEC_FILE_GROUP).payload(LeasedFileGroupExecution.newBuilder()
          .setTableId("t1").setSnapshotId("s1").setGroupId("g" + i).build().toByteArray()).build());
    }
    ledger.jobs().fanOut(root, planner.epoch(), children);
    return root;
  }

  @Test
  void jobTreeListAndCancel() {
    String root = plannedSnapshot(3);
    var tree = rpc.getJobTree(GetJobTreeRequest.newBuilder().setJobId(root).build()).getRoot();
    assertThat(tree.getJob().getState()).isEqualTo(JobState.RJS_WAITING);
    assertThat(tree.getChildrenList()).hasSize(3).allSatisfy(c -> {
      assertThat(c.getJob().getTableId()).isEqualTo("t1");
      assertThat(c.getJob().getParentJobId()).isEqualTo(root);
    });

    var roots = rpc.listJobs(ListJobsRequest.newBuilder().setRootsOnly(true).build());
    assertThat(roots.getJobsList()).extracting(j -> j.getJobId()).containsExactly(root);
    var page1 = rpc.listJobs(ListJobsRequest.newBuilder().setLimit(2).build());
    assertThat(page1.getJobsCount()).isEqualTo(2);
    var page2 = rpc.listJobs(ListJobsRequest.newBuilder().setLimit(2).setPageToken(page1.getNextPageToken()).build());
    assertThat(page2.getJobsCount()).isEqualTo(2);
    assertThat(page2.getNextPageToken()).isEmpty();
    assertThat(rpc.listJobs(ListJobsRequest.newBuilder().addStates(JobState.RJS_QUEUED).build()).getJobsCount())
        .isEqualTo(3);

    var cancelled = rpc.cancelJob(CancelJobRequest.newBuilder().setJobId(root).setReason("not needed").build());
    assertThat(cancelled.getJob().getState()).isEqualTo(JobState.RJS_CANCELLED);
    assertThat(rpc.getJob(GetJobRequest.newBuilder().setJobId(tree.getChildren(0).getJob().getJobId()).build())
        .getJob().getState()).isEqualTo(JobState.RJS_CANCELLED);
  }

  @Test
  void unknownJobsAndBadFiltersAreClearErrors() {
    assertThatThrownBy(() -> rpc.getJob(GetJobRequest.newBuilder().setJobId("nope").build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND);
          assertThat(GrpcErrors.reasonOf(e)).isEqualTo("NOT_FOUND");
        });
    assertThatThrownBy(() -> rpc.getJob(GetJobRequest.newBuilder().build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e ->
            assertThat(e.getStatus().getDescription()).contains("job_id' must not be empty"));
    assertThatThrownBy(() -> rpc.listJobs(ListJobsRequest.newBuilder().addStates(JobState.RJS_UNSPECIFIED).build()))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
          assertThat(e.getStatus().getDescription()).contains("states");
        });
  }
}
