package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.FileAccess;
import dev.conveyor.api.reconcile.GetLeasedFileGroupExecutionRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.capture.stats.ParquetFileStatsTest.Expected;
import dev.conveyor.ledger.jobs.JobState;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.iceberg.DataFile;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.FileIO;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.puffin.Puffin;
import org.apache.iceberg.puffin.PuffinReader;
import org.apache.iceberg.rest.RESTCatalog;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Capture in the lakehouse, against real servers on loopback: Iceberg's REST catalog server keeping its
 * tables in an S3 server (s3proxy). The control plane reaches the catalog and the store with the secrets
 * of a credentials file; a remote worker gets only presigned URLs that end with its lease.
 */
public abstract class LakehouseCaptureContract extends CaptureServerBase {
  @TempDir Path dir;
  private Lakehouse lake;
  private RESTCatalog engine;

  @Override
  protected int filesPerGroup() {
    return 2;
  }

  @BeforeEach
  void startLakehouse() throws Exception {
    lake = Lakehouse.start(dir);
    engine = lake.engineCatalog();
  }

  @AfterEach
  void stopLakehouse() throws Exception {
    engine.close();
    lake.close();
  }

  private Map<String, String> connectorProperties() throws Exception {
    return Map.of("s3.endpoint", lake.s3Endpoint(), "s3.path-style-access", "true", "client.region", "us-east-1",
        "s3.request-checksums", "when-required", "credentials-file", lake.credentialsFile(dir).toString());
  }

  /** Writes a Parquet file locally and copies it into the store at {@code location}. */
  private Expected upload(FileIO io, String location, int rows, long seed) throws Exception {
    Path local = dir.resolve("staging").resolve(location.substring(location.lastIndexOf('/') + 1));
    Files.createDirectories(local.getParent());
    Expected e = ParquetFileStatsTest.write(local, rows, seed);
    OutputFile out = io.newOutputFile(location);
    try (PositionOutputStream stream = out.createOrOverwrite()) {
      stream.write(Files.readAllBytes(local));
    }
    return e;
  }

  private DataFile dataFile(Table table, String name, int rows, long seed, Map<String, Expected> expected)
      throws Exception {
    String location = table.location() + "/data/" + name;
    expected.put(location, upload(table.io(), location, rows, seed));
    return DataFiles.builder(PartitionSpec.unpartitioned()).withPath(location)
        .withFileSizeInBytes(table.io().newInputFile(location).getLength()).withRecordCount(rows)
        .withFormat(FileFormat.PARQUET).build();
  }

  private String captureAndWait(String tableId, int latest) {
    String root = planner.startCapture(tableId, "", List.of(), latest, CapturePolicy.newBuilder().setFileStats(true)
        .setColumnStats(true).setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build());
    try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("remote").withIdlePoll(Duration.ofMillis(20))).start()) {
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
    }
    assertThat(ledger.jobs().get(root).state()).as(ledger.jobs().get(root).toString()).isEqualTo(JobState.SUCCEEDED);
    return root;
  }

  private TargetStatsRecord record(String tableId, String snapshot, String target) throws Exception {
    byte[] b = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = ? AND"
        + " snapshot_id = ? AND target_key = ?", rs -> rs.getBytes(1), tableId, snapshot, target).orElseThrow());
    return TargetStatsRecord.parseFrom(b);
  }

  @Test
  void anIcebergTableInARestCatalogOnS3IsCapturedAndItsPuffinFileRegistered() throws Exception {
    Schema schema = ParquetFileStatsTest.ICEBERG_SCHEMA;
    engine.createNamespace(Namespace.of("sales"));
    TableIdentifier id = TableIdentifier.of("sales", "orders");
    Table table = engine.createTable(id, schema);
    assertThat(table.location()).startsWith("s3://lake/");
    Map<String, Expected> expected = new TreeMap<>();
    table.newAppend().appendFile(dataFile(table, "a.parquet", 300, 1, expected)).commit();
    table.newAppend().appendFile(dataFile(table, "b.parquet", 200, 2, expected))
        .appendFile(dataFile(table, "c.parquet", 100, 3, expected)).commit();
    long snapshot = table.currentSnapshot().snapshotId();
    Map<String, String> props = new java.util.HashMap<>(connectorProperties());
    props.put("catalog", "rest");
    props.put("uri", lake.catalogUri());
    tables.register("orders", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG)
        .setLocation("sales.orders").putAllProperties(props).build());

    captureAndWait("orders", 2);

    TargetStatsRecord t = record("orders", String.valueOf(snapshot), "table");
    assertThat(t.getFileCount()).isEqualTo(3);
    assertThat(t.getRowCount()).isEqualTo(600);
    for (String location : expected.keySet()) {
      TargetStatsRecord f = record("orders", String.valueOf(snapshot), "file:" + location);
      assertThat(f.getRowCount()).as(location).isEqualTo(expected.get(location).rows);
    }
    // the engine's own API lists the statistics file, and its blobs decode to the NDV capture stats shows
    Table reloaded = engine.loadTable(id);
    StatisticsFile stats = reloaded.statisticsFiles().stream().filter(s -> s.snapshotId() == snapshot).findFirst()
        .orElseThrow(() -> new AssertionError("no statistics file for snapshot " + snapshot + " in "
            + reloaded.statisticsFiles()));
    assertThat(stats.path()).startsWith("s3://lake/");
    Map<Integer, Double> ndv = new TreeMap<>();
    try (PuffinReader reader = Puffin.read(reloaded.io().newInputFile(stats.path()))
        .withFileSize(stats.fileSizeInBytes()).withFooterSize(stats.fileFooterSizeInBytes()).build()) {
      for (var blob : reader.readAll(reader.fileMetadata().blobs())) {
        byte[] bytes = new byte[blob.second().remaining()];
        blob.second().duplicate().get(bytes);
        ndv.put(blob.first().inputFields().get(0), org.apache.datasketches.theta.CompactSketch
            .wrap(org.apache.datasketches.memory.Memory.wrap(bytes)).getEstimate());
      }
    }
    assertThat(ndv).containsOnlyKeys(1, 2, 3, 4, 5, 6, 7);
    for (Types.NestedField field : schema.columns()) {
      assertThat(ndv.get(field.fieldId())).as(field.name())
          .isEqualTo(record("orders", String.valueOf(snapshot), "column:" + field.name()).getColumn().getNdv()
              .getEstimate());
    }
    assertThat(ndv.get(1)).as("id: 600 distinct values").isEqualTo(600.0);
  }

  @Test
  void aRemoteWorkerReadsOnlyThroughUrlsThatEndWithItsLease() throws Exception {
    FileIO store = lake.fileIO();
    String prefix = "s3://lake/events";
    Map<String, Expected> expected = new TreeMap<>();
    for (int i = 0; i < 3; i++) {
      expected.put(prefix + "/part-" + i + ".parquet", upload(store, prefix + "/part-" + i + ".parquet",
          100 + i, 10 + i));
    }
    tables.register("events", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(prefix).putAllProperties(connectorProperties()).build());
    String root = planner.startCapture("events", "", CapturePolicy.newBuilder().setFileStats(true)
        .setColumnStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build());
    await().atMost(Duration.ofSeconds(30)).until(() -> {
      planner.runOnce("planner", 10);
      return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'EXEC_FILE_GROUP'")) == 2;
    });

    // a worker leases a group for two seconds: what it receives is URLs, never a credential
    var rpc = ReconcileExecutorControlGrpc.newBlockingStub(channel);
    var leased = rpc.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId("remote")
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).addLanes("*").setLeaseMs(2_000).build()).getJobs(0);
    LeasedFileGroupExecution exec = rpc.getLeasedFileGroupExecution(GetLeasedFileGroupExecutionRequest.newBuilder()
        .setJobId(leased.getJobId()).setLeaseEpoch(leased.getLeaseEpoch()).build());
    assertThat(exec.getFileAccessList()).extracting(FileAccess::getPath)
        .containsExactlyElementsOf(exec.getFilesList().stream().map(f -> f.getPath()).toList());
    String wire = exec.toString();
    // a presigned URL names the signing key's public id, never its secret; the secrets' file stays unnamed
    assertThat(wire).doesNotContain(Lakehouse.SECRET_KEY).doesNotContain("credentials-file")
        .doesNotContain("s3.secret-access-key");
    FileAccess access = exec.getFileAccess(0);
    assertThat(access.getExpiresInMs()).isBetween(1_000L, 2_000L);
    HttpClient http = HttpClient.newHttpClient();
    HttpRequest head = HttpRequest.newBuilder(URI.create(access.getUrl())).header("Range", "bytes=0-3").GET().build();
    HttpResponse<byte[]> ok = http.send(head, HttpResponse.BodyHandlers.ofByteArray());
    assertThat(ok.statusCode()).isEqualTo(206);
    assertThat(new String(ok.body(), StandardCharsets.US_ASCII)).isEqualTo("PAR1");
    // the store itself refuses the URL once the lease would have ended
    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(250))
        .until(() -> http.send(head, HttpResponse.BodyHandlers.ofByteArray()).statusCode() == 403);
    // and without a URL the object is closed to the worker
    HttpRequest bare = HttpRequest.newBuilder(URI.create(lake.s3Endpoint() + "/lake/events/part-0.parquet")).GET()
        .build();
    assertThat(http.send(bare, HttpResponse.BodyHandlers.ofByteArray()).statusCode()).isEqualTo(403);

    // the lease lapses (the ledger's clock moves past it); real workers capture everything through URLs
    clock.advance(Duration.ofSeconds(5));
    assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
    clock.advance(Duration.ofMinutes(10)); // past the reclaimed group's retry backoff
    try (CaptureWorker w = new CaptureWorker(rpc, CaptureWorker.Options.defaults("remote")
        .withIdlePoll(Duration.ofMillis(20))).start()) {
      await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(50)).until(() -> {
        planner.runOnce("planner", 10);
        return ledger.jobs().get(root).state().isTerminal();
      });
    }
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
    String snapshot = ledger.transact(tx -> tx.queryOne("SELECT snapshot_id FROM capture_snapshots WHERE table_id ="
        + " 'events'", rs -> rs.getString(1)).orElseThrow());
    for (var e : expected.entrySet()) {
      assertThat(record("events", snapshot, "file:" + e.getKey()).getRowCount()).isEqualTo(e.getValue().rows);
    }
  }

  @Test
  void secretsAndUnknownPropertiesAreRefusedAtRegistration() {
    assertThatThrownBy(() -> tables.register("x", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation("s3://lake/x").putProperties("s3.secret-access-key", "oops").build()))
        .hasMessageContaining("connector.properties.s3.secret-access-key is a secret")
        .hasMessageContaining("credentials-file");
    assertThatThrownBy(() -> tables.register("x", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation("s3://lake/x").putProperties("s3.endpiont", "http://x").build()))
        .hasMessageContaining("connector.properties.s3.endpiont is not a property Conveyor knows");
    assertThatThrownBy(() -> tables.register("x", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG)
        .setLocation("db.t").putProperties("catalog", "rest").build()))
        .hasMessageContaining("connector.properties.uri");
  }
}
