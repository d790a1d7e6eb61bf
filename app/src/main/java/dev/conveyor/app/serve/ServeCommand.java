package dev.conveyor.app.serve;

import dev.conveyor.app.serve.ServeSettings.Key;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "serve", mixinStandardHelpOptions = true, sortOptions = false,
    description = {"Run a Conveyor node: the ledger (embedded SQLite by default, or PostgreSQL shared by several"
        + " nodes), the reconcile control plane with an in-process capture worker, Runway and SubmitQueue with a"
        + " build worker for the configured queues, the status page and Prometheus metrics.",
        "Settings come from <data-dir>/conveyor.properties (or --config FILE); flags override it."
            + " 'conveyor serve --print-config' prints every key with its default.",
        "On SIGTERM the node stops leasing, lets in-flight work finish for shutdown-grace, hands the rest back,"
            + " and exits; a restart (or another node) resumes it."})
public final class ServeCommand implements Callable<Integer> {
  @Option(names = "--data-dir", defaultValue = "conveyor-data",
      description = "Data directory: SQLite ledger, local token, git caches, builds, artifacts (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--config", paramLabel = "FILE", description = "Configuration file (default: <data-dir>/conveyor.properties if present).")
  Path config;

  @Option(names = "--print-config", description = "Print the effective settings (and, with no file, a template of every key) and exit.")
  boolean printConfig;

  @Option(names = "--ledger", paramLabel = "URL", description = "Key 'ledger': sqlite:<file> or postgresql://user@host:5432/db"
      + " (default: $CONVEYOR_LEDGER, else sqlite:<data-dir>/conveyor.db).")
  String ledger;

  @Option(names = "--bind", paramLabel = "ADDRESS", description = "Key 'bind' (default: 127.0.0.1).")
  String bind;

  @Option(names = {"--port", "--grpc-port"}, paramLabel = "PORT", description = "Key 'grpc-port'; 0 picks a free one (default: 7420).")
  Integer port;

  @Option(names = "--http-port", paramLabel = "PORT",
      description = "Key 'http-port': status page at http://BIND:PORT/ and metrics at /metrics; 0 free, -1 off (default: 7421).")
  Integer httpPort;

  @Option(names = "--auth", paramLabel = "MODE", description = "Key 'auth': local, oidc or none (loopback only) (default: local).")
  String auth;

  @Option(names = "--token-file", paramLabel = "FILE",
      description = "Key 'token-file': with --auth local, the token file (made if missing); share one across a fleet"
          + " (default: <data-dir>/local-token).")
  String tokenFile;

  @Option(names = "--oidc-issuer", paramLabel = "URL", description = "Key 'oidc-issuer' (required with --auth oidc).")
  String oidcIssuer;

  @Option(names = "--oidc-audience", paramLabel = "AUD", description = "Key 'oidc-audience' (default: conveyor).")
  String oidcAudience;

  @Option(names = "--no-capture-worker", description = "Key 'capture-worker = false': no in-process capture worker.")
  boolean noCaptureWorker;

  @Option(names = "--capture-parallelism", paramLabel = "N", description = "Key 'capture-parallelism' (default: 2).")
  Integer captureParallelism;

  @Option(names = "--max-files-per-group", paramLabel = "N", description = "Key 'max-files-per-group' (default: 16).")
  Integer maxFiles;

  @Option(names = "--max-bytes-per-group", paramLabel = "BYTES", description = "Key 'max-bytes-per-group' (default: 268435456).")
  Long maxBytes;

  @Option(names = "--queues", paramLabel = "FILE",
      description = "Key 'queues-file': queue.<name>.* settings (default: <data-dir>/queues.properties if present).")
  Path queuesFile;

  @Option(names = "--build-parallelism", paramLabel = "N", description = "Key 'build-parallelism'; 0 runs no build worker (default: 2).")
  Integer buildParallelism;

  @Option(names = "--shutdown-grace", paramLabel = "DURATION", description = "Key 'shutdown-grace' (default: 20s).")
  String shutdownGrace;

  @Override
  public Integer call() throws Exception {
    ServeSettings settings = ServeSettings.load(config, dataDir, flags());
    if (System.getenv("CONVEYOR_LOG_LEVEL") == null
        && org.slf4j.LoggerFactory.getLogger("dev.conveyor") instanceof ch.qos.logback.classic.Logger conveyorLogs) {
      conveyorLogs.setLevel(ch.qos.logback.classic.Level.INFO); // a server's log is read by its operator
    }
    if (printConfig) {
      System.out.print(settings.effective());
      if (settings.source() == null) {
        System.out.println();
        System.out.print(ServeSettings.template());
      }
      return 0;
    }
    ControlPlane plane = ControlPlane.start(settings.controlPlane());
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      System.out.println("conveyor: shutting down — no new leases; in-flight work has " + settings.shutdownGrace()
          .toSeconds() + " s to finish, the rest is handed back");
      plane.close();
      System.out.println("conveyor: stopped");
      stopped.countDown();
    }, "shutdown"));
    System.out.println(banner(settings, plane));
    stopped.await();
    return 0;
  }

  private Map<Key, String> flags() {
    Map<Key, String> f = new EnumMap<>(Key.class);
    put(f, Key.LEDGER, ledger);
    put(f, Key.BIND, bind);
    put(f, Key.GRPC_PORT, port);
    put(f, Key.HTTP_PORT, httpPort);
    put(f, Key.AUTH, auth);
    put(f, Key.TOKEN_FILE, tokenFile);
    put(f, Key.OIDC_ISSUER, oidcIssuer);
    put(f, Key.OIDC_AUDIENCE, oidcAudience);
    put(f, Key.CAPTURE_WORKER, noCaptureWorker ? "false" : null);
    put(f, Key.CAPTURE_PARALLELISM, captureParallelism);
    put(f, Key.MAX_FILES_PER_GROUP, maxFiles);
    put(f, Key.MAX_BYTES_PER_GROUP, maxBytes);
    put(f, Key.QUEUES_FILE, queuesFile);
    put(f, Key.BUILD_PARALLELISM, buildParallelism);
    put(f, Key.SHUTDOWN_GRACE, shutdownGrace);
    return f;
  }

  private static void put(Map<Key, String> flags, Key key, Object value) {
    if (value != null) {
      flags.put(key, value.toString());
    }
  }

  /** What runs, read from the started node rather than from the settings, so the banner cannot promise more. */
  static String banner(ServeSettings s, ControlPlane plane) {
    var queues = s.queues();
    String host = s.bind().equals("0.0.0.0") || s.bind().equals("::") ? "127.0.0.1" : s.bind();
    var worker = plane.captureWorkerTarget();
    StringBuilder sb = new StringBuilder("conveyor: serving gRPC on " + s.bind() + ":" + plane.port()
        + " — ledger " + plane.ledger().url() + ", auth " + s.auth().name().toLowerCase(java.util.Locale.ROOT)
        + (s.auth() == ControlPlane.AuthMode.LOCAL ? " (token in " + s.get(ServeSettings.Key.TOKEN_FILE) + ")" : ""));
    sb.append("\nconveyor: ").append(worker != null ? "in-process capture worker on (dials "
            + worker.getAddress().getHostAddress() + ":" + worker.getPort() + ")" : "no capture worker")
        .append(queues == null ? "; merge queue off (no queue.<name>.* settings)"
            : "; Runway serving " + queues.runway().names()
                + (queues.all().isEmpty() ? "" : ", SubmitQueue serving " + queues.names()
                    + (plane.runsBuildWorker() ? " with a build worker" : " without a build worker")));
    plane.buildSandbox().forEach(line -> sb.append("\nconveyor: ").append(line));
    if (plane.httpPort() >= 0) {
      sb.append("\nconveyor: status page http://").append(host).append(':').append(plane.httpPort())
          .append("/  metrics http://").append(host).append(':').append(plane.httpPort()).append("/metrics");
    }
    sb.append("\nconveyor: try 'conveyor capture add-table NAME DIR' then 'conveyor capture start NAME'");
    return sb.toString();
  }
}
