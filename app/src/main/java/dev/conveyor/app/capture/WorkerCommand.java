package dev.conveyor.app.capture;

import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.app.cli.ServerOption;
import dev.conveyor.capture.worker.CaptureWorker;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.ClientCredentialsTokens;
import dev.conveyor.reconcile.auth.OidcDiscovery;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "worker", mixinStandardHelpOptions = true, description = "Run a remote worker.",
    subcommands = {WorkerCommand.Capture.class, dev.conveyor.app.mergequeue.BuildWorkerCommand.class})
public final class WorkerCommand implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "capture", mixinStandardHelpOptions = true,
      description = "Lease and run capture file groups from a control plane until stopped.")
  static final class Capture implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--executor-id", description = "This worker's stable identity (default: capture-<host>-<pid>).")
    String executorId;

    @Option(names = "--parallelism", defaultValue = "2", description = "File groups at once (default: ${DEFAULT-VALUE}).")
    int parallelism;

    @Option(names = "--oidc-issuer", description = "Get tokens by OAuth2 client credentials from this issuer"
        + " (client secret from CONVEYOR_CLIENT_SECRET) instead of --token-file.")
    String oidcIssuer;

    @Option(names = "--client-id", defaultValue = "conveyor-capture-worker", description = "OAuth2 client id.")
    String clientId;

    @Option(names = "--audience", defaultValue = "conveyor", description = "Token audience.")
    String audience;

    @Override
    public Integer call() throws Exception {
      String id = executorId != null ? executorId
          : "capture-" + java.net.InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
      var channel = server.workerChannel();
      var stub = ReconcileExecutorControlGrpc.newBlockingStub(channel);
      if (oidcIssuer != null) {
        String secret = System.getenv("CONVEYOR_CLIENT_SECRET");
        if (secret == null) {
          throw new IllegalArgumentException("CONVEYOR_CLIENT_SECRET must hold the client secret with --oidc-issuer");
        }
        var tokens = new ClientCredentialsTokens(OidcDiscovery.fetch(oidcIssuer).tokenEndpoint(), clientId, secret,
            audience, Duration.ofSeconds(30), Clock.systemUTC());
        stub = stub.withCallCredentials(new BearerCredentials(tokens::token));
      } else {
        var tokenFile = server.followedTokenFile();
        if (!tokenFile.exists()) {
          System.out.println("no token file " + tokenFile.path() + " yet: working without a token until it appears"
              + " (it is re-read whenever it changes)");
        }
        stub = stub.withCallCredentials(tokenFile);
      }
      CaptureWorker worker = new CaptureWorker(stub, CaptureWorker.Options.defaults(id).withParallelism(parallelism))
          .start();
      CountDownLatch stopped = new CountDownLatch(1);
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        worker.close();
        channel.shutdownNow();
        stopped.countDown();
      }));
      System.out.println("capture worker " + id + " working for " + server.server() + " (executor ids "
          + Set.of("java-capture") + ")");
      stopped.await();
      return 0;
    }
  }
}
