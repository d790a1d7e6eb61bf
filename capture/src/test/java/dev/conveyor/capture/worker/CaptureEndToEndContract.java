package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.SnapshotCompleteness;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.reconcile.UnreadableFile;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.capture.stats.ParquetFileStatsTest.Expected;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Capture end to end: planners, two remote workers over real gRPC, real Parquet files. */
public abstract class CaptureEndToEndContract extends CaptureServerBase {
  @TempDir Path tableDir;
  @Override
  protected int filesPerGroup() {
    return 4;
  }

  private CaptureWorker worker(String id) {
    return new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults(id).withIdlePoll(Duration.ofMillis(20)).withLease(Duration.ofSeconds(30)))
        .start();
  }

  private String capture() {
    tables.register("sales", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
    return planner.startCapture("sales", "", CapturePolicy.newBuilder().setFileStats(true).setColumnStats(true)
        .setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build());
  }

  private Job awaitRoot(String root) {
    await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(50)).until(() -> {
      planner.runOnce("planner", 10);
      return ledger.jobs().get(root).state().isTerminal();
    });
    return ledger.jobs().get(root);
  }

  private TargetStatsRecord stored(String key) throws Exception {
    byte[] b = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 'sales'"
        + " AND target_key = ?", rs -> rs.getBytes(1), key).orElseThrow(() -> new AssertionError("no stats " + key)));
    return TargetStatsRecord.parseFrom(b);
  }

  @Test
  void fortyFilesCapturedByTwoWorkersMatchStatisticsComputedFromTheRows() throws Exception {
    Map<Path, Expected> expected = new LinkedHashMap<>();
    long totalRows = 0;
    for (int i = 0; i < 40; i++) {
      Path file = tableDir.resolve(String.format("part-%02d.parquet", i));
      Expected e = ParquetFileStatsTest.write(file, 50 + i * 7, i + 1);
      expected.put(file.toAbsolutePath(), e);
      totalRows += e.rows;
    }
    String root = capture();
    try (CaptureWorker w1 = worker("worker-1"); CaptureWorker w2 = worker("worker-2")) {
      Job done = awaitRoot(root);
      assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
      assertThat(w1.groupsDone() + w2.groupsDone()).isEqualTo(10);
      assertThat(w1.groupsDone()).isPositive();
      assertThat(w2.groupsDone()).isPositive();
    }
    for (Map.Entry<Path, Expected> e : expected.entrySet()) {
      TargetStatsRecord rec = stored("file:" + e.getKey());
      assertThat(rec.getRowCount()).isEqualTo(e.getValue().rows);
      for (ColumnStats c : rec.getColumnsList()) {
        assertThat(c.getNullCount()).as(e.getKey() + " " + c.getColumn()).isEqualTo(e.getValue().nulls.get(c.getColumn())[0]);
        assertThat(c.getMin().getRendered()).isEqualTo(e.getValue().minMax.get(c.getColumn())[0]);
        assertThat(c.getMax().getRendered()).isEqualTo(e.getValue().minMax.get(c.getColumn())[1]);
      }
    }
    TargetStatsRecord table = stored("table");
    assertThat(table.getFileCount()).isEqualTo(40);
    assertThat(table.getRowCount()).isEqualTo(totalRows);
    String minId = expected.values().stream().map(x -> Long.parseLong(x.minMax.get("id")[0])).min(Long::compare)
        .orElseThrow().toString();
    assertThat(stored("column:id").getColumn().getMin().getRendered()).isEqualTo(minId);
    // NDV across files is the union of the files' sketches: ids are unique, flags are two values
    var idNdv = stored("column:id").getColumn().getNdv();
    assertThat(idNdv.getLowerBound()).isLessThanOrEqualTo(totalRows);
    assertThat(idNdv.getUpperBound()).isGreaterThanOrEqualTo(totalRows);
    assertThat(stored("column:flag").getColumn().getNdv().getEstimate()).isEqualTo(2.0);

    Job snapshot = ledger.jobs().children(root).get(0);
    Job finalizer = ledger.jobs().children(snapshot.id()).stream().filter(j -> j.kind() == JobKind.FINALIZE_SNAPSHOT)
        .findFirst().orElseThrow();
    long lastGroup = ledger.jobs().children(snapshot.id()).stream().filter(j -> j.kind() == JobKind.EXEC_FILE_GROUP)
        .mapToLong(j -> j.finishedAt().toEpochMilli()).max().orElseThrow();
    assertThat(finalizer.startedAt().toEpochMilli()).isGreaterThanOrEqualTo(lastGroup);
  }

  @Test
  void pageIndexSidecarsAreBuiltStoredAndRecordedOnePerFile() throws Exception {
    Map<Path, Boolean> nativeIndex = new LinkedHashMap<>();
    for (int i = 0; i < 6; i++) {
      Path file = tableDir.resolve("p-" + i + ".parquet").toAbsolutePath();
      if (i % 2 == 0) {
        ParquetFileStatsTest.write(file, 400 + i, i);
      } else {
        Path original = tableDir.getParent().resolve("original-" + i + ".parquet");
        ParquetFileStatsTest.write(original, 400 + i, i);
        dev.conveyor.capture.stats.FooterSurgery.withoutPageIndex(original, file);
        java.nio.file.Files.delete(original);
      }
      nativeIndex.put(file, i % 2 == 0);
    }
    tables.register("sales", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
    String root = planner.startCapture("sales", "", CapturePolicy.newBuilder().setPageIndex(true)
        .setColumns(ColumnSelection.newBuilder().setFirstN(3)).build());
    try (CaptureWorker w = worker("worker-1")) {
      assertThat(awaitRoot(root).state()).isEqualTo(JobState.SUCCEEDED);
    }

    for (var e : nativeIndex.entrySet()) {
      byte[] stored = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_artifacts WHERE table_id = 'sales'"
          + " AND source_file = ?", rs -> rs.getBytes(1), e.getKey().toString()).orElseThrow(
              () -> new AssertionError("no page index for " + e.getKey())));
      var record = dev.conveyor.api.catalog.IndexArtifactRecord.parseFrom(stored);
      assertThat(record.getFormat()).isEqualTo("parquet-page-index");
      assertThat(record.getCoverage().getColumnsList()).containsExactly("id", "name", "amount");
      assertThat(record.getCoverage().getFromNativePageIndex()).isEqualTo(e.getValue());
      Path artifact = Path.of(java.net.URI.create(record.getUri()));
      assertThat(artifact).startsWith(artifactDir);
      byte[] bytes = java.nio.file.Files.readAllBytes(artifact);
      assertThat(java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes)))
          .isEqualTo(record.getArtifactId());
      var expected = dev.conveyor.capture.pageindex.PageIndexReader.read(e.getKey(), java.util.List.of("id", "name",
          "amount"));
      assertThat(record.getCoverage().getPages()).isEqualTo(expected.dataPages());
      try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(new org.apache.parquet.io.LocalInputFile(artifact))) {
        assertThat(reader.getRecordCount()).isEqualTo(expected.entries().size());
        assertThat(reader.getFooter().getFileMetaData().getKeyValueMetaData())
            .containsEntry("conveyor.source_file", e.getKey().toString());
      }
    }
    long statsRows = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE target_key LIKE 'file:%'"));
    assertThat(statsRows).as("only the page index was asked for").isZero();
  }

  @Test
  void aFiveThousandColumnFileArrivesThroughChunkedResults() throws Exception {
    var builder = org.apache.parquet.schema.Types.buildMessage();
    for (int c = 0; c < 5_000; c++) {
      builder.optional(org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64).named("c" + c);
    }
    var schema = builder.named("wide");
    Path file = tableDir.resolve("wide.parquet").toAbsolutePath();
    var groups = new org.apache.parquet.example.data.simple.SimpleGroupFactory(schema);
    try (var w = org.apache.parquet.hadoop.example.ExampleParquetWriter.builder(
        new org.apache.parquet.io.LocalOutputFile(file)).withType(schema).build()) {
      for (int row = 0; row < 3; row++) {
        var g = groups.newGroup();
        for (int c = 0; c < 5_000; c++) {
          if ((row + c) % 7 != 0) {
            g.append("c" + c, (long) c * 10 + row);
          }
        }
        w.write(g);
      }
    }
    String root = capture();
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("wide").withIdlePoll(Duration.ofMillis(20))
            .withMaxResultBytes(128 * 1024)).start()) {
      assertThat(awaitRoot(root).state()).isEqualTo(JobState.SUCCEEDED);
    }

    TargetStatsRecord rec = stored("file:" + file);
    assertThat(rec.getSerializedSize()).as("more than one message could carry").isGreaterThan(MAX_MESSAGE_BYTES);
    assertThat(rec.getColumnsCount()).isEqualTo(5_000);
    for (int c : new int[] {0, 1, 4_999}) {
      ColumnStats col = rec.getColumns(c);
      long nulls = java.util.stream.IntStream.range(0, 3).filter(row -> (row + c) % 7 == 0).count();
      assertThat(col.getColumn()).isEqualTo("c" + c);
      assertThat(col.getNullCount()).isEqualTo(nulls);
      assertThat(col.getNdv().getEstimate()).isEqualTo(3 - nulls);
    }
    long staged = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_result_chunks"));
    assertThat(staged).as("staged chunks are dropped once the result is recorded").isZero();
  }

  @Test
  void aGroupWithNoRequestedOutputsIsANoOpSuccess() throws Exception {
    for (int i = 0; i < 3; i++) {
      ParquetFileStatsTest.write(tableDir.resolve("p-" + i + ".parquet"), 20, i);
    }
    tables.register("sales", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
    String root = planner.startCapture("sales", "", CapturePolicy.getDefaultInstance()); // nothing requested
    try (CaptureWorker w = worker("worker-1")) {
      assertThat(awaitRoot(root).state()).isEqualTo(JobState.SUCCEEDED);
    }
    long fileStats = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE target_key LIKE 'file:%'"));
    assertThat(fileStats).isZero();
    long groups = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'EXEC_FILE_GROUP'"
        + " AND state = 'SUCCEEDED'"));
    assertThat(groups).isEqualTo(1);
  }

  @Test
  void twoCorruptAndSixGoodFilesEndWithSixFilesStatisticsAndAPartialSnapshotNamingTheTwo() throws Exception {
    long goodRows = 0;
    for (int i = 0; i < 6; i++) {
      goodRows += ParquetFileStatsTest.write(tableDir.resolve("good-" + i + ".parquet"), 40 + i, i).rows;
    }
    byte[] good = Files.readAllBytes(tableDir.resolve("good-0.parquet"));
    Path half = tableDir.resolve("a-half.parquet").toAbsolutePath();
    Files.write(half, java.util.Arrays.copyOf(good, good.length / 2));
    Path notes = tableDir.resolve("b-notes.parquet").toAbsolutePath();
    Files.writeString(notes, "id,name\n1,alice\n");
    var control = ReconcileControlGrpc.newBlockingStub(channel);
    control.registerTable(RegisterTableRequest.newBuilder().setTableId("sales").setConnector(ConnectorSpec.newBuilder()
        .setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(tableDir.toString())).build());
    String root = control.startCapture(StartCaptureRequest.newBuilder().setTableId("sales").build()).getJobId();
    try (CaptureWorker w = worker("worker-1")) {
      assertThat(awaitRoot(root).state()).isEqualTo(JobState.SUCCEEDED);
    }

    // the bad files share a group with good ones (4 per group): every group still succeeds
    Job snapshot = ledger.jobs().children(root).get(0);
    assertThat(ledger.jobs().children(snapshot.id())).allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.SUCCEEDED));
    long fileStats = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE table_id = 'sales'"
        + " AND target_key LIKE 'file:%'"));
    assertThat(fileStats).isEqualTo(6);
    TargetStatsRecord table = stored("table");
    assertThat(table.getFileCount()).isEqualTo(6);
    assertThat(table.getFilesPlanned()).isEqualTo(8);
    assertThat(table.getRowCount()).isEqualTo(goodRows);
    assertThat(stored("column:id").getFilesPlanned()).isEqualTo(8);

    var tree = control.getJobTree(GetJobTreeRequest.newBuilder().setJobId(root).build()).getRoot();
    SnapshotCompleteness c = tree.getChildren(0).getChildrenList().stream()
        .filter(n -> n.getJob().getKind() == dev.conveyor.api.reconcile.JobKind.RJK_FINALIZE_SNAPSHOT)
        .findFirst().orElseThrow().getJob().getCompleteness();
    assertThat(c.getPartial()).isTrue();
    assertThat(c.getFilesPlanned()).isEqualTo(8);
    assertThat(c.getFilesCaptured()).isEqualTo(6);
    assertThat(c.getUnreadableTotal()).isEqualTo(2);
    assertThat(c.getUnreadableList()).extracting(UnreadableFile::getPath, UnreadableFile::getCause).containsExactly(
        org.assertj.core.groups.Tuple.tuple(half.toString(), UnreadableFile.Cause.TRUNCATED),
        org.assertj.core.groups.Tuple.tuple(notes.toString(), UnreadableFile.Cause.NOT_PARQUET));
    assertThat(c.getUnreadable(0).getMessage()).contains("cut short").contains(good.length / 2 + " bytes");
    assertThat(dev.conveyor.reconcile.planning.CaptureCompleteness.describe(c))
        .startsWith("partial: 6 of 8 files; 2 unreadable: a-half.parquet (truncated: cut short")
        .contains("b-notes.parquet (not parquet: no Parquet magic at its head");
    long[] row = ledger.transact(tx -> tx.queryOne("SELECT files, files_planned, files_unreadable FROM"
        + " capture_snapshots WHERE table_id = 'sales'", rs -> new long[] {rs.getLong(1), rs.getLong(2), rs.getLong(3)})
        .orElseThrow());
    assertThat(row).containsExactly(6, 8, 2);
  }

  @Test
  void aGroupOfOnlyUnreadableFilesSucceedsListingEachCauseAndASnapshotWithNothingReadableIsNotFinalized()
      throws Exception {
    Path source = tableDir.getParent().resolve("source-" + System.nanoTime() + ".parquet");
    ParquetFileStatsTest.write(source, 300, 1);
    byte[] good = Files.readAllBytes(source);
    Files.write(tableDir.resolve("a-half.parquet"), java.util.Arrays.copyOf(good, good.length - 3));
    Files.writeString(tableDir.resolve("b-notes.parquet"), "not parquet at all");
    dev.conveyor.capture.stats.FooterSurgery.withCodec(source, tableDir.resolve("c-lzo.parquet"),
        org.apache.parquet.format.CompressionCodec.LZO);
    Files.copy(source, tableDir.resolve("d-gone.parquet"));
    String root = capture();
    // plan the table and the snapshot first, then remove a planned file before any worker runs
    planner.runOnce("planner", 10);
    planner.runOnce("planner", 10);
    Files.delete(tableDir.resolve("d-gone.parquet"));
    try (CaptureWorker w = worker("worker-1")) {
      assertThat(awaitRoot(root).state()).isEqualTo(JobState.FAILED);
    }

    Job snapshot = ledger.jobs().children(root).get(0);
    var children = ledger.jobs().children(snapshot.id());
    assertThat(children.stream().filter(j -> j.kind() == JobKind.EXEC_FILE_GROUP))
        .singleElement().satisfies(g -> assertThat(g.state()).isEqualTo(JobState.SUCCEEDED));
    Job finalizer = children.stream().filter(j -> j.kind() == JobKind.FINALIZE_SNAPSHOT).findFirst().orElseThrow();
    assertThat(finalizer.state()).isEqualTo(JobState.FAILED);
    assertThat(finalizer.lastError()).contains("no file of snapshot").contains("a-half.parquet (TRUNCATED")
        .contains("b-notes.parquet (NOT_PARQUET").contains("c-lzo.parquet (UNSUPPORTED")
        .contains("d-gone.parquet (MISSING");
    long snapshots = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_snapshots"));
    long stats = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_stats"));
    assertThat(snapshots).isZero();
    assertThat(stats).isZero();
  }
}
