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

  /**
   * Puffin for engines: each captured snapshot gets a statistics file registered in the table metadata,
   * read back with Iceberg's own Puffin reader; each column's blob is the sketch an engine would build by
   * hashing the same values through Iceberg's {@code Conversions} (so the two union without double
   * counting), and its {@code ndv} property and estimate are the NDV capture stores.
   */
  @Test
  void eachCapturedSnapshotRegistersAPuffinFileEnginesCanMerge() throws Exception {
    Schema schema = ParquetFileStatsTest.ICEBERG_SCHEMA;
    Table table = new HadoopTables(new Configuration()).create(schema, PartitionSpec.unpartitioned(),
        warehouse.resolve("orders").toString());
    Map<String, Expected> expected = new TreeMap<>();
    table.newAppend().appendFile(dataFile("a.parquet", 300, 1, expected)).commit();
    long first = table.currentSnapshot().snapshotId();
    table.newAppend().appendFile(dataFile("b.parquet", 200, 2, expected))
        .appendFile(dataFile("c.parquet", 100, 3, expected)).commit();
    long second = table.currentSnapshot().snapshotId();
    tables.register("orders", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG)
        .setLocation(warehouse.resolve("orders").toString()).build());

    captureAndWait(2);

    table.refresh();
    Map<Long, org.apache.iceberg.StatisticsFile> files = new TreeMap<>();
    table.statisticsFiles().forEach(f -> files.put(f.snapshotId(), f));
    assertThat(files).containsOnlyKeys(first, second);
    org.apache.iceberg.StatisticsFile stats = files.get(second);
    String recorded = ledger.transact(tx -> tx.queryOne("SELECT statistics_file FROM capture_snapshots WHERE"
        + " table_id = 'orders' AND snapshot_id = ?", rs -> rs.getString(1), String.valueOf(second)).orElseThrow());
    assertThat(recorded).as("the ledger names the registered file").isEqualTo(stats.path());
    Map<Integer, Object[]> blobs = new TreeMap<>();
    try (org.apache.iceberg.puffin.PuffinReader reader = org.apache.iceberg.puffin.Puffin
        .read(table.io().newInputFile(stats.path())).withFileSize(stats.fileSizeInBytes())
        .withFooterSize(stats.fileFooterSizeInBytes()).build()) {
      for (var blob : reader.readAll(reader.fileMetadata().blobs())) {
        assertThat(blob.first().type()).isEqualTo("apache-datasketches-theta-v1");
        assertThat(blob.first().snapshotId()).isEqualTo(second);
        byte[] bytes = new byte[blob.second().remaining()];
        blob.second().duplicate().get(bytes);
        blobs.put(blob.first().inputFields().get(0), new Object[] {blob.first().properties().get("ndv"), bytes});
      }
    }
    assertThat(blobs).containsOnlyKeys(1, 2, 3, 4, 5, 6, 7);
    List<Expected> visible = List.of(expected.get(warehouse.resolve("data/a.parquet").toString()),
        expected.get(warehouse.resolve("data/b.parquet").toString()),
        expected.get(warehouse.resolve("data/c.parquet").toString()));
    for (Types.NestedField field : schema.columns()) {
      org.apache.datasketches.theta.UpdateSketch engine = org.apache.datasketches.theta.UpdateSketch.builder().build();
      for (Expected e : visible) {
        for (Object v : e.distinct.getOrDefault(field.name(), java.util.Set.of())) {
          Object value = field.type().typeId() == org.apache.iceberg.types.Type.TypeID.DECIMAL
              ? java.math.BigDecimal.valueOf((Long) v, 2) : v;
          java.nio.ByteBuffer b = org.apache.iceberg.types.Conversions.toByteBuffer(field.type(), value);
          byte[] bytes = new byte[b.remaining()];
          b.duplicate().get(bytes);
          engine.update(bytes);
        }
      }
      var ours = org.apache.datasketches.theta.CompactSketch.wrap(
          org.apache.datasketches.memory.Memory.wrap((byte[]) blobs.get(field.fieldId())[1]));
      var union = org.apache.datasketches.theta.SetOperation.builder().buildUnion();
      union.union(ours);
      union.union(engine);
      assertThat(union.getResult().getEstimate()).as(field.name() + ": the union counts no value twice")
          .isEqualTo(engine.getEstimate());
      assertThat(ours.getEstimate()).as(field.name()).isEqualTo(engine.getEstimate());
      byte[] column = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 'orders'"
          + " AND snapshot_id = ? AND target_key = ?", rs -> rs.getBytes(1), String.valueOf(second),
          "column:" + field.name()).orElseThrow());
      double stored = TargetStatsRecord.parseFrom(column).getColumn().getNdv().getEstimate();
      assertThat(ours.getEstimate()).as(field.name() + ": the NDV capture stats shows").isEqualTo(stored);
      assertThat(blobs.get(field.fieldId())[0]).isEqualTo(Long.toString(Math.round(stored)));
    }
  }
}
