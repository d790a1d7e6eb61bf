package dev.conveyor.app.serve;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.mergequeue.MergeQueueNode;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.worker.CaptureWorker;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.InProcessToken;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.reconcile.auth.OidcDiscovery;
import dev.conveyor.reconcile.auth.TokenRoles;
import dev.conveyor.reconcile.auth.TokenValidator;
import dev.conveyor.reconcile.control.ReconcileControlService;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import dev.conveyor.supervise.Supervisor;
import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.ServerServiceDefinition;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The reconcile control plane of one process, wired with constructors: the ledger, both gRPC
 * services behind bearer auth, the planner loop and maintenance (reaper and retention, on the elected
 * leader only), and (unless switched off) an
 * in-process capture worker that talks to the services over gRPC like any remote worker — to the
 * address the server actually bound, with a per-process credential that carries only the worker
 * role. Every background loop runs under one {@link Supervisor}; health turns NOT_SERVING while one
 * keeps failing.
 */
public final class ControlPlane implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlPlane.class);

  public enum AuthMode { LOCAL, OIDC, NONE }

  public record Config(String ledgerUrl, Path dataDir, String bind, int port, AuthMode auth, String oidcIssuer,
      String oidcAudience, boolean captureWorker, int captureParallelism, CapturePlanner.Limits limits,
      SubmitQueues queues, int buildParallelism, int httpPort, Duration shutdownGrace, MaintenanceSettings maintenance,
      Path tokenFile) {
    static final Duration DEFAULT_GRACE = Duration.ofSeconds(20);

    /** With the token file in the data directory. */
    public Config(String ledgerUrl, Path dataDir, String bind, int port, AuthMode auth, String oidcIssuer,
        String oidcAudience, boolean captureWorker, int captureParallelism, CapturePlanner.Limits limits,
        SubmitQueues queues, int buildParallelism, int httpPort, Duration shutdownGrace,
        MaintenanceSettings maintenance) {
      this(ledgerUrl, dataDir, bind, port, auth, oidcIssuer, oidcAudience, captureWorker, captureParallelism, limits,
          queues, buildParallelism, httpPort, shutdownGrace, maintenance, dataDir.resolve(LocalToken.FILE_NAME));
    }

    /** With the default retention ages, maintenance lease and build-log bounds. */
    public Config(String ledgerUrl, Path dataDir, String bind, int port, AuthMode auth, String oidcIssuer,
        String oidcAudience, boolean captureWorker, int captureParallelism, CapturePlanner.Limits limits,
        SubmitQueues queues, int buildParallelism, int httpPort, Duration shutdownGrace) {
      this(ledgerUrl, dataDir, bind, port, auth, oidcIssuer, oidcAudience, captureWorker, captureParallelism, limits,
          queues, buildParallelism, httpPort, shutdownGrace, MaintenanceSettings.defaults());
    }

    /** Without the web server (status page and metrics). */
    public Config(String ledgerUrl, Path dataDir, String bind, int port, AuthMode auth, String oidcIssuer,
        String oidcAudience, boolean captureWorker, int captureParallelism, CapturePlanner.Limits limits,
        SubmitQueues queues, int buildParallelism) {
      this(ledgerUrl, dataDir, bind, port, auth, oidcIssuer, oidcAudience, captureWorker, captureParallelism, limits,
          queues, buildParallelism, -1);
    }

    public Config(String ledgerUrl, Path dataDir, String bind, int port, AuthMode auth, String oidcIssuer,
        String oidcAudience, boolean captureWorker, int captureParallelism, CapturePlanner.Limits limits,
        SubmitQueues queues, int buildParallelism, int httpPort) {
      this(ledgerUrl, dataDir, bind, port, auth, oidcIssuer, oidcAudience, captureWorker, captureParallelism, limits,
          queues, buildParallelism, httpPort, DEFAULT_GRACE);
    }
  }

  private final Ledger ledger;
  private final Server server;
  private final ControlLoops loops;
  private final InProcessToken inProcessToken;
  private final Supervisor supervisor;
  private ManagedChannel workerChannel;
  private InetSocketAddress workerTarget;
  private CaptureWorker worker;
  private MergeQueueNode mergeQueue;
  private io.grpc.protobuf.services.HealthStatusManager health;
  private dev.conveyor.app.metrics.Metrics metrics;
  private dev.conveyor.app.web.WebServer web;
  private dev.conveyor.durability.service.DurabilityRuntime durability;
  private Duration grace = Config.DEFAULT_GRACE;
  private ReconcileExecutorService executorService;

  private ControlPlane(Ledger ledger, Server server, ControlLoops loops, InProcessToken inProcessToken,
      Supervisor supervisor) {
    this.ledger = ledger;
    this.server = server;
    this.loops = loops;
    this.inProcessToken = inProcessToken;
    this.supervisor = supervisor;
  }

  private static LocalToken localToken(Path file) {
    try {
      return LocalToken.inFile(file);
    } catch (IOException e) {
      throw new UserError("cannot use the token file: " + e.getMessage(), "fix token-file, or delete the file to"
          + " have a new token made (every client and node sharing it needs the new one)");
    }
  }

  public static ControlPlane start(Config c) throws IOException {
    return start(c, Supervisor.create());
  }

  /** Starts the node with {@code supervisor} keeping its loops alive (tests pass one with short pauses). */
  public static ControlPlane start(Config c, Supervisor supervisor) throws IOException {
    InetAddress address = InetAddress.getByName(c.bind());
    if (c.auth() == AuthMode.NONE && !address.isLoopbackAddress()) {
      throw new UserError("refusing to listen on " + c.bind() + " with auth disabled",
          "use --auth local or --auth oidc, or bind to 127.0.0.1");
    }
    TokenRoles oidc = c.auth() == AuthMode.OIDC ? oidc(c) : null; // refuse a bad issuer before touching anything
    DataDirectory.prepare(c.dataDir());
    Ledger ledger = Ledger.open(c.ledgerUrl());
    MergeQueueNode mergeQueue = null;
    dev.conveyor.app.metrics.Metrics metrics = null;
    dev.conveyor.app.web.WebServer web = null;
    dev.conveyor.durability.service.DurabilityRuntime durability = null;
    try {
      // the in-process worker's credential: in memory only, accepted beside the mode's own tokens
      InProcessToken inProcess = c.auth() == AuthMode.NONE ? null : InProcessToken.generate();
      TokenRoles roles = switch (c.auth()) {
        case LOCAL -> inProcess.before(localToken(c.tokenFile()));
        case OIDC -> inProcess.before(oidc);
        case NONE -> null;
      };
      CaptureTables tables = new CaptureTables(ledger);
      CapturePlanner planner = new CapturePlanner(ledger, tables, c.limits());
      BearerAuthInterceptor auth = roles == null ? null
          : new BearerAuthInterceptor(roles, BearerAuthInterceptor.SERVICE_ROLES);
      metrics = new dev.conveyor.app.metrics.Metrics(ledger);
      String nodeName = nodeName();
      metrics.loops(supervisor);
      mergeQueue = c.queues() == null ? null : MergeQueueNode.start(ledger, c.queues(), c.dataDir(),
          nodeName, c.buildParallelism(), metrics.observers(), supervisor, c.maintenance().buildLog());
      ReconcileControlService reconcileControl = new ReconcileControlService(ledger, tables, planner);
      if (c.httpPort() >= 0) {
        SubmitQueues queues = c.queues();
        var status = new dev.conveyor.app.web.StatusView(ledger, nodeName,
            () -> queues == null ? java.util.List.of() : java.util.List.copyOf(queues.names()), 1_000);
        var actions = new dev.conveyor.app.web.PageActions(new dev.conveyor.app.audit.AuditLog(ledger),
            new dev.conveyor.app.web.ActionTargets(mergeQueue == null ? null : mergeQueue.gateway(),
                mergeQueue == null ? null : mergeQueue.queueControl(), reconcileControl,
                mergeQueue == null ? null : mergeQueue.deadLetters(ledger)));
        web = dev.conveyor.app.web.WebServer.start(new InetSocketAddress(address, c.httpPort()),
            dev.conveyor.app.web.WebAuth.of(address.isLoopbackAddress(), roles),
            new dev.conveyor.app.web.WebServer.Parts(status, metrics::scrape,
                mergeQueue == null ? null : mergeQueue.externalCi(), actions));
      }
      durability = dev.conveyor.durability.service.DurabilityRuntime.start(ledger,
          dev.conveyor.durability.service.DurabilityRuntime.DEFAULT_MAX_FOLLOWERS);
      io.grpc.protobuf.services.HealthStatusManager health = new io.grpc.protobuf.services.HealthStatusManager();
      ReconcileExecutorService executorService = new ReconcileExecutorService(ledger, 256,
          new dev.conveyor.reconcile.artifacts.LocalArtifactStore(c.dataDir().resolve("artifacts")));
      NettyServerBuilder builder = dev.conveyor.capture.worker.WorkerChannels.permitWorkerKeepAlive(
          NettyServerBuilder.forAddress(new InetSocketAddress(address, c.port())))
          .addService(health.getHealthService())
          .addService(secured(reconcileControl, auth))
          .addService(secured(executorService, auth))
          .addService(secured(durability.service(), auth));
      if (mergeQueue != null && mergeQueue.gateway() != null) {
        builder.addService(secured(mergeQueue.gateway(), auth));
        builder.addService(secured(mergeQueue.queueControl(), auth));
        builder.addService(secured(mergeQueue.externalCi(), auth));
      }
      Server server = builder.build().start();
      // the health watch reports SERVING once every service is bound, NOT_SERVING while a loop keeps
      // failing; the health service needs no token (probes have none)
      List<String> services = new ArrayList<>();
      for (var service : server.getServices()) {
        services.add(service.getServiceDescriptor().getName());
      }
      var maintenance = new dev.conveyor.ledger.maintenance.Maintenance(ledger, nodeName,
          dev.conveyor.app.maintenance.MaintenanceTasks.of(ledger, c.maintenance().ages()), c.maintenance().options(),
          metrics.maintenance());
      ControlLoops loops = ControlLoops.start(ledger, planner,
          new dev.conveyor.reconcile.schedule.CaptureSchedules(ledger, tables, planner), maintenance, supervisor,
          health, services);
      ControlPlane plane = new ControlPlane(ledger, server, loops, inProcess, supervisor);
      plane.health = health;
      if (c.captureWorker()) {
        plane.startWorker(c.captureParallelism());
      }
      plane.mergeQueue = mergeQueue;
      plane.metrics = metrics;
      plane.web = web;
      plane.durability = durability;
      plane.grace = c.shutdownGrace();
      plane.executorService = executorService;
      return plane;
    } catch (IOException | RuntimeException e) {
      if (durability != null) {
        durability.close();
      }
      if (web != null) {
        web.close();
      }
      if (mergeQueue != null) {
        mergeQueue.close();
      }
      if (metrics != null) {
        metrics.close();
      }
      ledger.close();
      throw e;
    }
  }

  private static String require(String value, String flag) {
    if (value == null || value.isBlank()) {
      throw new UserError(flag + " is required with --auth oidc", "pass the issuer URL, e.g. https://login.example/realm");
    }
    return value;
  }

  private static ServerServiceDefinition secured(BindableService service, BearerAuthInterceptor auth) {
    return auth == null ? service.bindService() : ServerInterceptors.intercept(service, auth);
  }

  /** The issuer's token validator; a discovery document that fails its checks is a one-line refusal. */
  private static TokenRoles oidc(Config c) {
    String issuer = require(c.oidcIssuer(), "--oidc-issuer");
    try {
      return new TokenValidator(OidcDiscovery.fetch(issuer), c.oidcAudience());
    } catch (OidcDiscovery.DiscoveryException e) {
      throw new UserError(e.getMessage(), "check oidc-issuer: it must be exactly the issuer your identity provider"
          + " names in its discovery document");
    }
  }

  private void startWorker(int parallelism) {
    workerTarget = dialable(server);
    workerChannel = NettyChannelBuilder.forAddress(workerTarget).usePlaintext().build();
    var stub = ReconcileExecutorControlGrpc.newBlockingStub(workerChannel);
    if (inProcessToken != null) {
      String token = inProcessToken.value();
      stub = stub.withCallCredentials(new BearerCredentials(() -> token));
    }
    // in the server's process: woken by the ledger when file groups are ready, polling only as a fallback
    var ready = ledger.jobs().ready().of(java.util.Set.of(dev.conveyor.ledger.jobs.JobKind.EXEC_FILE_GROUP));
    worker = new CaptureWorker(stub, CaptureWorker.Options.defaults("in-process-capture")
        .withParallelism(parallelism).withIdlePoll(ControlLoops.IDLE_FALLBACK), supervisor,
        dev.conveyor.supervise.SlotLeases.Wakeup.of(ready::version, ready::awaitAfter)).start();
  }

  /**
   * Where this process reaches its own server: the address it actually bound, or for a wildcard bind
   * ({@code 0.0.0.0}, {@code ::}) the loopback address of the same family.
   */
  static InetSocketAddress dialable(Server server) {
    InetSocketAddress bound = (InetSocketAddress) server.getListenSockets().get(0);
    InetAddress address = bound.getAddress();
    if (address.isAnyLocalAddress()) {
      address = loopback(address instanceof Inet6Address ? "::1" : "127.0.0.1");
    }
    return new InetSocketAddress(address, bound.getPort());
  }

  private static InetAddress loopback(String literal) {
    try {
      return InetAddress.getByName(literal); // a literal: no name lookup
    } catch (java.net.UnknownHostException e) {
      throw new IllegalStateException(literal + " does not parse", e);
    }
  }

  public int port() {
    return server.getPort();
  }

  /** The address the in-process capture worker dials, or null when it does not run. */
  public InetSocketAddress captureWorkerTarget() {
    return worker == null ? null : workerTarget;
  }

  /** Whether this node runs a build worker. */
  public boolean runsBuildWorker() {
    return mergeQueue != null && mergeQueue.runsBuildWorker();
  }

  /** The supervisor of this node's loops (health and metrics read it). */
  public Supervisor supervisor() {
    return supervisor;
  }

  public boolean runsRunway() {
    return mergeQueue != null;
  }

  /** The HTTP port (status page at {@code /}, metrics at {@code /metrics}), or -1 when it is off. */
  public int httpPort() {
    return web == null ? -1 : web.port();
  }

  /** Names this process in leases, consumer groups and logs: host and pid, unique across a cluster. */
  static String nodeName() {
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "localhost";
    }
    return "serve-" + host + "-" + ProcessHandle.current().pid();
  }

  public boolean runsSubmitQueue() {
    return mergeQueue != null && mergeQueue.runsSubmitQueue();
  }

  /** Which builds run sandboxed and which do not (and why), for the banner. */
  public java.util.List<String> buildSandbox() {
    return mergeQueue == null ? java.util.List.of() : mergeQueue.buildSandbox();
  }

  public Ledger ledger() {
    return ledger;
  }

  /**
   * The SIGTERM path: reports NOT_SERVING, stops every loop from leasing, gives in-flight builds and
   * file groups the shutdown grace to finish and hands back the rest, lets in-flight calls finish,
   * then closes the ledger. Nothing is lost: what was not finished is ready for the next holder.
   */
  @Override
  public void close() {
    if (health != null) {
      health.enterTerminalState(); // NOT_SERVING first, so probes stop sending work while we drain
    }
    loops.close(); // the planner's leases are short and retried elsewhere; maintenance leadership is released
    if (web != null) {
      web.close();
    }
    if (worker != null) {
      worker.close(grace);
    }
    if (mergeQueue != null) {
      mergeQueue.close(grace);
    }
    if (workerChannel != null) {
      workerChannel.shutdownNow();
    }
    if (durability != null) {
      durability.close(); // followers are told to follow again elsewhere, so shutdown need not wait for them
    }
    if (executorService != null) {
      executorService.stopWaiting(); // remote workers waiting for work are answered now, not at their wait's end
    }
    server.shutdown();
    try {
      server.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    server.shutdownNow();
    if (metrics != null) {
      metrics.close();
    }
    ledger.close();
    log.info("stopped");
  }
}
