package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.schedule.CaptureSchedules;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scheduled capture with two nodes on one ledger: each run is started by one node, new snapshots are
 * captured as they appear, and a node that dies after taking a run, or while planning it, loses nothing.
 */
public abstract class ScheduledCaptureContract extends CaptureServerBase {
  private static final CapturePolicy POLICY = CapturePolicy.newBuilder().setFileStats(true).setColumnStats(true)
      .setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build();
  @TempDir Path warehouse;

  @Override
  protected int filesPerGroup() {
    return 2;
  }

  private DataFile dataFile(String name, int rows, long seed) throws Exception {
    Path file = warehouse.resolve("data").resolve(name);
    Files.createDirectories(file.getParent());
    ParquetFileStatsTest.write(file, rows, seed);
    return DataFiles.builder(PartitionSpec.unpartitioned()).withPath(file.toString())
        .withFileSizeInBytes(Files.size(file)).withRecordCount(rows).withFormat(FileFormat.PARQUET).build();
  }

  /** Runs {@code node}'s planner and a worker until the schedule's newest capture has ended. */
  private void finish(CapturePlanner node, CaptureSchedules schedules) {
    String job = schedules.find("orders").orElseThrow().getLastJobId();
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("w").withIdlePoll(Duration.ofMillis(20))).start()) {
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50)).until(() -> {
        node.runOnce("node-b", 10);
        return ledger.jobs().get(job).state().isTerminal() && ledger.jobs().children(job).stream()
            .allMatch(c -> c.state().isTerminal() && ledger.jobs().children(c.id()).stream()
                .allMatch(g -> g.state().isTerminal()));
      });
    }
  }

  private List<String> finalized() {
    return ledger.transact(tx -> tx.query("SELECT snapshot_id FROM capture_snapshots WHERE table_id = 'orders'"
        + " AND files_unreadable = 0 ORDER BY snapshot_id", rs -> rs.getString(1)));
  }

  private long planned(JobKind kind) {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = ?", kind.name()));
  }

  @Test
  void aScheduleCapturesNewSnapshotsAsTheyAppearAndADeadNodeLosesNothing() throws Exception {
    Schema schema = new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));
    Table table = new HadoopTables(new Configuration()).create(schema, PartitionSpec.unpartitioned(),
        warehouse.resolve("orders").toString());
    List<String> snapshots = new ArrayList<>();
    table.newAppend().appendFile(dataFile("a.parquet", 100, 1)).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    tables.register("orders", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG)
        .setLocation(warehouse.resolve("orders").toString()).build());
    CaptureSchedules nodeA = new CaptureSchedules(ledger, tables, planner);
    CapturePlanner plannerB = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(2, 1L << 30));
    CaptureSchedules nodeB = new CaptureSchedules(ledger, tables, plannerB);
    nodeA.set("orders", Duration.ofMinutes(1), POLICY);

    // both nodes find the first run due; one starts it
    assertThat(nodeA.runDue(10) + nodeB.runDue(10)).isEqualTo(1);
    assertThat(nodeB.runDue(10)).as("not due again before its time").isZero();
    finish(plannerB, nodeB);
    assertThat(finalized()).containsExactlyInAnyOrderElementsOf(snapshots);

    // two snapshots appear between runs; node A takes the next run and dies before planning it
    table.newAppend().appendFile(dataFile("b.parquet", 50, 2)).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    table.newAppend().appendFile(dataFile("c.parquet", 60, 3)).appendFile(dataFile("d.parquet", 70, 4)).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    clock.advance(Duration.ofMinutes(1));
    assertThat(nodeA.runDue(10)).isEqualTo(1);
    assertThat(nodeB.runDue(10)).isZero();
    finish(plannerB, nodeB); // node B's planner runs what node A queued
    assertThat(finalized()).containsExactlyInAnyOrderElementsOf(snapshots);

    // a node dies holding the planning lease of a run: it is reclaimed and no second run is started
    table.newAppend().appendFile(dataFile("e.parquet", 80, 5)).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    clock.advance(Duration.ofMinutes(1));
    assertThat(nodeB.runDue(10)).isEqualTo(1);
    assertThat(ledger.jobs().leaseOne(LeaseRequest.of("node-a", Set.of(JobKind.PLAN_TABLE), Duration.ofSeconds(30))))
        .isPresent();
    clock.advance(Duration.ofMinutes(1));
    assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
    clock.advance(Duration.ofMinutes(10)); // past the retry backoff; the schedule is due again meanwhile
    assertThat(nodeB.runDue(10)).as("the previous run is still going: no second one").isZero();
    finish(plannerB, nodeB);
    assertThat(finalized()).containsExactlyInAnyOrderElementsOf(snapshots);
    assertThat(planned(JobKind.PLAN_SNAPSHOT)).as("each snapshot planned once").isEqualTo(4);

    // the schedule is in the ledger: a restarted node sees it
    assertThat(new CaptureSchedules(ledger, tables, planner).list()).hasSize(1)
        .allMatch(s -> s.getEveryMs() == 60_000 && !s.getLastJobId().isEmpty());
  }

  @Test
  void anUnchangedDirectoryIsNotCapturedAgainAndBadSchedulesAreRefused() throws Exception {
    Path dir = Files.createDirectories(warehouse.resolve("events"));
    ParquetFileStatsTest.write(dir.resolve("a.parquet"), 100, 1);
    tables.register("orders", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(dir.toString()).build());
    CaptureSchedules schedules = new CaptureSchedules(ledger, tables, planner);
    assertThatThrownBy(() -> schedules.set("orders", Duration.ofSeconds(1), POLICY))
        .hasMessageContaining("every_ms must be between 10000");
    assertThatThrownBy(() -> schedules.set("nope", Duration.ofMinutes(1), POLICY))
        .hasMessageContaining("table_id 'nope' is not registered");
    schedules.set("orders", Duration.ofMinutes(1), POLICY);
    assertThat(schedules.runDue(10)).isEqualTo(1);
    finish(planner, schedules);
    assertThat(planned(JobKind.PLAN_SNAPSHOT)).isEqualTo(1);
    clock.advance(Duration.ofMinutes(1));
    assertThat(schedules.runDue(10)).isEqualTo(1);
    finish(planner, schedules);
    assertThat(planned(JobKind.PLAN_SNAPSHOT)).as("the listing did not change").isEqualTo(1);
    ParquetFileStatsTest.write(dir.resolve("b.parquet"), 100, 2);
    clock.advance(Duration.ofMinutes(1));
    assertThat(schedules.runDue(10)).isEqualTo(1);
    finish(planner, schedules);
    assertThat(planned(JobKind.PLAN_SNAPSHOT)).as("a new file is a new snapshot").isEqualTo(2);
    assertThat(schedules.remove("orders")).isTrue();
    assertThat(schedules.list()).isEmpty();
  }
}
