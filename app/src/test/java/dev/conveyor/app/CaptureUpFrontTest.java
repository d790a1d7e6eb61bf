package dev.conveyor.app;

import static dev.conveyor.app.testing.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.testing.Cli.Run;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.PartitionSpec;
import org.apache.iceberg.Schema;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.types.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What registration and {@code capture start} refuse in the terminal, instead of starting work that fails
 * later inside a planning job: a directory that is not an Iceberg table, snapshot ids the table does not
 * have, and exclusive options given together.
 */
class CaptureUpFrontTest {
  @TempDir Path dir;

  @Test
  void mistakesAreRefusedBeforeAnythingIsStoredOrPlanned() throws Exception {
    Path parquet = Files.createDirectories(dir.resolve("plain"));
    ParquetFileStatsTest.write(parquet.resolve("part-0.parquet"), 10, 0);
    Path iceberg = dir.resolve("warehouse").resolve("orders");
    new HadoopTables(new Configuration()).create(new Schema(Types.NestedField.required(1, "id",
        Types.LongType.get())), PartitionSpec.unpartitioned(), iceberg.toString());
    Path data = dir.resolve("data");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30), null, 1);
    try (ControlPlane plane = ControlPlane.start(config)) {
      String[] at = {"--server", "127.0.0.1:" + plane.port(), "--token-file", data.resolve("local-token").toString()};

      Run notIceberg = run(concat(new String[] {"capture", "add-table", "plain", parquet.toString(), "--iceberg"}, at));
      assertThat(notIceberg.exit()).isNotZero();
      assertThat(notIceberg.err()).contains("is not an Iceberg table").doesNotContain("Exception", "INVALID_ARGUMENT");
      long tables = plane.ledger().read(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_tables"));
      assertThat(tables).isZero();

      assertThat(run(concat(new String[] {"capture", "add-table", "orders", iceberg.toString(), "--iceberg"}, at))
          .out()).contains("registered orders");
      Run badId = run(concat(new String[] {"capture", "start", "orders", "--snapshots", "123"}, at));
      assertThat(badId.exit()).isNotZero();
      assertThat(badId.out()).doesNotContain("capture started");
      assertThat(badId.err()).contains("snapshot_ids: 123 is not a snapshot of table 'orders' (it has none)");
      Run notANumber = run(concat(new String[] {"capture", "start", "orders", "--snapshot", "latest"}, at));
      assertThat(notANumber.err()).contains("'latest' is not an Iceberg snapshot id");
      Run both = run(concat(new String[] {"capture", "start", "orders", "--snapshots", "1", "--latest", "2"}, at));
      assertThat(both.exit()).isNotZero();
      assertThat(both.err()).contains("latest_snapshots is exclusive", "--latest", "--snapshots");
      Run padded = run(concat(new String[] {"capture", "start", "orders", "--snapshots", "0123"}, at));
      assertThat(padded.err()).contains("'0123' is not an Iceberg snapshot id");
      long jobs = plane.ledger().read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs"));
      assertThat(jobs).as("nothing was planned").isZero();
    }
  }

  private static String[] concat(String[] a, String[] b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
