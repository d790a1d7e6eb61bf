package dev.conveyor.submitqueue.build;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.submitqueue.ci.StagingSweeper;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.supervise.SlotLeases;
import dev.conveyor.supervise.Supervisor;
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

  /**
   * {@code runners} decide where builds run; by default bubblewrap when usable, hiding {@code workRoot}'s
   * parent (pass the data directory's with {@link #withRunners}).
   */
  public record Options(String executorId, int parallelism, Duration lease, Duration idlePoll, Path workRoot,
      BuildObserver observer, BuildRunners runners, LogLimits logLimits) {
    public Options(String executorId, int parallelism, Duration lease, Duration idlePoll, Path workRoot,
        BuildObserver observer, BuildRunners runners) {
      this(executorId, parallelism, lease, idlePoll, workRoot, observer, runners, LogLimits.DEFAULT);
    }

    /** With the default runners. */
    public Options(String executorId, int parallelism, Duration lease, Duration idlePoll, Path workRoot,
        BuildObserver observer) {
      this(executorId, parallelism, lease, idlePoll, workRoot, observer, BuildRunners.detect(hiddenBy(workRoot)));
    }

    public static Options defaults(String executorId, Path workRoot) {
      return new Options(executorId, 2, Duration.ofSeconds(30), Duration.ofMillis(500), workRoot, BuildObserver.NONE);
    }

    private static Path hiddenBy(Path workRoot) {
      Path abs = workRoot.toAbsolutePath();
      return abs.getParent() == null ? abs : abs.getParent();
    }

    public Options withParallelism(int n) {
      return new Options(executorId, n, lease, idlePoll, workRoot, observer, runners, logLimits);
    }

    public Options withIdlePoll(Duration d) {
      return new Options(executorId, parallelism, lease, d, workRoot, observer, runners, logLimits);
    }

    public Options withObserver(BuildObserver o) {
      return new Options(executorId, parallelism, lease, idlePoll, workRoot, o, runners, logLimits);
    }

    public Options withRunners(BuildRunners r) {
      return new Options(executorId, parallelism, lease, idlePoll, workRoot, observer, r, logLimits);
    }

    /** How much of each build's output the ledger keeps (head and tail). */
    public Options withLogLimits(LogLimits l) {
      return new Options(executorId, parallelism, lease, idlePoll, workRoot, observer, runners, l);
    }
  }

  private final Ledger ledger;
  private final Signals signals;
  private final SubmitQueues queues;
  private final Merger merger;
  private final Options options;
  private final ExecutorService threads;
  private final Supervisor supervisor;
  private final java.util.List<String> sandboxSummary;
  private volatile boolean closed;
  private final java.util.Map<String, LeaseGrant> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
  private final SlotLeases<LeaseGrant> slots;
  private final StagingSweeper sweeper;
  private static final Duration SWEEP_EVERY = Duration.ofSeconds(5);

  /**
   * Refuses (IllegalArgumentException) queues this machine cannot run as configured, and logs once
   * which builds run sandboxed and which do not.
   */
  public BuildWorker(Ledger ledger, Signals signals, SubmitQueues queues, Merger merger, Options options) {
    this(ledger, signals, queues, merger, options, Supervisor.create());
  }

  /** {@code supervisor} restarts a build loop that throws anything and reports its health. */
  public BuildWorker(Ledger ledger, Signals signals, SubmitQueues queues, Merger merger, Options options,
      Supervisor supervisor) {
    this.supervisor = supervisor;
    options.runners().check(queues);
    this.sandboxSummary = options.runners().summary(queues);
    for (String line : sandboxSummary) {
      if (line.startsWith("WARNING")) {
        log.warn("build worker {}: {}", options.executorId(), line);
      } else {
        log.info("build worker {}: {}", options.executorId(), line);
      }
    }
    this.ledger = ledger;
    this.signals = signals;
    this.queues = queues;
    this.merger = merger;
    this.options = options;
    this.sweeper = new StagingSweeper(ledger, merger, queues);
    // a build queued by any process is leased at once, not at the next poll; other kinds do not wake it
    var ready = ledger.jobs().ready().of(java.util.Set.of(dev.conveyor.ledger.jobs.JobKind.BUILD));
    this.slots = new SlotLeases<>(options.parallelism(), LeaseRequest.MAX_BATCH, options.idlePoll(),
        SlotLeases.Wakeup.of(ready::version, ready::awaitAfter));
    this.threads = Executors.newFixedThreadPool(options.parallelism(), r -> {
      Thread t = new Thread(r, "build-worker");
      t.setDaemon(true);
      return t;
    });
  }

  /** Which builds run sandboxed and which do not (and why), one line each, for the operator. */
  public java.util.List<String> sandboxSummary() {
    return sandboxSummary;
  }

  public BuildWorker start() {
    for (int i = 0; i < options.parallelism(); i++) {
      threads.execute(() -> supervisor.run("build-worker", () -> !closed, this::loop));
    }
    if (sweeper.needed()) {
      Thread t = new Thread(() -> supervisor.run("ci-staging-sweeper", () -> !closed, this::sweepLoop),
          "ci-staging-sweeper");
      t.setDaemon(true);
      t.start();
    }
    return this;
  }

  /** Removes staging refs of external builds that ended (see {@link StagingSweeper}), every few seconds. */
  private void sweepLoop() {
    while (!closed) {
      sweeper.sweep(100);
      idle(SWEEP_EVERY.toMillis());
    }
  }

  /** One build slot; {@link SlotLeases} leases for every free slot at once (one transaction for several builds). */
  private void loop() {
    int failures = 0;
    while (!closed) {
      try {
        var grant = nextGrant();
        failures = 0;
        if (grant.isEmpty()) {
          continue;
        }
        String jobId = grant.get().job().id();
        try {
          long started = System.nanoTime();
          BuildRun run = new BuildRun(ledger, signals, queues, merger, options.runners(), grant.get(),
              options.workRoot(), options.lease(), options.logLimits(), options.observer());
          run.run();
          options.observer().built(run.queue(), closed && run.outcome().equals("stopped") ? "stopped" : run.outcome(),
              Duration.ofNanos(System.nanoTime() - started));
        } finally {
          slots.finished();
          if (!closed) { // once closing, close() settles every job this worker touched
            inFlight.remove(jobId);
          }
        }
      } catch (RuntimeException e) {
        // a ledger outage outlasting the ledger's own retries: back off rather than spin or log in a loop
        failures++;
        log.warn("build worker {}: {}", options.executorId(), e.toString());
        idle(Math.min(30_000, Math.min(500, options.idlePoll().toMillis()) << Math.min(6, failures)));
      }
    }
  }

  /** A grant for this slot, or empty after an idle poll interval without one. */
  private java.util.Optional<LeaseGrant> nextGrant() {
    try {
      return java.util.Optional.ofNullable(slots.next(want -> {
        var grants = ledger.jobs().lease(new LeaseRequest(options.executorId(), Set.of(JobKind.BUILD), Set.of(),
            Set.of(), Set.of(), want, options.lease()));
        for (LeaseGrant g : grants) {
          inFlight.put(g.job().id(), g);
        }
        if (!grants.isEmpty()) {
          try {
            options.observer().leased(grants.size());
          } catch (RuntimeException e) { // metrics must not strand the grants just leased
            log.warn("build worker {}: lease observer failed: {}", options.executorId(), e.toString());
          }
        }
        return grants;
      }));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
      return java.util.Optional.empty();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private void idle() {
    idle(options.idlePoll().toMillis());
  }

  private void idle(long millis) {
    try {
      // backing off after a failure (idle slots wait for the ledger's wake-up inside SlotLeases)
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
    }
  }

  /** Stops at once: running builds are killed and handed back. */
  @Override
  public void close() {
    close(Duration.ZERO);
  }

  /**
   * Stops leasing, lets running builds finish for up to {@code grace}, then kills the rest and hands
   * their jobs back (from this thread, as the interrupted ones cannot reach the ledger), so another
   * worker rebuilds them at once rather than after the lease expires.
   */
  public void close(Duration grace) {
    closed = true;
    threads.shutdown();
    try {
      if (!threads.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        threads.shutdownNow();
        threads.awaitTermination(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      threads.shutdownNow();
      Thread.currentThread().interrupt();
    }
    for (var grant : java.util.List.copyOf(inFlight.values())) {
      try {
        boolean released = ledger.jobs().handBack(grant.job().id(), grant.epoch(),
            "build worker " + options.executorId() + " shutting down");
        log.info("build worker {}: {} build {}", options.executorId(), released ? "handed back" : "had already ended",
            grant.job().id());
      } catch (RuntimeException e) {
        log.warn("build worker {}: could not hand back {} ({}); it returns when its lease expires",
            options.executorId(), grant.job().id(), e.getMessage());
      }
    }
  }
}
