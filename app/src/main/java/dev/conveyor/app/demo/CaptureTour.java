package dev.conveyor.app.demo;

import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.JobTreeNode;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.reconcile.planning.CapturePlanner;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The capture part of the demo: a sample Parquet table, the control plane with its in-process
 * worker on a free loopback port, and a capture followed over the public gRPC API to its statistics.
 */
final class CaptureTour {
  private CaptureTour() {}

  /** Writes the sample table the tour captures. */
  static Path prepare(Path dataDir, PrintStream out) throws Exception {
    Path tableDir = dataDir.resolve("demo-orders");
    SampleTable.write(tableDir, 6, 5_000);
    out.println("  capture   wrote a sample table: 6 Parquet files, 30,000 orders, in " + tableDir);
    return tableDir;
  }

  static boolean run(ControlPlane plane, Path dataDir, Path tableDir, PrintStream out) throws Exception {
    var channel = NettyChannelBuilder.forAddress("127.0.0.1", plane.port()).usePlaintext().build();
    try {
      String token = LocalToken.read(dataDir.resolve(LocalToken.FILE_NAME));
      var control = ReconcileControlGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));
      control.registerTable(RegisterTableRequest.newBuilder().setTableId("demo.orders").setConnector(
          ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(tableDir.toString()))
          .build());
      String root = control.startCapture(StartCaptureRequest.newBuilder().setTableId("demo.orders").build()).getJobId();
      out.println("  capture   started capture " + root + " of demo.orders");
      JobTreeNode tree;
      String last = "";
      long deadline = System.currentTimeMillis() + 60_000;
      do {
        TimeUnit.MILLISECONDS.sleep(100);
        tree = control.getJobTree(GetJobTreeRequest.newBuilder().setJobId(root).build()).getRoot();
        String summary = summary(tree);
        int[] counts = new int[3];
        walk(tree, counts);
        summary = dev.conveyor.app.jobs.JobTreePrinter.bar(counts[0], counts[1]) + " " + summary;
        if (!summary.equals(last)) {
          out.println("  capture   " + summary);
          last = summary;
        }
      } while (!terminal(tree) && System.currentTimeMillis() < deadline);
      out.println();
      print(tree, out, "");
      boolean ok = tree.getJob().getState().name().equals("RJS_SUCCEEDED");
      if (ok) {
        printStats(plane, out);
      }
      return ok;
    } finally {
      channel.shutdownNow();
    }
  }

  private static boolean terminal(JobTreeNode tree) {
    String s = tree.getJob().getState().name();
    return s.equals("RJS_SUCCEEDED") || s.equals("RJS_FAILED") || s.equals("RJS_CANCELLED");
  }

  private static String summary(JobTreeNode root) {
    int[] counts = new int[3]; // groups done, groups total, finalizer done
    walk(root, counts);
    return "plan " + root.getJob().getState().name().substring(4) + ", file groups " + counts[0] + "/" + counts[1]
        + " done" + (counts[2] > 0 ? ", snapshot finalized" : "");
  }

  private static void walk(JobTreeNode n, int[] counts) {
    String kind = n.getJob().getKind().name();
    boolean done = n.getJob().getState().name().equals("RJS_SUCCEEDED");
    if (kind.equals("RJK_EXEC_FILE_GROUP")) {
      counts[1]++;
      counts[0] += done ? 1 : 0;
    } else if (kind.equals("RJK_FINALIZE_SNAPSHOT") && done) {
      counts[2]++;
    }
    n.getChildrenList().forEach(c -> walk(c, counts));
  }

  private static void print(JobTreeNode n, PrintStream out, String indent) {
    out.println(indent + n.getJob().getJobId() + "  " + n.getJob().getKind().name().substring(4) + "  "
        + n.getJob().getState().name().substring(4));
    n.getChildrenList().forEach(c -> print(c, out, indent + "   "));
  }

  private static void printStats(ControlPlane plane, PrintStream out) throws Exception {
    byte[] bytes = plane.ledger().transact(tx -> tx.queryOne("SELECT record FROM capture_stats WHERE table_id ="
        + " 'demo.orders' AND target_key = 'table' ORDER BY created_at DESC LIMIT 1", rs -> rs.getBytes(1)).orElseThrow());
    TargetStatsRecord t = TargetStatsRecord.parseFrom(bytes);
    out.println();
    out.println("Captured statistics of demo.orders @ " + t.getSnapshotId() + ": " + t.getFileCount() + " files, "
        + t.getRowCount() + " rows");
    Table table = new Table("COLUMN", "TYPE", "NULLS", "MIN", "MAX");
    t.getColumnsList().forEach(c -> table.row(c.getColumn(),
        dev.conveyor.api.TypeNames.of(c.getPhysicalType(), c.getLogicalType()), c.getNullCount(),
        c.getMin().getRendered(), c.getMax().getRendered()));
    table.print(out);
  }
}
