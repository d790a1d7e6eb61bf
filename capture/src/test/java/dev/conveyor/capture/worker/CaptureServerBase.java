package dev.conveyor.capture.worker;

import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.control.ReconcileControlService;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A control plane on loopback (both services, planner) over the test ledger, for worker tests. */
public abstract class CaptureServerBase extends LedgerTestBase {
  protected Server server;
  protected ManagedChannel channel;
  protected CapturePlanner planner;
  protected CaptureTables tables;
  protected ReconcileExecutorService executorService;
  /** Where the control plane keeps page-index artifacts in this suite. */
  protected java.nio.file.Path artifactDir;

  /** The servers' message limit in these suites: results above it must arrive in chunks. */
  protected static final int MAX_MESSAGE_BYTES = 512 * 1024;

  /** Files per group the planner uses in this suite. */
  protected abstract int filesPerGroup();

  @BeforeEach
  void startServer() throws Exception {
    tables = new CaptureTables(ledger);
    artifactDir = java.nio.file.Files.createTempDirectory("conveyor-artifacts");
    planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(filesPerGroup(), 1L << 30));
    executorService = new ReconcileExecutorService(ledger, 64,
        new dev.conveyor.reconcile.artifacts.LocalArtifactStore(artifactDir));
    server = WorkerChannels.permitWorkerKeepAlive(
            NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0)))
        .maxInboundMessageSize(MAX_MESSAGE_BYTES)
        .addService(new ReconcileControlService(ledger, tables, planner))
        .addService(executorService).build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  /** Registers table {@code t} over the Parquet files in {@code dir}, starts a capture of it and plans it. */
  protected String planCapture(java.nio.file.Path dir) {
    tables.register("t", dev.conveyor.api.reconcile.ConnectorSpec.newBuilder()
        .setKind(dev.conveyor.api.reconcile.ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(dir.toString()).build());
    String root = planner.startCapture("t", "", dev.conveyor.api.reconcile.CapturePolicy.newBuilder()
        .setFileStats(true).setColumnStats(true).build());
    planner.runOnce("planner", 10);
    planner.runOnce("planner", 10);
    return root;
  }

  @AfterEach
  void stopServer() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
