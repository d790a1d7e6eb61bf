package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.capture.stats.ParquetFileStatsTest.Expected;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
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

/** An Iceberg table with appends and a delete, captured snapshot by snapshot, then incrementally. */
public abstract class IcebergCaptureContract extends CaptureServerBase {
  @TempDir Path warehouse;

  @Override
  protected int filesPerGroup() {
    return 2;
  }

  private DataFile dataFile(String name, int rows, long seed, Map<String, Expected> expected) throws Exception {
    Path file = warehouse.resolve("data").resolve(name);
    Files.createDirectories(file.getParent());
    expected.put(file.toString(), ParquetFileStatsTest.write(file, rows, seed));
    return DataFiles.builder(PartitionSpec.unpartitioned()).withPath(file.toString())
        .withFileSizeInBytes(Files.size(file)).withRecordCount(rows).withFormat(FileFormat.PARQUET).build();
  }

  private void captureAndWait(int latest) {
    String root = planner.startCapture("orders", "", List.of(), latest, CapturePolicy.newBuilder().setFileStats(true)
        .setColumnStats(true).setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build());
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("w").withIdlePoll(Duration.ofMillis(20))).start()) {
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
    }
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }

  private TargetStatsRecord tableStats(String snapshot) throws Exception {
    byte[] b = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 'orders'"
        + " AND snapshot_id = ? AND target_key = 'table'", rs -> rs.getBytes(1), snapshot).orElseThrow());
    return TargetStatsRecord.parseFrom(b);
  }

  private long planned(JobKind kind) {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = ?", kind.name()));
  }

  @Test
  void eachSnapshotIsCapturedAsItsVisibleRowsAndFinalizedSnapshotsAreSkipped() throws Exception {
    Schema schema = new Schema(Types.NestedField.required(1, "id", Types.LongType.get()));
    Table table = new HadoopTables(new Configuration()).create(schema, PartitionSpec.unpartitioned(),
        warehouse.resolve("orders").toString());
    Map<String, Expected> expected = new TreeMap<>();
    DataFile a = dataFile("a.parquet", 300, 1, expected);
    DataFile b = dataFile("b.parquet", 200, 2, expected);
    DataFile c = dataFile("c.parquet", 100, 3, expected);
    List<String> snapshots = new ArrayList<>();
    table.newAppend().appendFile(a).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    table.newAppend().appendFile(b).appendFile(c).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    table.newDelete().deleteFile(a.location()).commit();
    snapshots.add(String.valueOf(table.currentSnapshot().snapshotId()));
    tables.register("orders", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG)
        .setLocation(warehouse.resolve("orders").toString()).build());

    captureAndWait(3);

    Map<String, List<String>> visible = Map.of(snapshots.get(0), List.of("a"), snapshots.get(1),
        List.of("a", "b", "c"), snapshots.get(2), List.of("b", "c"));
    for (String snapshot : snapshots) {
      TargetStatsRecord t = tableStats(snapshot);
      List<Expected> files = visible.get(snapshot).stream()
          .map(n -> expected.get(warehouse.resolve("data").resolve(n + ".parquet").toString())).toList();
      assertThat(t.getFileCount()).as(snapshot).isEqualTo(files.size());
      assertThat(t.getRowCount()).as(snapshot).isEqualTo(files.stream().mapToLong(e -> e.rows).sum());
      long minId = files.stream().mapToLong(e -> Long.parseLong(e.minMax.get("id")[0])).min().orElseThrow();
      byte[] col = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 'orders'"
          + " AND snapshot_id = ? AND target_key = 'column:id'", rs -> rs.getBytes(1), snapshot).orElseThrow());
      assertThat(TargetStatsRecord.parseFrom(col).getColumn().getMin().getRendered()).isEqualTo(Long.toString(minId));
    }
    assertThat(planned(JobKind.PLAN_SNAPSHOT)).isEqualTo(3);

    DataFile d = dataFile("d.parquet", 50, 4, expected);
    table.newAppend().appendFile(d).commit();
    String latest = String.valueOf(table.currentSnapshot().snapshotId());
    captureAndWait(4);

    assertThat(planned(JobKind.PLAN_SNAPSHOT)).as("only the new snapshot is planned").isEqualTo(4);
    assertThat(tableStats(latest).getRowCount()).isEqualTo(200 + 100 + 50);
  }
}
