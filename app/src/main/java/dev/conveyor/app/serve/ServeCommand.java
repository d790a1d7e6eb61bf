package dev.conveyor.app.serve;

import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true,
    description = "Run the reconcile control plane (public and worker gRPC services, planners, reaper) with an"
        + " in-process capture worker, on the embedded SQLite ledger or on PostgreSQL with --ledger.")
public final class ServeCommand implements Callable<Integer> {
  @Mixin LedgerOption ledgerOption;

  @Option(names = "--data-dir", defaultValue = "conveyor-data", description = "Data directory (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Address to listen on (default: ${DEFAULT-VALUE}).")
  String bind;

  @Option(names = "--port", defaultValue = "7420", description = "gRPC port; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int port;

  @Option(names = "--auth", defaultValue = "LOCAL",
      description = "LOCAL (a token generated into the data directory), OIDC (bearer JWTs from --oidc-issuer), or"
          + " NONE (loopback only). Default: ${DEFAULT-VALUE}.")
  ControlPlane.AuthMode auth;

  @Option(names = "--oidc-issuer", description = "OIDC issuer URL (with --auth OIDC).")
  String oidcIssuer;

  @Option(names = "--oidc-audience", defaultValue = "conveyor", description = "Expected token audience (default: ${DEFAULT-VALUE}).")
  String oidcAudience;

  @Option(names = "--no-capture-worker", description = "Do not run the in-process capture worker.")
  boolean noCaptureWorker;

  @Option(names = "--capture-parallelism", defaultValue = "2", description = "File groups the in-process worker runs at once (default: ${DEFAULT-VALUE}).")
  int captureParallelism;

  @Option(names = "--max-files-per-group", defaultValue = "16", description = "Default: ${DEFAULT-VALUE}.")
  int maxFiles;

  @Option(names = "--max-bytes-per-group", defaultValue = "268435456", description = "Default: ${DEFAULT-VALUE}.")
  long maxBytes;

  @Option(names = "--queues", paramLabel = "FILE",
      description = "Run the merge queue (Runway, and SubmitQueue for queues with a build command) for the queues in"
          + " FILE (default: <data-dir>/queues.properties if present).")
  Path runwayQueues;

  @Option(names = "--metrics-port", defaultValue = "9464",
      description = "Prometheus metrics at http://BIND:PORT/metrics; 0 picks a free port, -1 turns it off"
          + " (default: ${DEFAULT-VALUE}).")
  int metricsPort;

  @Option(names = "--build-parallelism", defaultValue = "2",
      description = "Builds the in-process build worker runs at once; 0 runs none (default: ${DEFAULT-VALUE}).")
  int buildParallelism;

  @Override
  public Integer call() throws Exception {
    var queues = dev.conveyor.app.runway.RunwayQueuesOption.loadIfPresent(runwayQueues, dataDir);
    ControlPlane plane = ControlPlane.start(new ControlPlane.Config(ledgerOption.url(), dataDir, bind, port, auth,
        oidcIssuer, oidcAudience, !noCaptureWorker, captureParallelism, new CapturePlanner.Limits(maxFiles, maxBytes), queues,
        buildParallelism, metricsPort));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("conveyor: shutting down (finishing in-flight calls)");
      plane.close();
      stopped.countDown();
    }, "shutdown"));
    System.out.println("conveyor: serving on " + bind + ":" + plane.port() + " — ledger " + plane.ledger().url()
        + ", auth " + auth + (auth == ControlPlane.AuthMode.LOCAL ? " (token in " + dataDir.resolve("local-token") + ")" : "")
        + (noCaptureWorker ? "" : ", in-process capture worker on")
        + (queues == null ? ", merge queue off (no " + dev.conveyor.app.runway.RunwayQueuesOption.defaultFile(dataDir) + ")"
            : ", Runway serving queues " + queues.runway().names()
                + (queues.all().isEmpty() ? "" : ", SubmitQueue serving " + queues.names()))
        + (plane.metricsPort() < 0 ? "" : "; metrics at http://" + bind + ":" + plane.metricsPort() + "/metrics"));
    System.out.println("conveyor: try 'conveyor capture add-table NAME DIR' then 'conveyor capture start NAME'");
    stopped.await();
    return 0;
  }
}
