package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Workers that die or are told to stop. A named pipe stands in for a Parquet file: opening it
 * blocks until a writer appears, which holds a worker mid-group for as long as the test needs.
 */
public abstract class WorkerFailureContract extends CaptureServerBase {
  @TempDir Path tableDir;
  @Override
  protected int filesPerGroup() {
    return 2;
  }

  private Path fifo(String name) throws Exception {
    Path p = tableDir.resolve(name);
    Process mk = new ProcessBuilder("mkfifo", p.toString()).inheritIO().start();
    assertThat(mk.waitFor()).isZero();
    return p;
  }

  private List<Job> groups(String root) {
    Job snapshot = ledger.jobs().children(root).get(0);
    return ledger.jobs().children(snapshot.id()).stream().filter(j -> j.kind() == JobKind.EXEC_FILE_GROUP).toList();
  }

  @Test
  void aKilledWorkersGroupIsReleasedAndFinishedByAnotherWithoutWritingAStatisticTwice() throws Exception {
    Path blocked = fifo("a-blocked.parquet");
    ParquetFileStatsTest.write(tableDir.resolve("b-good.parquet"), 30, 1);
    String root = planCapture(tableDir);
    Job group;
    try (ChildJvm doomed = ChildJvm.start(WorkerMain.class, Integer.toString(server.getPort()), "doomed", "10")) {
      doomed.readUntil("STARTED");
      await().atMost(Duration.ofSeconds(30)).until(() -> groups(root).get(0).startedAt() != null);
      group = groups(root).get(0);
      assertThat(group.leaseOwner()).isEqualTo("doomed");
      doomed.kill();
    }
    String deadEpoch = group.leaseEpoch();
    Files.delete(blocked);
    ParquetFileStatsTest.write(blocked, 20, 2); // the file is readable now
    clock.advance(Duration.ofSeconds(11));
    assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(5)); // past the retry backoff

    try (CaptureWorker survivor = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("survivor").withIdlePoll(Duration.ofMillis(20))).start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
    }
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
    Job finished = ledger.jobs().get(group.id());
    assertThat(finished.attempts()).isEqualTo(2);
    assertThatThrownBy(() -> ledger.jobs().complete(group.id(), deadEpoch, new Completion.Succeeded(null)))
        .isInstanceOf(LeaseLostException.class);
    long fileStats = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE target_key LIKE 'file:%'"));
    assertThat(fileStats).isEqualTo(2);
  }

  @Test
  void cancellingARunningCaptureStopsRunningGroupsAndQueuedOnesNeverStart() throws Exception {
    Path blocked = fifo("a-blocked.parquet");
    ParquetFileStatsTest.write(tableDir.resolve("a-good.parquet"), 30, 1);
    for (int i = 0; i < 4; i++) {
      ParquetFileStatsTest.write(tableDir.resolve("z-" + i + ".parquet"), 30, i + 2);
    }
    String root = planCapture(tableDir); // 3 groups of 2 files; the first holds the pipe
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("w").withParallelism(1).withIdlePoll(Duration.ofMillis(20))
            .withLease(Duration.ofMillis(900))).start()) {
      await().atMost(Duration.ofSeconds(30)).until(() -> groups(root).get(0).startedAt() != null);
      assertThat(ledger.jobs().cancel(root, "stop")).isEqualTo(JobState.CANCELLED);
      assertThat(groups(root).get(0).state()).isEqualTo(JobState.CANCELLING);
      String running = groups(root).get(0).id();
      // the heartbeat tells the worker about the cancel; writing into the pipe releases its blocked read
      // (the reader opens the pipe more than once, so keep opening it for writing until the group ends)
      Thread writer = new Thread(() -> {
        while (!ledger.jobs().get(running).state().isTerminal()) {
          try (var out = new java.io.FileOutputStream(blocked.toFile())) {
            out.write("not parquet".getBytes(java.nio.charset.StandardCharsets.UTF_8));
          } catch (java.io.IOException e) {
            return;
          }
        }
      });
      writer.setDaemon(true);
      await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM jobs WHERE id = ? AND state = 'CANCELLING'", running)) == 1);
      writer.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> ledger.jobs().get(running).state().isTerminal());
    }
    List<Job> groups = groups(root);
    assertThat(groups.get(0).state()).isEqualTo(JobState.CANCELLED);
    assertThat(groups.subList(1, groups.size())).allSatisfy(g -> {
      assertThat(g.state()).isEqualTo(JobState.CANCELLED);
      assertThat(g.startedAt()).isNull();
      assertThat(g.attempts()).isZero();
    });
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void anErrorInTheLeaseLoopIsLoggedAndTheLoopCapturesAfterIt() throws Exception {
    ParquetFileStatsTest.write(tableDir.resolve("a.parquet"), 30, 1);
    ParquetFileStatsTest.write(tableDir.resolve("b.parquet"), 40, 2);
    String root = planCapture(tableDir);
    java.util.concurrent.atomic.AtomicBoolean thrown = new java.util.concurrent.atomic.AtomicBoolean();
    // the worker's own gRPC stack throws an Error on its first lease call
    io.grpc.ClientInterceptor once = new io.grpc.ClientInterceptor() {
      @Override
      public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
          io.grpc.CallOptions options, io.grpc.Channel next) {
        if (method.getBareMethodName().equals("LeaseReconcileJob") && thrown.compareAndSet(false, true)) {
          throw new NoClassDefFoundError("injected into the lease loop");
        }
        return next.newCall(method, options);
      }
    };
    dev.conveyor.supervise.Supervisor supervisor = dev.conveyor.supervise.Supervisor.create();
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel).withInterceptors(once),
        CaptureWorker.Options.defaults("w").withParallelism(1).withIdlePoll(Duration.ofMillis(20)), supervisor)
        .start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
      assertThat(w.groupsDone()).isEqualTo(1);
    }
    assertThat(thrown).isTrue();
    assertThat(supervisor.failures("capture-worker")).isEqualTo(1);
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void anErrorInTheHeartbeatIsLoggedAndTheHeartbeatGoesOn() throws Exception {
    ParquetFileStatsTest.write(tableDir.resolve("a.parquet"), 30, 1);
    String root = planCapture(tableDir);
    java.util.concurrent.atomic.AtomicBoolean thrown = new java.util.concurrent.atomic.AtomicBoolean();
    java.util.concurrent.atomic.AtomicInteger beatsAfter = new java.util.concurrent.atomic.AtomicInteger();
    // The first heartbeat meets an Error; fetching the group's execution waits until two more heartbeats
    // went out, which only happens if the heartbeat survived it (a plain scheduled task would have died).
    io.grpc.ClientInterceptor faults = new io.grpc.ClientInterceptor() {
      @Override
      public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
          io.grpc.CallOptions options, io.grpc.Channel next) {
        String name = method.getBareMethodName();
        if (name.equals("ReportReconcileProgress")) {
          if (thrown.compareAndSet(false, true)) {
            throw new NoClassDefFoundError("injected into the heartbeat");
          }
          beatsAfter.incrementAndGet();
        }
        if (name.equals("GetLeasedFileGroupExecution")) {
          await().atMost(Duration.ofSeconds(30)).until(() -> beatsAfter.get() >= 2);
        }
        return next.newCall(method, options);
      }
    };
    dev.conveyor.supervise.Supervisor supervisor = dev.conveyor.supervise.Supervisor.create();
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel)
        .withInterceptors(faults), CaptureWorker.Options.defaults("w").withParallelism(1)
        .withLease(Duration.ofMillis(900)).withIdlePoll(Duration.ofMillis(20)), supervisor).start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
    }
    assertThat(thrown).isTrue();
    assertThat(beatsAfter.get()).isGreaterThanOrEqualTo(2);
    assertThat(supervisor.failures("capture-heartbeat")).isEqualTo(1);
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }
}
