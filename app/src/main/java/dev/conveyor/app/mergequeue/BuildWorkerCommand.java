package dev.conveyor.app.mergequeue;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.runway.RunwayQueuesOption;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.submitqueue.build.BuildRunners;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "build", mixinStandardHelpOptions = true,
    description = "Lease and run SubmitQueue builds until stopped. Build workers reach the ledger directly"
        + " (use the shared PostgreSQL ledger on other machines; a SQLite ledger must already exist, made by"
        + " serve) and need the queues file for the build commands; the git cache and build trees stay under"
        + " --data-dir.")
public final class BuildWorkerCommand implements Callable<Integer> {
  @Mixin LedgerOption ledgerOption;

  @Option(names = "--queues", paramLabel = "FILE", description = "Default: <data-dir>/queues.properties.")
  Path queuesFile;

  @Option(names = "--data-dir", defaultValue = "conveyor-data",
      description = "Where the git cache and build directories live (default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--parallelism", defaultValue = "2", description = "Builds at once (default: ${DEFAULT-VALUE}).")
  int parallelism;

  @Option(names = "--executor-id", description = "This worker's identity (default: build-<host>-<pid>).")
  String executorId;

  @Override
  public Integer call() throws Exception {
    SubmitQueues queues = RunwayQueuesOption.loadIfPresent(queuesFile, dataDir);
    if (queues == null || queues.all().isEmpty()) {
      throw new UserError("no SubmitQueue queues configured", "pass --queues FILE with queue.<name>.build-command");
    }
    String id = executorId != null ? executorId
        : "build-" + java.net.InetAddress.getLocalHost().getHostName() + "-" + ProcessHandle.current().pid();
    // a worker never creates the ledger: its queues' requests live in the one serve made (the shared
    // PostgreSQL, or serve's SQLite file on this machine); opening anything else would idle forever
    Ledger ledger = ledgerOption.openExisting();
    // its git cache and build trees are private source code, like serve's
    dev.conveyor.app.serve.DataDirectory.prepare(dataDir);
    Streams streams = new Streams(ledger, Topics.registry());
    BuildWorker worker = new BuildWorker(ledger, new Signals(streams.publisher()), queues,
        new GitMerger(new RepositoryCache(dataDir.resolve("build-cache")), Clock.systemUTC()),
        BuildWorker.Options.defaults(id, dataDir.resolve("builds")).withParallelism(parallelism)
            // on PostgreSQL a build queued by any node wakes this worker (NOTIFY); the poll is only a fallback
            .withIdlePoll(ledger.jobs().ready().hearsOtherProcesses() ? java.time.Duration.ofSeconds(10)
                : java.time.Duration.ofMillis(500))
            .withRunners(BuildRunners.detect(dataDir))).start();
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      worker.close();
      streams.close();
      ledger.close();
      stopped.countDown();
    }, "shutdown"));
    System.out.println("conveyor: build worker " + id + " on " + ledger.url() + " for queues " + queues.names());
    worker.sandboxSummary().forEach(line -> System.out.println("conveyor: " + line));
    stopped.await();
    return 0;
  }
}
