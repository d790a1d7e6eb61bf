package dev.conveyor.app.serve;

import dev.conveyor.ledger.maintenance.Maintenance;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.schedule.CaptureSchedules;
import dev.conveyor.supervise.Supervisor;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's own loops, each supervised on its own thread (named after the loop): the
 * capture planner's three classes (tables, snapshots, finalize), each leasing until it finds nothing and
 * then waiting for the ledger's job wake-up (or {@link #IDLE_FALLBACK}); the capture scheduler (every
 * {@link #IDLE_FALLBACK}); maintenance (election every sixth of its lease, at most every
 * {@link #IDLE_FALLBACK}; the leader reaps expired leases, and runs retention every
 * {@code retention.interval}); and the health watch, which reports NOT_SERVING for every service while any
 * supervised loop of the process is unhealthy and SERVING again once they all recover. An idle node's
 * ledger traffic is these fallbacks and the consumer heartbeat: a few transactions a second.
 */
final class ControlLoops implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(ControlLoops.class);
  /** The table-planning loop; snapshot planning and finalizing have loops of their own (PlannerClass). */
  static final String PLANNER = CapturePlanner.PlannerClass.TABLES.loopName();
  static final String SCHEDULER = "capture-scheduler";
  static final String MAINTENANCE = "maintenance-leader";
  static final String RETENTION = "retention";
  static final String HEALTH = "health-watch";

  private final Supervisor supervisor;
  private final List<ScheduledExecutorService> threads = new ArrayList<>();
  private Maintenance maintenance;

  private ControlLoops(Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  /**
   * Starts the loops; {@code health} (with {@code services}, the names it reports on) may be null for
   * a process without a health service.
   */
  static ControlLoops start(dev.conveyor.ledger.Ledger ledger, CapturePlanner planner, CaptureSchedules schedules,
      Maintenance maintenance, Supervisor supervisor, HealthStatusManager health, List<String> services) {
    ControlLoops loops = new ControlLoops(supervisor);
    loops.maintenance = maintenance;
    // one loop per planner class: a 200-group fan-out or a long finalize never delays another table's planning
    var ready = ledger.jobs().ready();
    for (CapturePlanner.PlannerClass c : CapturePlanner.PlannerClass.values()) {
      loops.whenWoken(c.loopName(), ready.of(c.kinds()), () -> planner.runOnce("control-plane-planner", 16, c));
    }
    // every node looks for due schedules; a compare-and-set in the ledger lets one of them start each run
    loops.every(SCHEDULER, IDLE_FALLBACK.toMillis(), () -> schedules.runDue(16));
    // every node stands for election; only the leader reaps expired leases and runs retention
    long leadEvery = Math.max(100, Math.min(IDLE_FALLBACK.toMillis(), maintenance.options().lease().toMillis() / 6));
    loops.every(MAINTENANCE, leadEvery, maintenance::lead);
    loops.every(RETENTION, 5_000, maintenance::retainIfDue);
    if (health != null) {
      HealthWatch watch = new HealthWatch(supervisor, health, services);
      watch.refresh(); // every service reports a status before the first probe can ask
      loops.every(HEALTH, 500, watch::refresh);
    }
    return loops;
  }

  /** How long an idle loop goes without looking at the ledger when nothing wakes it. */
  static final java.time.Duration IDLE_FALLBACK = java.time.Duration.ofSeconds(10);

  /** Work that answers how much it did: run again at once after work, else when jobs may be ready. */
  @FunctionalInterface
  interface Batch {
    int run() throws Exception;
  }

  private volatile boolean running = true;

  private void whenWoken(String name, dev.conveyor.ledger.jobs.JobWakeups.Waiting ready, Batch batch) {
    ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    threads.add(thread);
    thread.execute(() -> supervisor.run(name, () -> running, () -> {
      while (running) {
        long seen = ready.version(); // before leasing: a job made ready meanwhile is not slept through
        if (batch.run() == 0) {
          ready.awaitAfter(seen, IDLE_FALLBACK);
        }
      }
    }));
  }

  private void every(String name, long periodMs, Supervisor.Body body) {
    ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    });
    threads.add(thread);
    thread.scheduleWithFixedDelay(supervisor.periodic(name, body), 0, periodMs, TimeUnit.MILLISECONDS);
  }

  /** Stops every loop; leases a planner took are short and retried by whoever runs next. */
  @Override
  public void close() {
    running = false;
    threads.forEach(ScheduledExecutorService::shutdownNow);
    try {
      maintenance.close(); // another node leads at once instead of after the lease
    } catch (RuntimeException e) {
      log.warn("could not release maintenance leadership ({}); another node takes over when it expires",
          e.getMessage());
    }
    for (CapturePlanner.PlannerClass c : CapturePlanner.PlannerClass.values()) {
      supervisor.stopped(c.loopName(), "the node is shutting down");
    }
    for (String name : List.of(SCHEDULER, MAINTENANCE, RETENTION, HEALTH)) {
      supervisor.stopped(name, "the node is shutting down");
    }
  }

  /** Turns the supervisor's verdict into the gRPC health status of every service. */
  static final class HealthWatch {
    private final Supervisor supervisor;
    private final HealthStatusManager health;
    private final List<String> services;
    private Boolean serving;

    HealthWatch(Supervisor supervisor, HealthStatusManager health, List<String> services) {
      this.supervisor = supervisor;
      this.health = health;
      this.services = List.copyOf(services);
    }

    synchronized void refresh() {
      List<String> unhealthy = supervisor.unhealthy();
      boolean now = unhealthy.isEmpty();
      if (serving != null && serving == now) {
        return;
      }
      ServingStatus status = now ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
      health.setStatus(HealthStatusManager.SERVICE_NAME_ALL_SERVICES, status);
      for (String service : services) {
        health.setStatus(service, status);
      }
      if (serving != null) {
        if (now) {
          log.info("health: SERVING again; every supervised loop recovered");
        } else {
          log.error("health: NOT_SERVING while these loops keep failing: {}", unhealthy);
        }
      }
      serving = now;
    }
  }
}
