package dev.conveyor.reconcile.executor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobResponse;
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
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.WorkerSessionAnswer;
import dev.conveyor.api.reconcile.WorkerSessionCall;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.client.WorkerSessionClient;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The WorkerSession RPC over a real gRPC server on loopback, against every ledger backend. */
public abstract class WorkerSessionContract extends LedgerTestBase {
  private Server server;
  private ManagedChannel channel;
  private WorkerSessionClient session;

  @BeforeEach
  void startServer() throws Exception {
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(new ReconcileExecutorService(ledger, 64)).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    session = new WorkerSessionClient(ReconcileExecutorControlGrpc.newStub(channel));
  }

  @AfterEach
  void stopServer() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }

  private String enqueueBuild() {
    return ledger.jobs().enqueue(JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.BUILD).build()).jobId();
  }

  private List<LeasedReconcileJob> lease(int max) {
    return session.lease(LeaseReconcileJobRequest.newBuilder().setExecutorId("w1").addJobKinds(JobKind.RJK_BUILD)
        .setMaxJobs(max).build()).join().getJobsList();
  }

  private static CompleteLeasedReconcileJobRequest succeeded(String jobId, String epoch) {
    return CompleteLeasedReconcileJobRequest.newBuilder().setJobId(jobId).setLeaseEpoch(epoch)
        .setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build();
  }

  /** The status a failed call's future carries. */
  private static StatusRuntimeException failureOf(CompletableFuture<?> call) {
    Throwable t = assertThatThrownBy(call::join).isInstanceOf(CompletionException.class).actual().getCause();
    assertThat(t).isInstanceOf(StatusRuntimeException.class);
    return (StatusRuntimeException) t;
  }

  @Test
  void callsSentWithoutWaitingAreEachAnsweredAndShareTransactions() {
    for (int i = 0; i < 60; i++) {
      enqueueBuild();
    }
    List<LeasedReconcileJob> leased = new ArrayList<>();
    for (List<LeasedReconcileJob> batch; !(batch = lease(25)).isEmpty(); ) {
      leased.addAll(batch);
    }
    assertThat(leased).hasSize(60).extracting(LeasedReconcileJob::getJobId).doesNotHaveDuplicates();
    long[] before = ledger.groupCommitCounts();
    List<CompletableFuture<CompleteLeasedReconcileJobResponse>> answers = new ArrayList<>();
    for (LeasedReconcileJob job : leased) { // all sent before any answer is read
      answers.add(session.complete(succeeded(job.getJobId(), job.getLeaseEpoch())));
    }
    for (CompletableFuture<CompleteLeasedReconcileJobResponse> a : answers) {
      assertThat(a.join().getState()).isEqualTo(JobState.RJS_SUCCEEDED);
      assertThat(a.join().getReplayed()).isFalse();
    }
    long[] after = ledger.groupCommitCounts();
    assertThat(after[1] - before[1]).isEqualTo(60); // every completion went through group commit
    assertThat(after[0] - before[0]).isLessThan(60); // and some shared a transaction
    assertThat(session.unanswered()).isZero();
    for (LeasedReconcileJob job : leased) {
      assertThat(ledger.jobs().get(job.getJobId()).state()).isEqualTo(dev.conveyor.ledger.jobs.JobState.SUCCEEDED);
    }
  }

  @Test
  void aStaleEpochFailsOnlyItsOwnCallAndTheSessionGoesOn() {
    enqueueBuild();
    enqueueBuild();
    List<LeasedReconcileJob> jobs = lease(2);
    assertThat(jobs).hasSize(2);
    CompletableFuture<CompleteLeasedReconcileJobResponse> stale =
        session.complete(succeeded(jobs.get(0).getJobId(), "not-the-epoch"));
    CompletableFuture<CompleteLeasedReconcileJobResponse> good =
        session.complete(succeeded(jobs.get(1).getJobId(), jobs.get(1).getLeaseEpoch()));
    StatusRuntimeException e = failureOf(stale);
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
    assertThat(ErrorStatus.reasonOf(e)).isEqualTo("LEASE_LOST");
    assertThat(good.join().getState()).isEqualTo(JobState.RJS_SUCCEEDED);
    // the session still works, and the holder with the right epoch can still complete
    assertThat(session.complete(succeeded(jobs.get(0).getJobId(), jobs.get(0).getLeaseEpoch())).join().getState())
        .isEqualTo(JobState.RJS_SUCCEEDED);
    // the same completion again is a replay, answered with the stored state
    CompleteLeasedReconcileJobResponse replay =
        session.complete(succeeded(jobs.get(0).getJobId(), jobs.get(0).getLeaseEpoch())).join();
    assertThat(replay.getReplayed()).isTrue();
    assertThat(replay.getState()).isEqualTo(JobState.RJS_SUCCEEDED);
  }

  @Test
  void badInputIsRefusedPerCallNamingTheField() {
    StatusRuntimeException noId = failureOf(session.complete(succeeded("", "e")));
    assertThat(noId.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(ErrorStatus.reasonOf(noId)).isEqualTo("INVALID_ARGUMENT");
    assertThat(noId.getStatus().getDescription()).contains("job_id");
    StatusRuntimeException tooMany = failureOf(session.lease(LeaseReconcileJobRequest.newBuilder()
        .setExecutorId("w1").setMaxJobs(WorkerCalls.MAX_JOBS_PER_LEASE + 1).build()));
    assertThat(tooMany.getStatus().getDescription()).contains("max_jobs");
    StatusRuntimeException noExecutor = failureOf(session.lease(LeaseReconcileJobRequest.newBuilder().build()));
    assertThat(noExecutor.getStatus().getDescription()).contains("executor_id");
    StatusRuntimeException unknown = failureOf(session.complete(succeeded("no-such-job", "e")));
    assertThat(ErrorStatus.reasonOf(unknown)).isEqualTo("NOT_FOUND");
    enqueueBuild();
    assertThat(lease(1)).hasSize(1); // the session survived every refusal
  }

  @Test
  void aCallWithNothingInItIsRefusedAndTheStreamGoesOn() throws Exception {
    List<WorkerSessionAnswer> answers = new CopyOnWriteArrayList<>();
    CountDownLatch ended = new CountDownLatch(1);
    StreamObserver<WorkerSessionCall> calls = ReconcileExecutorControlGrpc.newStub(channel).workerSession(
        new StreamObserver<>() {
          @Override
          public void onNext(WorkerSessionAnswer a) {
            answers.add(a);
          }

          @Override
          public void onError(Throwable t) {
            ended.countDown();
          }

          @Override
          public void onCompleted() {
            ended.countDown();
          }
        });
    calls.onNext(WorkerSessionCall.newBuilder().setCallId(7).build());
    calls.onNext(WorkerSessionCall.newBuilder().setCallId(8).setLease(LeaseReconcileJobRequest.newBuilder()
        .setExecutorId("w1").addJobKinds(JobKind.RJK_BUILD)).build());
    calls.onCompleted(); // half-closed: the server ends the stream once both are answered
    assertThat(ended.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(answers).extracting(WorkerSessionAnswer::getCallId).containsExactlyInAnyOrder(7L, 8L);
    WorkerSessionAnswer empty = answers.stream().filter(a -> a.getCallId() == 7).findFirst().orElseThrow();
    assertThat(empty.getError().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
    assertThat(empty.getError().getMessage()).contains("call must be one of");
    assertThat(answers.stream().filter(a -> a.getCallId() == 8).findFirst().orElseThrow().hasLease()).isTrue();
  }

  @Test
  void startRenewAndProgressMeanWhatTheirUnaryCallsMean() {
    String id = enqueueBuild();
    LeasedReconcileJob job = lease(1).get(0);
    assertThat(job.getJobId()).isEqualTo(id);
    var started = session.start(StartLeasedReconcileJobRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).build()).join();
    assertThat(started.getStartedAtMs()).isPositive();
    assertThat(started.getCancellationRequested()).isFalse();
    var renewed = session.renew(RenewReconcileLeaseRequest.newBuilder().setJobId(id).setLeaseEpoch(job.getLeaseEpoch())
        .setLeaseMs(120_000).build()).join();
    assertThat(renewed.getRenewed()).isTrue();
    assertThat(renewed.getLeaseExpiresAtMs()).isGreaterThan(job.getLeaseExpiresAtMs());
    var progressed = session.progress(ReportReconcileProgressRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).setProgress(Progress.newBuilder().setFilesDone(3).setFilesTotal(9)).build())
        .join();
    assertThat(progressed.getRenewed()).isTrue();
    assertThat(ledger.jobs().get(id).progress().done()).isEqualTo(3);
    var staleRenew = session.renew(RenewReconcileLeaseRequest.newBuilder().setJobId(id).setLeaseEpoch("stale").build())
        .join();
    assertThat(staleRenew.getRenewed()).isFalse();
    ledger.jobs().cancel(id, "operator");
    var afterCancel = session.renew(RenewReconcileLeaseRequest.newBuilder().setJobId(id)
        .setLeaseEpoch(job.getLeaseEpoch()).build()).join();
    assertThat(afterCancel.getCancellationRequested()).isTrue();
  }

  @Test
  void aFileGroupCannotSucceedWithoutItsResultHereEither() {
    String id = ledger.jobs().enqueue(JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.EXEC_FILE_GROUP)
        .payload(LeasedFileGroupExecution.newBuilder().setTableId("t1").setSnapshotId("s1").setPlanId("p1")
            .setGroupId("g1").addFilePaths("/a.parquet").build().toByteArray()).build()).jobId();
    LeasedReconcileJob job = session.lease(LeaseReconcileJobRequest.newBuilder().setExecutorId("w1")
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).build()).join().getJobs(0);
    StatusRuntimeException e = failureOf(session.complete(succeeded(id, job.getLeaseEpoch())));
    assertThat(ErrorStatus.reasonOf(e)).isEqualTo("INVALID_STATE");
    assertThat(e.getStatus().getDescription()).contains("no accepted success result");
    assertThat(ledger.jobs().get(id).state()).isEqualTo(dev.conveyor.ledger.jobs.JobState.RUNNING);
  }

  @Test
  void closingWaitsForEveryAnswerAndLaterCallsFailFast() {
    enqueueBuild();
    LeasedReconcileJob job = lease(1).get(0);
    CompletableFuture<CompleteLeasedReconcileJobResponse> last =
        session.complete(succeeded(job.getJobId(), job.getLeaseEpoch()));
    session.close();
    assertThat(last).isCompleted();
    assertThat(last.join().getState()).isEqualTo(JobState.RJS_SUCCEEDED);
    StatusRuntimeException e = failureOf(session.lease(LeaseReconcileJobRequest.newBuilder().setExecutorId("w1").build()));
    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
  }
}
