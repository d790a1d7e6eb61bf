package dev.conveyor.bench;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.capture.worker.CaptureWorker;
import dev.conveyor.capture.worker.Lakehouse;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import dev.conveyor.reconcile.iceberg.IcebergTables;
import dev.conveyor.reconcile.iceberg.PuffinStatistics;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CapturePlanner.PlannerClass;
import dev.conveyor.reconcile.planning.CaptureTables;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.iceberg.DataFiles;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.Namespace;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.io.PositionOutputStream;
import org.apache.iceberg.types.Types;

/**
 * {@code capture --s3}: one generated table captured by one worker (parallelism 1, groups of 16) twice, the
 * same way a user runs it: from local disk as a directory table, and as an Iceberg table in Iceberg's REST
 * catalog server whose files live in an S3 server on loopback (s3proxy), read through the presigned URLs
 * the worker's leases carry. The clock runs from the worker's start to its last group; a group that did
 * not succeed fails the run. Then the Puffin file's write and registration, timed on its own.
 */
final class LakehouseBench {
  private static final CapturePolicy POLICY = CapturePolicy.newBuilder().setFileStats(true).setColumnStats(true)
      .setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build();

  private LakehouseBench() {}

  static boolean run(BenchArgs a) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-lakehouse-bench");
    Path probe = Files.createDirectories(dir.resolve("probe"));
    SampleTable.write(probe, 1, 100_000);
    long bytesPerRow = Math.max(1, Files.size(probe.resolve("orders-000.parquet")) / 100_000);
    int rowsPerFile = (int) (8L * 1024 * 1024 / bytesPerRow);
    int files = Math.max(16, a.mb() / 8);
    Path local = dir.resolve("table");
    SampleTable.write(local, files, rowsPerFile);
    List<Path> parts;
    try (Stream<Path> s = Files.list(local)) {
      parts = s.sorted().toList();
    }
    long totalBytes = parts.stream().mapToLong(p -> p.toFile().length()).sum();
    System.out.printf("capture --s3 benchmark: %d files, %.0f MB, one worker, groups of 16%n", files, totalBytes / 1e6);

    try (Lakehouse lake = Lakehouse.start(dir.resolve("lake"));
        Ledger ledger = Ledger.open("sqlite:" + dir.resolve("ledger.db"))) {
      Schema schema = new Schema(Types.NestedField.required(1, "order_id", Types.LongType.get()),
          Types.NestedField.optional(2, "customer", Types.StringType.get()),
          Types.NestedField.optional(3, "amount", Types.DecimalType.of(12, 2)),
          Types.NestedField.optional(4, "ordered_at", Types.TimestampType.withZone()),
          Types.NestedField.optional(5, "score", Types.DoubleType.get()));
      var engine = lake.engineCatalog();
      engine.createNamespace(Namespace.of("bench"));
      Table table = engine.createTable(TableIdentifier.of("bench", "orders"), schema);
      var append = table.newAppend();
      for (Path p : parts) {
        String location = table.location() + "/data/" + p.getFileName();
        try (PositionOutputStream out = table.io().newOutputFile(location).createOrOverwrite()) {
          Files.copy(p, out);
        }
        append.appendFile(DataFiles.builder(PartitionSpec.unpartitioned()).withPath(location)
            .withFileSizeInBytes(Files.size(p)).withRecordCount(rowsPerFile).withFormat(FileFormat.PARQUET).build());
      }
      append.commit();
      long snapshot = table.currentSnapshot().snapshotId();

      CaptureTables tables = new CaptureTables(ledger);
      CapturePlanner planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(16, Long.MAX_VALUE / 4));
      var server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
          .addService(new ReconcileExecutorService(ledger, 64)).build().start();
      var channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
      tables.register("local", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
          .setLocation(local.toString()).build());
      tables.register("s3", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.ICEBERG).setLocation("bench.orders")
          .putAllProperties(Map.of("catalog", "rest", "uri", lake.catalogUri(), "s3.endpoint", lake.s3Endpoint(),
              "s3.path-style-access", "true", "client.region", "us-east-1", "s3.request-checksums", "when-required",
              "credentials-file", lake.credentialsFile(dir).toString())).build());
      double localSeconds = captureSeconds(ledger, planner, channel, "local", files);
      double s3Seconds = captureSeconds(ledger, planner, channel, "s3", files);
      long finalizeStart = System.nanoTime();
      while (planner.runOnce("bench", 10, PlannerClass.FINALIZE) > 0) {
        // roll-ups, and for the Iceberg table its Puffin file
      }
      double finalizeMs = (System.nanoTime() - finalizeStart) / 1e6;
      long notDone = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state <> 'SUCCEEDED'"));
      var columns = ledger.transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id = 's3' AND"
          + " snapshot_id = ? AND target_key = 'table'", rs -> rs.getBytes(1), String.valueOf(snapshot)))
          .map(b -> {
            try {
              return dev.conveyor.api.catalog.TargetStatsRecord.parseFrom(b).getColumnsList();
            } catch (com.google.protobuf.InvalidProtocolBufferException e) {
              throw new IllegalStateException(e);
            }
          }).orElse(List.of());
      Table loaded = IcebergTables.load(tables.connector("s3").orElseThrow());
      long puffinStart = System.nanoTime();
      PuffinStatistics.Published published = PuffinStatistics.publish(loaded, snapshot, columns);
      double puffinMs = (System.nanoTime() - puffinStart) / 1e6;

      System.out.printf("%n%-46s %10.1f%n", "local disk MB/s (directory table)", totalBytes / 1e6 / localSeconds);
      System.out.printf("%-46s %10.1f%n", "S3 on loopback MB/s (REST catalog, presigned)", totalBytes / 1e6 / s3Seconds);
      System.out.printf("%-46s %10.0f%n", "Puffin file: write and register, ms", puffinMs);
      System.out.printf("%-46s %10d%n", "  its size, bytes (" + published.columns().size() + " columns)",
          published.sizeBytes());
      System.out.printf("%-46s %10.0f%n", "finalizing both (roll-ups, first Puffin), ms", finalizeMs);
      System.out.printf("%-46s %10d%n", "jobs not SUCCEEDED", notDone);
      channel.shutdownNow();
      server.shutdownNow();
      engine.close();
      return notDone == 0 && !published.path().isEmpty();
    }
  }

  /** Plans a capture of {@code tableId}, then times one worker from its start to its last group. */
  private static double captureSeconds(Ledger ledger, CapturePlanner planner, io.grpc.Channel channel,
      String tableId, int files) throws Exception {
    String root = planner.startCapture(tableId, "", POLICY);
    planner.runOnce("bench", 10, PlannerClass.TABLES);
    planner.runOnce("bench", 10, PlannerClass.SNAPSHOTS);
    int groups = (files + 15) / 16;
    long before = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = ? AND state = 'SUCCEEDED'",
        JobKind.EXEC_FILE_GROUP.name()));
    long start = System.nanoTime();
    try (CaptureWorker worker = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults("bench-" + tableId).withParallelism(1).withIdlePoll(Duration.ofMillis(5)))
        .start()) {
      while (worker.groupsDone() < groups) {
        Thread.sleep(2);
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    long succeeded = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = ? AND"
        + " state = 'SUCCEEDED'", JobKind.EXEC_FILE_GROUP.name())) - before;
    if (succeeded != groups) {
      throw new IllegalStateException(tableId + ": " + succeeded + " of " + groups + " file groups succeeded (root "
          + root + ")");
    }
    return seconds;
  }
}
