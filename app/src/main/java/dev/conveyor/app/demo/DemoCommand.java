package dev.conveyor.app.demo;

import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.jobs.JobTreePrinter;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.nio.file.Path;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.RetryPolicy;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The end-to-end tour of what Conveyor runs today: a planner fans a capture-shaped job out into
 * file groups on the ledger; two workers lease them with heartbeats and progress; one group
 * fails once and is retried with backoff; one worker abandons a group mid-work and the reaper
 * hands it to the other worker after the lease lapses. Every completion publishes a job event in
 * the same transaction, and an audit consumer group reports them. Then a sample Parquet table is
 * captured through the reconcile control plane and its in-process worker.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Run the end-to-end tour on the embedded ledger: durable jobs (leases, retries, a reclaimed"
        + " lease, an outbox), then one all-in-one server that captures a sample Parquet table and lands sample"
        + " changes (conflicting, broken, stacked) through the merge queue, with a summary of each.",
        "The server then keeps serving its status page until Ctrl-C; --exit stops after the summary."})
public final class DemoCommand implements Callable<Integer> {
  @Mixin LedgerOption ledgerOption;

  @Option(names = "--groups", defaultValue = "8", description = "File groups to plan (default: ${DEFAULT-VALUE}).")
  int groups;

  @Option(names = "--data-dir", defaultValue = "conveyor-data",
      description = "Where the demo keeps its sample table and local token (default: ${DEFAULT-VALUE}).")
  java.nio.file.Path dataDir;

  @Option(names = "--http-port", defaultValue = "7421",
      description = "Port of the status page the demo leaves running; 0 picks a free one (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--exit", description = "Stop the server after the summary instead of leaving it running.")
  boolean exit;

  @Option(names = "--lease-ms", defaultValue = "1500",
      description = "Lease length; an abandoned group waits this long (default: ${DEFAULT-VALUE}).")
  long leaseMs;

  private ControlPlane startServer(dev.conveyor.submitqueue.config.SubmitQueues queues) throws java.io.IOException {
    ControlPlane.Config config = new ControlPlane.Config(ledgerOption.url(), dataDir, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", true, 2, new CapturePlanner.Limits(2, 1L << 30), queues, 4,
        httpPort);
    try {
      return ControlPlane.start(config);
    } catch (java.net.BindException e) {
      System.out.println("  server    port " + httpPort + " is taken; the status page takes a free port instead");
      return ControlPlane.start(new ControlPlane.Config(ledgerOption.url(), dataDir, "127.0.0.1", 0,
          ControlPlane.AuthMode.LOCAL, null, "conveyor", true, 2, new CapturePlanner.Limits(2, 1L << 30), queues, 4, 0));
    }
  }

  @Override
  public Integer call() throws Exception {
    if (groups < 2 || groups > 500) {
      throw new IllegalArgumentException("--groups must be between 2 and 500, got " + groups);
    }
    dev.conveyor.app.serve.DataDirectory.prepare(dataDir); // owner-only before the first tour writes into it
    RetryPolicy quick = new RetryPolicy(Duration.ofMillis(200), 2.0, Duration.ofSeconds(2), Duration.ofMillis(200));
    JobState end;
    String rootId;
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(ledgerOption.url()).withRetryPolicy(quick))) {
      System.out.println("Conveyor demo — ledger " + ledger.url());
      TopicRegistry topics = TopicRegistry.builder()
          .register(DemoRun.EVENTS, TopicConfig.defaults(DemoRun.EVENTS_WIRE).withPartitions(4)).build();
      DemoRun run;
      try (Streams streams = new Streams(ledger, topics)) {
        run = new DemoRun(ledger, streams, groups, Duration.ofMillis(leaseMs), System.out);
        rootId = run.execute();
      }
      System.out.println();
      JobTreePrinter.print(ledger.jobs().tree(rootId), System.out);
      end = ledger.jobs().get(rootId).state();
      System.out.println();
      System.out.println("Summary: root job " + rootId + " ended " + end + "; " + run.summary());
    }
    System.out.println();
    System.out.println("All-in-one server: capture and merge queue on one node");
    Path tableDir = CaptureTour.prepare(dataDir, System.out);
    MergeQueueTour.Prepared repo = MergeQueueTour.prepare(dataDir, System.out);
    ControlPlane plane = startServer(repo.queues());
    try {
      System.out.println("  server    gRPC on 127.0.0.1:" + plane.port() + ", status page http://127.0.0.1:"
          + plane.httpPort() + "/ — capture worker, Runway, SubmitQueue and a build worker in process");
      System.out.println();
      System.out.println("Capture: Parquet statistics through the reconcile control plane");
      if (!CaptureTour.run(plane, dataDir, tableDir, System.out)) {
        end = JobState.FAILED;
      }
      System.out.println();
      System.out.println("Merge queue: changes landed through SubmitQueue, built, and merged by Runway");
      if (!MergeQueueTour.run(plane, dataDir, repo, System.out)) {
        end = JobState.FAILED;
      }
      String ledgerFlag = ledgerOption.url().startsWith("sqlite:conveyor-data/") ? "" : " --ledger " + ledgerOption.url();
      System.out.println();
      System.out.println("Look again with: bin/conveyor jobs show " + rootId + ledgerFlag);
      System.out.println("            and: bin/conveyor queue lag --group demo-audit" + ledgerFlag);
      System.out.println("Status page: http://127.0.0.1:" + plane.httpPort() + "/   (metrics at /metrics)");
      if (!exit) {
        System.out.println("The server keeps running with the demo's queue and table; Ctrl-C stops it.");
        Runtime.getRuntime().addShutdownHook(new Thread(plane::close, "shutdown"));
        plane = null; // closed by the shutdown hook
        new java.util.concurrent.CountDownLatch(1).await();
      }
    } finally {
      if (plane != null) {
        plane.close();
      }
    }
    return end == JobState.SUCCEEDED ? 0 : 1;
  }
}
