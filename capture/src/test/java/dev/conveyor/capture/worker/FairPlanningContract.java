package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CapturePlanner.PlannerClass;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fair capacity: with the planner's classes on their own loops, as {@code serve} runs them, a 200-group
 * capture whose finalizing is held in flight does not delay another table's planning. A planner that ran
 * every class on one loop would not plan the second table until the first one's finalizing ended.
 */
public abstract class FairPlanningContract extends CaptureServerBase {
  private static final CapturePolicy POLICY = CapturePolicy.newBuilder().setFileStats(true).setColumnStats(true)
      .setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build();
  @TempDir Path dir;

  @Override
  protected int filesPerGroup() {
    return 1;
  }

  private void table(String id, int files) throws Exception {
    Path d = Files.createDirectories(dir.resolve(id));
    for (int i = 0; i < files; i++) {
      ParquetFileStatsTest.write(d.resolve("f" + i + ".parquet"), 20, i + 1);
    }
    tables.register(id, ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(d.toString()).build());
  }

  /** The table's snapshot is planned: its file groups exist (its planning job waits on them). */
  private boolean snapshotPlanned(String root) {
    return ledger.jobs().children(root).stream().filter(c -> c.kind() == JobKind.PLAN_SNAPSHOT)
        .anyMatch(c -> ledger.jobs().children(c.id()).stream().filter(g -> g.kind() == JobKind.EXEC_FILE_GROUP)
            .count() == 2);
  }

  @Test
  void a200GroupCaptureInFlightDoesNotDelayAnotherTablesPlanning() throws Exception {
    table("big", 200);
    table("small", 2);
    CountDownLatch bigFinalizing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CapturePlanner fair = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(1, 1L << 30),
        CapturePlanner.Paging.DEFAULT, new CapturePlanner.PageListener() {
          @Override
          public void stored(LeaseGrant grant, int pageIndex) {
          }

          @Override
          public void leased(LeaseGrant g) {
            try {
              if (g.job().kind() == JobKind.FINALIZE_SNAPSHOT
                  && LeasedPlanInput.parseFrom(g.job().payload()).getTableId().equals("big")) {
                bigFinalizing.countDown();
                release.await(60, TimeUnit.SECONDS); // a long roll-up, a slow object store
              }
            } catch (Exception e) {
              throw new IllegalStateException(e);
            }
          }
        });
    AtomicBoolean running = new AtomicBoolean(true);
    ExecutorService loops = Executors.newFixedThreadPool(PlannerClass.values().length);
    for (PlannerClass c : PlannerClass.values()) {
      loops.submit(() -> {
        while (running.get()) {
          if (fair.runOnce("node", 16, c) == 0) {
            Thread.sleep(10);
          }
        }
        return null;
      });
    }
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("w").withParallelism(2).withIdlePoll(Duration.ofMillis(10))).start()) {
      String big = planner.startCapture("big", "", POLICY);
      await().atMost(Duration.ofMinutes(2)).until(() -> bigFinalizing.getCount() == 0);
      assertThat(ledger.jobs().children(ledger.jobs().children(big).get(0).id()).stream()
          .filter(j -> j.kind() == JobKind.EXEC_FILE_GROUP).count()).as("the big capture's groups").isEqualTo(200);

      long started = System.nanoTime();
      String small = planner.startCapture("small", "", POLICY);
      await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(5)).until(() -> snapshotPlanned(small));
      long plannedMs = (System.nanoTime() - started) / 1_000_000;
      System.out.println("fair planning: the second table was planned in " + plannedMs + " ms while a 200-group"
          + " capture's finalizing was held in flight");
      assertThat(release.getCount()).as("the big capture's finalizing is still in flight").isEqualTo(1);
      release.countDown();
      await().atMost(Duration.ofMinutes(1)).until(() -> ledger.jobs().get(big).state().isTerminal()
          && ledger.jobs().get(small).state().isTerminal());
      assertThat(ledger.jobs().get(big).state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(ledger.jobs().get(small).state()).isEqualTo(JobState.SUCCEEDED);
    } finally {
      release.countDown();
      running.set(false);
      loops.shutdown();
      assertThat(loops.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    }
  }
}
