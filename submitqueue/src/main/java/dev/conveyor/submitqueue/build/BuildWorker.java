package dev.conveyor.submitqueue.build;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Leases BUILD jobs and runs them, {@code parallelism} at a time. Runs in {@code conveyor serve} by
 * default and as {@code conveyor worker build} on other machines that reach the same ledger.
 */
public final class BuildWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(BuildWorker.class);

  public record Options(String executorId, int parallelism, Duration lease, Duration idlePoll, Path workRoot) {
    public static Options defaults(String executorId, Path workRoot) {
      return new Options(executorId, 2, Duration.ofSeconds(30), Duration.ofMillis(500), workRoot);
    }

    public Options withParallelism(int n) {
      return new Options(executorId, n, lease, idlePoll, workRoot);
    }

    public Options withIdlePoll(Duration d) {
      return new Options(executorId, parallelism, lease, d, workRoot);
    }
  }

  private final Ledger ledger;
  private final Signals signals;
  private final SubmitQueues queues;
  private final GitMerger merger;
  private final Options options;
  private final ExecutorService threads;
  private volatile boolean closed;

  public BuildWorker(Ledger ledger, Signals signals, SubmitQueues queues, GitMerger merger, Options options) {
    this.ledger = ledger;
    this.signals = signals;
    this.queues = queues;
    this.merger = merger;
    this.options = options;
    this.threads = Executors.newFixedThreadPool(options.parallelism(), r -> {
      Thread t = new Thread(r, "build-worker");
      t.setDaemon(true);
      return t;
    });
  }

  public BuildWorker start() {
    for (int i = 0; i < options.parallelism(); i++) {
      threads.submit(this::loop);
    }
    return this;
  }

  private void loop() {
    LeaseRequest request = new LeaseRequest(options.executorId(), Set.of(JobKind.BUILD), Set.of(), Set.of(), Set.of(),
        1, options.lease());
    while (!closed) {
      try {
        var grant = ledger.jobs().leaseOne(request);
        if (grant.isEmpty()) {
          idle();
          continue;
        }
        new BuildRun(ledger, signals, queues, merger, grant.get(), options.workRoot(), options.lease()).run();
      } catch (RuntimeException e) {
        log.warn("build worker {}: {}", options.executorId(), e.toString());
        idle();
      }
    }
  }

  private void idle() {
    try {
      // polling for new jobs; a wake-up channel is not worth it at build timescales
      TimeUnit.MILLISECONDS.sleep(options.idlePoll().toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  @Override
  public void close() {
    closed = true;
    threads.shutdownNow();
    try {
      threads.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
