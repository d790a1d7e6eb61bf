package dev.conveyor.capture.worker;

import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.ReleaseReconcileLeaseRequest;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub;
import dev.conveyor.supervise.SlotLeases;
import dev.conveyor.supervise.Supervisor;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A remote capture worker: {@code parallelism} loops, each leasing one EXEC_FILE_GROUP at a time
 * with this worker's stable executor id and the executor ids it satisfies, and running it through
 * {@link FileGroupRun}. Heartbeats run on their own scheduler, well inside the lease.
 */
public final class CaptureWorker implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(CaptureWorker.class);

  /**
   * {@code maxResultBytes}: a success result larger than this is sent in chunks of at most this size
   * (the default stays well below gRPC's 4 MiB message limit).
   */
  public record Options(String executorId, Set<String> executorIds, int parallelism, Duration lease,
      Duration idlePoll, int maxResultBytes, Duration leaseWait) {
    public static final int DEFAULT_MAX_RESULT_BYTES = 2 * 1024 * 1024;

    public Options {
      if (executorId == null || executorId.isBlank()) {
        throw new IllegalArgumentException("executor id must not be empty");
      }
      if (parallelism < 1) {
        throw new IllegalArgumentException("parallelism must be at least 1");
      }
      if (maxResultBytes < 1024) {
        throw new IllegalArgumentException("max result bytes must be at least 1024");
      }
      if (leaseWait == null || leaseWait.isNegative() || leaseWait.toMillis() > 20_000) {
        throw new IllegalArgumentException("lease wait must be between 0 and 20 s (the server's most)");
      }
    }

    public static Options defaults(String executorId) {
      return new Options(executorId, Set.of("java-capture"), 2, Duration.ofSeconds(30), Duration.ofMillis(500),
          DEFAULT_MAX_RESULT_BYTES, LEASE_WAIT);
    }

    public Options withParallelism(int n) {
      return new Options(executorId, executorIds, n, lease, idlePoll, maxResultBytes, leaseWait);
    }

    public Options withLease(Duration d) {
      return new Options(executorId, executorIds, parallelism, d, idlePoll, maxResultBytes, leaseWait);
    }

    public Options withIdlePoll(Duration d) {
      return new Options(executorId, executorIds, parallelism, lease, d, maxResultBytes, leaseWait);
    }

    public Options withMaxResultBytes(int n) {
      return new Options(executorId, executorIds, parallelism, lease, idlePoll, n, leaseWait);
    }

    /** How long a remote worker's idle lease call waits inside the server for work (a long poll). */
    public Options withLeaseWait(Duration d) {
      return new Options(executorId, executorIds, parallelism, lease, idlePoll, maxResultBytes, d);
    }
  }

  private final ReconcileExecutorControlBlockingStub rpc;
  private final Options options;
  private final ExecutorService loops;
  private final ScheduledExecutorService heartbeats;
  private final AtomicInteger groupsDone = new AtomicInteger();
  private final java.util.Map<String, LeasedReconcileJob> inFlight = new java.util.concurrent.ConcurrentHashMap<>();
  private volatile boolean running = true;

  private final Supervisor supervisor;
  /** The server's cap on jobs per lease call (ReconcileExecutorService.MAX_JOBS_PER_LEASE). */
  private static final int MAX_JOBS_PER_LEASE = 100;
  private final SlotLeases<LeasedReconcileJob> slots;
  /** How long an idle remote worker's lease call waits inside the server for a job to become ready. */
  static final Duration LEASE_WAIT = Duration.ofSeconds(10);
  /**
   * How much longer than its wait a lease call may take before the worker gives up on it. A call the network
   * swallowed (a NAT or firewall dropped the flow, the server's host went away: no reset) would otherwise
   * hold the slots' leasing turn forever; it fails instead, and the loop retries with backoff on a channel
   * whose keep-alive ({@link WorkerChannels}) has meanwhile replaced the dead connection.
   */
  static final Duration LEASE_ANSWER_MARGIN = Duration.ofSeconds(5);
  /** Every other call of a worker ends within this, for the same reason (a result chunk is at most 2 MiB). */
  static final Duration CALL_DEADLINE = Duration.ofSeconds(60);
  private final boolean inServerProcess;

  public CaptureWorker(ReconcileExecutorControlBlockingStub rpc, Options options) {
    this(rpc, options, Supervisor.create());
  }

  /** {@code supervisor} restarts a lease loop that throws anything and reports its health. */
  public CaptureWorker(ReconcileExecutorControlBlockingStub rpc, Options options, Supervisor supervisor) {
    this(rpc, options, supervisor, null);
  }

  /**
   * As above; an idle slot waits for {@code wakeup} (the ledger's job wake-ups, for a worker inside the
   * server's process) or the idle poll, whichever comes first. Null: it sleeps the idle poll.
   */
  public CaptureWorker(ReconcileExecutorControlBlockingStub rpc, Options options, Supervisor supervisor,
      SlotLeases.Wakeup wakeup) {
    this.supervisor = supervisor;
    this.rpc = rpc.withInterceptors(WorkerChannels.defaultDeadline(CALL_DEADLINE));
    this.options = options;
    this.inServerProcess = wakeup != null;
    this.slots = wakeup == null ? new SlotLeases<>(options.parallelism(), MAX_JOBS_PER_LEASE, options.idlePoll())
        : new SlotLeases<>(options.parallelism(), MAX_JOBS_PER_LEASE, options.idlePoll(), wakeup);
    this.loops = Executors.newFixedThreadPool(options.parallelism(), r -> daemon(r, "capture-" + options.executorId()));
    this.heartbeats = Executors.newScheduledThreadPool(1, r -> daemon(r, "heartbeat-" + options.executorId()));
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public CaptureWorker start() {
    for (int i = 0; i < options.parallelism(); i++) {
      loops.execute(() -> supervisor.run("capture-worker", () -> running, this::loop));
    }
    return this;
  }

  /** File groups this worker has finished (any outcome). */
  public int groupsDone() {
    return groupsDone.get();
  }

  /** One slot; {@link SlotLeases} leases for every free slot in one call and hands spare grants on. */
  private void loop() {
    LeaseReconcileJobRequest request = LeaseReconcileJobRequest.newBuilder().setExecutorId(options.executorId())
        .addJobKinds(JobKind.RJK_EXEC_FILE_GROUP).addAllExecutorIds(options.executorIds())
        .setLeaseMs(options.lease().toMillis())
        // a remote worker waits for work inside the server (a long poll); one in the server's process waits here
        .setWaitMs(inServerProcess ? 0 : options.leaseWait().toMillis()).build();
    long leaseDeadlineMillis = request.getWaitMs() + LEASE_ANSWER_MARGIN.toMillis();
    int failures = 0; // in a row: the wait doubles (to 5 s) and only the 1st, 2nd, 4th, 8th… are logged
    while (running) {
      try {
        LeasedReconcileJob job = slots.next(want -> {
          List<LeasedReconcileJob> jobs = rpc.withDeadlineAfter(leaseDeadlineMillis, TimeUnit.MILLISECONDS)
              .leaseReconcileJob(request.toBuilder().setMaxJobs(want).build()).getJobsList();
          jobs.forEach(j -> inFlight.put(j.getJobId(), j));
          return jobs;
        });
        failures = 0;
        if (job == null) {
          continue;
        }
        try (var logged = org.slf4j.MDC.putCloseable("job", job.getJobId())) {
          new FileGroupRun(rpc, heartbeats, options.lease(), options.maxResultBytes(), job, supervisor).run();
        } finally {
          slots.finished();
          if (running) { // once closing, close() settles every job this worker touched
            inFlight.remove(job.getJobId());
          }
        }
        groupsDone.incrementAndGet();
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        failures++;
        if (Integer.bitCount(failures) == 1) {
          log.warn("capture worker {}: {}{}", options.executorId(), e.getMessage(),
              failures > 1 ? " (" + failures + " failures in a row; retrying with backoff)" : "");
        }
        try {
          TimeUnit.MILLISECONDS.sleep(Math.min(5_000L,
              options.idlePoll().toMillis() << Math.min(failures - 1, 10)));
        } catch (InterruptedException ie) {
          return;
        }
      }
    }
  }

  /** Stops at once: in-flight file groups are handed back for another worker. */
  @Override
  public void close() {
    close(Duration.ZERO);
  }

  /**
   * Stops leasing, lets in-flight file groups finish for up to {@code grace}, then interrupts the
   * rest and hands their leases back (from this thread: the interrupted ones cannot call out), so
   * another worker takes them at once instead of after the lease expires.
   */
  public void close(Duration grace) {
    running = false;
    loops.shutdown();
    try {
      if (!loops.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        loops.shutdownNow();
        loops.awaitTermination(5, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      loops.shutdownNow();
      Thread.currentThread().interrupt();
    }
    heartbeats.shutdownNow();
    for (LeasedReconcileJob job : List.copyOf(inFlight.values())) {
      try {
        boolean released = rpc.releaseReconcileLease(ReleaseReconcileLeaseRequest.newBuilder()
            .setJobId(job.getJobId()).setLeaseEpoch(job.getLeaseEpoch())
            .setReason("worker " + options.executorId() + " shutting down").build()).getReleased();
        log.info("capture worker {}: {} file group {}", options.executorId(),
            released ? "handed back" : "had already lost", job.getJobId());
      } catch (RuntimeException e) {
        log.warn("capture worker {}: could not hand back {} ({}); it returns when its lease expires",
            options.executorId(), job.getJobId(), e.getMessage());
      }
    }
  }
}
